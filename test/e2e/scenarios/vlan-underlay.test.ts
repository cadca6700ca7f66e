/**
 * Seed scenario "VLAN underlay" through the agent (a real process on sandbox node1): the
 * manifests of examples/vlan-underlay (ProviderNetwork `tor` on the node's uplink `eth1`, Vlan
 * 2017, subnet 198.51.100.0/24) plus a Vlan 2018 with subnet 203.0.113.0/24. The uplink is a
 * veth to a top-of-rack switch (its own OVS, test/harness/tor.ts): a trunk port (2017, 2018)
 * and an access port (tag 2017) to an external host holding 198.51.100.1 and 203.0.113.1.
 *
 * Checked: the agent made br-tor with `eth1` trunking 0, 2017 and 2018 and mapped `tor`, and
 * restores both when they are changed by hand on the node; a VM on
 * the VLAN subnet pings the external host and the ToR learned its MAC on VLAN 2017; a VM on
 * VLAN 2018 cannot reach the host (only the VLAN separates them). Ports through the local API,
 * called in-process.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { waitUntil } from '../../../agent/sandbox/process.js';
import {
  createVmNamespace,
  ping,
  readExample,
  startAgentProcess,
  waitPing,
  writeManifest,
  type AgentProcess,
  type Manifest,
} from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';
import { startTor, type Tor } from '../../harness/tor.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('vlan');
let tor: Tor | undefined;
let agent: AgentProcess;
let vm17: PortResult;
let vm18: PortResult;

/** Vlan 2018 on the same provider network, with its subnet and NAD. */
function vlan2018(): Manifest[] {
  const provider = 'vlan2018.default.ovn';
  return [
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Vlan',
      metadata: { name: 'vlan2018' },
      spec: { id: 2018, provider: 'tor' },
    },
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 'vlan2018-subnet' },
      spec: { cidrBlock: '203.0.113.0/24', gateway: '203.0.113.1', vlan: 'vlan2018', provider },
    },
    {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'vlan2018', namespace: 'default' },
      spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'kube-ovn', provider }) },
    },
  ];
}

beforeAll(async () => {
  const sb = ctx.sandbox;
  tor = await startTor({ dir: path.join(sb.stateDir, 'tor'), netns: `${sb.state.id}-tor` });
  await tor.connectTrunk({
    nodeNetns: sb.node().netns,
    nodeIf: 'eth1',
    port: 'trunk-n1',
    vlans: [2017, 2018],
  });
  await tor.addHost({
    name: 'ext',
    netns: `${sb.state.id}-ext`,
    port: 'acc-ext',
    vlan: 2017,
    cidrs: ['198.51.100.1/24', '203.0.113.1/24'],
  });
  await writeManifest(`${tmp.dir}/manifests`, 'underlay.yaml', [
    ...(await readExample('vlan-underlay')),
    ...vlan2018(),
  ]);
  agent = await startAgentProcess({ sandbox: sb, dir: tmp.dir });
  const [ns17, ns18] = await Promise.all([createVmNamespace(sb, 'vm17'), createVmNamespace(sb, 'vm18')]);
  vm17 = await agent.api.add({ network: 'default/vlan2017', netns: ns17 });
  vm18 = await agent.api.add({ network: 'default/vlan2018', netns: ns18 });
});

afterAll(async () => {
  await agent?.stop();
  await tor?.stop();
});

describe('VLAN underlay through the agent', () => {
  it('the agent made br-tor with eth1 trunking 0, 2017, 2018 and mapped tor:br-tor', async () => {
    const sb = ctx.sandbox;
    await waitUntil(async () => (await agent.debug()).nodeWork?.last, { what: 'a node OVS pass' });
    expect((await agent.debug()).nodeWork?.last?.problems).toEqual([]);
    expect(await sb.vsctl('node1', 'get', 'bridge', 'br-tor', 'datapath_type')).toBe('netdev');
    expect(await sb.vsctl('node1', 'get', 'port', 'eth1', 'trunks')).toBe('[0, 2017, 2018]');
    expect(await sb.vsctl('node1', 'get', 'open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe(
      '"tor:br-tor"',
    );
  });

  it('a VM on the VLAN subnet pings the external host; the ToR learned its MAC on VLAN 2017', async () => {
    expect(vm17).toMatchObject({ subnet: 'vlan2017-subnet', gateway: '198.51.100.1', mtu: 1500 });
    expect(vm17.ip).toMatch(/^198\.51\.100\.(2\d|[3-9]\d|1\d\d|2[0-5]\d)$/); // .1-.19 excluded
    await waitPing(vm17.netns, '198.51.100.1');
    const fdb = await (tor as Tor).fdb();
    expect(fdb).toContainEqual(expect.objectContaining({ vlan: 2017, mac: vm17.mac }));
  });

  it('a VM on VLAN 2018 cannot reach the host on VLAN 2017, although it holds 203.0.113.1', async () => {
    expect(vm18).toMatchObject({ subnet: 'vlan2018-subnet', gateway: '203.0.113.1' });
    expect(await ping(vm18.netns, '203.0.113.1')).toBe(false);
    // Its frames leave tagged 2018: the ToR learns its MAC on that VLAN only.
    await waitUntil(async () => (await (tor as Tor).fdb()).some((e) => e.mac === vm18.mac), {
      what: 'vm18 MAC in the ToR',
      timeoutMs: 10_000,
    });
    expect((await (tor as Tor).fdb()).filter((e) => e.mac === vm18.mac).map((e) => e.vlan)).toEqual([2018]);
  });
  it('drift: the mapping and the trunk changed by hand on the node come back', async () => {
    const sb = ctx.sandbox;
    await sb.vsctl('node1', 'remove', 'open_vswitch', '.', 'external_ids', 'ovn-bridge-mappings');
    await sb.vsctl('node1', 'set', 'port', 'eth1', 'trunks=[0,2017]');
    await waitUntil(
      async () =>
        (await sb
          .vsctl('node1', 'get', 'open_vswitch', '.', 'external_ids:ovn-bridge-mappings')
          .catch(() => '')) === '"tor:br-tor"' &&
        (await sb.vsctl('node1', 'get', 'port', 'eth1', 'trunks')) === '[0, 2017, 2018]',
      { what: 'the agent to restore the mapping and the trunk', timeoutMs: 10_000 },
    );
    // ovn-controller re-creates its localnet patch port for the restored mapping: traffic flows again.
    await waitPing(vm17.netns, '198.51.100.1');
  });
});
