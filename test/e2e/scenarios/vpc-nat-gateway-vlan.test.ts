/**
 * A VPC NAT gateway whose external leg rides a ProviderNetwork/Vlan instead of a NIC's macvlan:
 * the seeds' gateway (examples/vpc-nat-gateway) with `externalSubnets: [vlan2017-subnet]`, the
 * VLAN underlay of examples/vlan-underlay (ProviderNetwork `tor` on the node's `eth1`, Vlan
 * 2017, 198.51.100.0/24 whose gateway 198.51.100.1 is an "external host" behind a top-of-rack
 * switch, test/harness/tor.ts). net2 is then a port on the VLAN subnet's logical switch: out
 * through its localnet port, br-tor and the trunk, tagged 2017.
 *
 * Checked: net2 holds the EIP and the gateway's MAC, and its LSP is the gateway's; SNAT (the
 * host sees the EIP), DNAT (the host reaches the VM at EIP:8888); the EIP is announced (the ToR
 * learns the gateway's MAC on VLAN 2017); the namespace deleted by hand comes back and traffic
 * flows again; deleting the gateway deletes both of its LSPs.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  cleanUpAgent,
  createVmNamespace,
  find,
  hvSync,
  readExample,
  startAgentProcess,
  writeManifest,
  type AgentProcess,
  type Manifest,
} from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';
import { httpGet, startHttpServer, stopAll } from '../../harness/nat.js';
import { startTor, type Tor } from '../../harness/tor.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('natvlan');
const HOST = '198.51.100.1';
const EIP = '198.51.100.200';
const VM_IP = '172.30.10.20';
// Its own prefix: the other NAT tests' gateway (also gw1) may run at the same time on this host.
const GW_NETNS = 'natvlan-gw1';
let tor: Tor | undefined;
let agent: AgentProcess;
let vm: PortResult;
let docs: Manifest[];
let extNs = '';

const lspNames = async () =>
  (await ctx.sandbox.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port'))
    .split('\n')
    .filter(Boolean);

/** SNAT (the host sees the EIP) and DNAT (EIP:8888 reaches the VM) work. */
async function natWorks(what: string): Promise<void> {
  await waitUntil(
    async () => (await httpGet(vm.netns, `http://${HOST}:8080/`, { timeoutS: 1 })) === `host ${EIP}`,
    {
      what: `SNAT ${what}`,
      timeoutMs: 60_000,
    },
  );
  await waitUntil(async () => (await httpGet(extNs, `http://${EIP}:8888/`, { timeoutS: 1 })) !== undefined, {
    what: `DNAT ${what}`,
    timeoutMs: 30_000,
  });
  expect(await httpGet(extNs, `http://${EIP}:8888/`)).toBe(`vm ${HOST}`);
}

beforeAll(async () => {
  const sb = ctx.sandbox;
  extNs = `${sb.state.id}-ext`;
  tor = await startTor({ dir: path.join(sb.stateDir, 'tor'), netns: `${sb.state.id}-tor` });
  await tor.connectTrunk({ nodeNetns: sb.node().netns, nodeIf: 'eth1', port: 'trunk-n1', vlans: [2017] });
  await tor.addHost({ name: 'ext', netns: extNs, port: 'acc-ext', vlan: 2017, cidrs: [`${HOST}/24`] });
  await startHttpServer(extNs, 8080, 'host');

  // The macvlan external network (its Subnet and NAD) is replaced by the VLAN subnet.
  const nat = (await readExample('vpc-nat-gateway')).filter(
    (d) => d.metadata.name !== 'subnetexternal' && d.metadata.name !== 'ovn-vpc-external-network',
  );
  find(nat, 'VpcNatGateway', 'gw1').spec['externalSubnets'] = ['vlan2017-subnet'];
  find(nat, 'IptablesEIP', 'eip-gw1').spec['v4ip'] = EIP;
  docs = [...(await readExample('vlan-underlay')), ...nat];
  await writeManifest(`${tmp.dir}/manifests`, 'nat.yaml', docs);
  agent = await startAgentProcess({ sandbox: sb, dir: tmp.dir, args: ['--nat-netns-prefix', 'natvlan-'] });
  vm = await agent.api.add({
    network: 'default/natgw-lan',
    netns: await createVmNamespace(sb, 'natvlanvm'),
    ip: VM_IP,
  });
  await startHttpServer(vm.netns, 80, 'vm');
});

afterAll(async () => {
  await stopAll();
  await cleanUpAgent(agent, vm ? [vm.netns] : []);
  await tor?.stop();
  await run('ip', ['netns', 'del', GW_NETNS], { reject: false });
});

describe('a VPC NAT gateway with its external leg on a VLAN', () => {
  it('net2 is a port of the VLAN subnet holding the EIP with the gateway MAC', async () => {
    await waitUntil(
      async () => (await run('ip', ['-n', GW_NETNS, '-br', 'addr'], { reject: false })).stdout.includes(EIP),
      { what: 'the gateway namespace with its EIP', timeoutMs: 60_000 },
    );
    expect(await lspNames()).toEqual(expect.arrayContaining(['vpc-nat-gw-gw1.lan', 'vpc-nat-gw-gw1.wan']));
    const ls = await ctx.sandbox.nbctl('lsp-get-ls', 'vpc-nat-gw-gw1.wan');
    expect(ls).toContain('vlan2017-subnet');
    const routes = (await run('ip', ['-n', GW_NETNS, 'route'])).stdout;
    expect(routes).toContain(`default via ${HOST} dev net2`);
  });

  it('SNAT and DNAT work through the VLAN; the ToR learned the gateway MAC on VLAN 2017', async () => {
    await hvSync(ctx.sandbox);
    await natWorks('over VLAN 2017');
    const mac = /link\/ether (\S+)/.exec(
      (await run('ip', ['-n', GW_NETNS, 'link', 'show', 'net2'])).stdout,
    )![1];
    expect(await tor!.fdb()).toContainEqual(expect.objectContaining({ vlan: 2017, mac }));
  });

  it('the namespace deleted by hand comes back; traffic flows again', async () => {
    const before = (await stat(`/run/netns/${GW_NETNS}`)).ino;
    await run('ip', ['netns', 'del', GW_NETNS]);
    // A new namespace, with its EIP (the old one may live on a moment, held by a socket).
    await waitUntil(
      async () =>
        (await stat(`/run/netns/${GW_NETNS}`).catch(() => undefined))?.ino !== before &&
        (await run('ip', ['-n', GW_NETNS, '-br', 'addr'], { reject: false })).stdout.includes(EIP),
      { what: 'the gateway namespace re-created', timeoutMs: 30_000 },
    );
    await natWorks('after the namespace was re-created');
  });

  it('deleting the gateway deletes both of its LSPs and the namespace', async () => {
    const keep = docs.filter(
      (d) =>
        !['VpcNatGateway', 'IptablesEIP', 'IptablesSnatRule', 'IptablesDnatRule', 'IptablesFIPRule'].includes(
          String(d.kind),
        ),
    );
    await writeManifest(agent.manifests, 'nat.yaml', keep);
    await waitUntil(async () => !(await lspNames()).some((n) => n.startsWith('vpc-nat-gw-gw1.')), {
      what: "the gateway's LSPs deleted",
      timeoutMs: 30_000,
    });
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(GW_NETNS);
  });
});
