/**
 * Seed scenario "delete everything", with the agent as a real process on sandbox node1
 * (`--gateway-chassis node1`): every example topology at once (vpc-two-subnets, private-subnet,
 * vpc-peering, nat-outgoing with its external VLAN subnet on ProviderNetwork `tor` over a veth
 * `eth1` in the node) and workload ports on four subnets (two namespaces, two networks each).
 * Then the manifests directory is emptied and the ports are deleted (`vpc-agent port del`, as a
 * process). Afterwards no NB row owned by the agent remains (every table it writes, by
 * `external_ids` owner) — the undeclared default VPC `ovn-cluster` keeps a router only while it
 * has subnets — nor any OVS bridge, port or interface of ours, veth, or our bridge
 * mapping; the uplink `eth1` itself is left alone and the host is as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  clearManifests,
  createVmNamespace,
  find,
  nbRows,
  OWNED_NB_TABLES,
  ownedNbRows,
  readExample,
  startAgentProcess,
  writeManifest,
  type AgentProcess,
} from '../../harness/agent.js';
import { snapshotHost, useSandbox, useTmpDir, type HostSnapshot } from '../../harness/index.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('delall');
let agent: AgentProcess;
let host: HostSnapshot;
const vms: string[] = [];
const ports: PortResult[] = [];

const nodeNs = () => ctx.sandbox.node().netns;
const vsctl = (...args: string[]) => ctx.sandbox.vsctl('node1', ...args);
const nodeLinks = async () => (await run('ip', ['-n', nodeNs(), '-br', 'link'])).stdout;

beforeAll(async () => {
  host = await snapshotHost();
  const sb = ctx.sandbox;
  // The uplink of ProviderNetwork tor: a veth whose peer stays in the node (no ToR needed here).
  await run('ip', ['-n', nodeNs(), 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer']);
  const dir = `${tmp.dir}/manifests`;
  for (const ex of ['vpc-two-subnets', 'private-subnet', 'vpc-peering', 'nat-outgoing'])
    await writeManifest(dir, `${ex}.yaml`, await readExample(ex));
  const underlay = await readExample('vlan-underlay');
  await writeManifest(dir, 'external.yaml', [
    find(underlay, 'ProviderNetwork', 'tor'),
    find(underlay, 'Vlan', 'vlan2017'),
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 'ovn-vpc-external-network' },
      spec: { cidrBlock: '198.51.100.0/24', gateway: '198.51.100.1', vlan: 'vlan2017' },
    },
  ]);
  agent = await startAgentProcess({ sandbox: sb, dir: tmp.dir, args: ['--gateway-chassis', 'node1'] });
  const plan: [string, string[]][] = [
    ['vma', ['default/vswitch1', 'default/db']],
    ['vmb', ['default/peer1', 'default/natted']],
  ];
  for (const [name, networks] of plan) {
    const ns = await createVmNamespace(sb, name);
    vms.push(ns);
    for (const network of networks) ports.push(await agent.api.add({ network, netns: ns }));
  }
});

afterAll(async () => {
  await agent?.stop();
});

describe('deleting every resource and port', () => {
  it('before: owned rows in every NB table the agent writes, br-tor, our mapping, four veths', async () => {
    const owned = await ownedNbRows(ctx.sandbox);
    // Logical_Router_Policy: no example declares policyRoutes.
    expect(Object.keys(owned).sort()).toEqual(
      OWNED_NB_TABLES.filter((t) => t !== 'Logical_Router_Policy').sort(),
    );
    expect(owned['Logical_Switch_Port']).toEqual(expect.arrayContaining(ports.map((p) => `lsp/${p.name}`)));
    expect(await vsctl('list-br')).toBe('br-int\nbr-tor');
    expect(await vsctl('get', 'open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe('"tor:br-tor"');
    for (const p of ports) expect(await nodeLinks()).toContain(p.hostIfname);
    expect(ports.map((p) => p.ifname)).toEqual(['eth0', 'net1', 'eth0', 'net1']);
  });

  it('after emptying the manifests and port del: nothing of ours in NB, OVS or the namespaces', async () => {
    await clearManifests(agent.manifests);
    for (const ns of vms) {
      const r = await agent.cli(['del', '--netns', ns]);
      expect(r.exitCode, `${r.stderr}\n${await agent.log()}`).toBe(0);
      expect((JSON.parse(r.stdout) as { deleted: PortResult[] }).deleted).toHaveLength(2);
    }
    await waitUntil(async () => JSON.stringify(await ownedNbRows(ctx.sandbox)) === JSON.stringify({}), {
      what: 'no NB row owned by the agent',
      timeoutMs: 20_000,
    });
    // The sandbox NB started empty: nothing at all is left in the tables the agent writes
    // (the undeclared default VPC's router goes with its last subnet).
    for (const table of OWNED_NB_TABLES) expect(await nbRows(ctx.sandbox, table), table).toEqual([]);
    await waitUntil(async () => (await vsctl('list-br')) === 'br-int', { what: 'br-tor removed' });
    const ids = await vsctl('get', 'open_vswitch', '.', 'external_ids');
    expect(ids).not.toContain('ovn-bridge-mappings');
    expect(ids).not.toContain('vpc-agent.io');
    // Only ovn-controller's patch ports may linger on br-int (it removes them in its own time,
    // seconds here); none of ours.
    const brInt = (await vsctl('list-ports', 'br-int')).split('\n').filter(Boolean);
    expect(brInt.filter((p) => !p.startsWith('patch-br-int-to-'))).toEqual([]);
    for (const table of ['bridge', 'port', 'interface'])
      expect(await vsctl('--bare', '--columns=external_ids', 'list', table), table).not.toContain(
        'vpc-agent.io',
      );
    const links = await nodeLinks();
    expect(links).not.toMatch(/^h[0-9a-f]{12}/m);
    expect(links).toMatch(/^eth1@eth1-peer/m); // the uplink is not ours to delete
    for (const ns of vms)
      expect((await run('ip', ['-n', ns, '-br', 'link'])).stdout.trim().split('\n')).toEqual([
        expect.stringMatching(/^lo\s/),
      ]);
    const d = await agent.debug();
    expect({ desired: d.desired, actual: d.actual }).toEqual({ desired: {}, actual: {} });
    expect(await agent.api.list()).toEqual([]);
  });

  it('left the host as it was', async () => {
    await agent.stop();
    for (const ns of vms) await run('ip', ['netns', 'del', ns]);
    expect(await snapshotHost()).toEqual(host);
  });
});
