/**
 * VLAN underlay end to end on one sandbox node: the agent's node OVS reconciler makes br-pn1 with
 * the uplink veth `eth1` as a trunk (0, 2017, 2018) and maps `pn1:br-pn1`; the NB builders +
 * engine make the VLAN subnets' localnet ports (`network_name=pn1`, `tag`); a ToR (its own OVS)
 * has a trunk port to eth1 and an access port (VLAN 2017) to an "external host" in
 * 198.51.100.0/24 (which also holds 203.0.113.1, so only the VLAN keeps the 2018 VM away).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNorthbound } from '../../../agent/nb/build/index.js';
import { createNbReconciler } from '../../../agent/nb/reconcile/index.js';
import {
  createNodeOvsReconciler,
  NODE_OVS_MONITOR,
  type NodeOvsReconciler,
  type NodeOvsResult,
} from '../../../agent/node/ovs/index.js';
import type { ResourceSet } from '../../../agent/resources/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import { OvsdbClient, nb, vswitch } from '../../../ovsdb/index.js';
import { snapshotHost, useSandbox, type HostSnapshot } from '../../harness/index.js';
import { startTor, type Tor } from '../../harness/tor.js';
import { check, ovnNad, providerNetwork, subnet, vlan } from '../../unit/agent/resources/helpers.js';

const ctx = useSandbox({ nodes: 1 });
let tor: Tor | undefined;
let ovs: OvsdbClient | undefined;
let nbClient: OvsdbClient | undefined;
let node: NodeOvsReconciler;
let host: HostSnapshot;
let first: NodeOvsResult | undefined;

const VM17 = {
  name: 'vm17',
  mac: '00:00:00:51:00:0a',
  ip: '198.51.100.10',
  cidr: '198.51.100.10/24',
  gateway: '198.51.100.1',
};
const VM18 = {
  name: 'vm18',
  mac: '00:00:00:51:00:0b',
  ip: '203.0.113.10',
  cidr: '203.0.113.10/24',
  gateway: '203.0.113.1',
};

function underlay(): ResourceSet {
  const r = check([
    providerNetwork('pn1', { defaultInterface: 'eth1' }),
    vlan('v2017', 2017, 'pn1'),
    vlan('v2018', 2018, 'pn1'),
    ovnNad('vlan2017'),
    ovnNad('vlan2018'),
    subnet('vlan2017', '198.51.100.0/24', {
      gateway: '198.51.100.1',
      vlan: 'v2017',
      provider: 'vlan2017.default.ovn',
    }),
    subnet('vlan2018', '203.0.113.0/24', {
      gateway: '203.0.113.1',
      vlan: 'v2018',
      provider: 'vlan2018.default.ovn',
    }),
  ]);
  expect(r.errors).toEqual([]);
  return r.valid;
}

const ping = async (vm: string, dst: string, count = 1) =>
  (await ctx.sandbox.exec(vm, 'ping', ['-c', String(count), '-W', '1', '-q', dst], { reject: false }))
    .exitCode === 0;

beforeAll(async () => {
  host = await snapshotHost();
  const sb = ctx.sandbox;
  const n = sb.node();
  tor = await startTor({ dir: path.join(sb.stateDir, 'tor'), netns: `${sb.state.id}-tor` });
  await tor.connectTrunk({ nodeNetns: n.netns, nodeIf: 'eth1', port: 'trunk-n1', vlans: [2017, 2018] });
  await tor.addHost({
    name: 'ext',
    netns: `${sb.state.id}-ext`,
    port: 'acc-ext',
    vlan: 2017,
    cidrs: ['198.51.100.1/24', '203.0.113.1/24'],
  });
  // The node's own L3 on its uplink, which must follow the NIC onto br-pn1 and come back.
  await run('ip', ['-n', n.netns, 'addr', 'add', '198.51.100.2/24', 'dev', 'eth1']);
  await run('ip', ['-n', n.netns, 'route', 'add', '203.0.113.0/24', 'via', '198.51.100.1', 'dev', 'eth1']);
  ovs = await OvsdbClient.connect({
    remotes: n.ovsRemote,
    database: 'Open_vSwitch',
    schema: vswitch.schema(),
    monitor: NODE_OVS_MONITOR,
  });
  node = createNodeOvsReconciler({ client: ovs, node: n.name, netns: n.netns });
  const nbDb = sb.state.nb?.db;
  if (!nbDb) throw new Error('sandbox without NB');
  nbClient = await OvsdbClient.connect({ remotes: nbDb, database: 'OVN_Northbound', schema: nb.schema() });
  await nbClient.ready();
});

afterAll(async () => {
  await ovs?.close();
  await nbClient?.close();
  await tor?.stop();
});

describe('VLAN underlay through a provider bridge', () => {
  it('programs br-pn1, the trunk and the mapping on the node (netdev, like br-int)', async () => {
    const r = (first = await node.reconcile(underlay()));
    expect(r.problems).toEqual([]);
    expect(r.sent).toBe(true);
    const sb = ctx.sandbox;
    expect(await sb.vsctl('node1', 'get', 'bridge', 'br-pn1', 'datapath_type')).toBe('netdev');
    expect(await sb.vsctl('node1', 'get', 'port', 'eth1', 'trunks')).toBe('[0, 2017, 2018]');
    expect(await sb.vsctl('node1', 'get', 'open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe(
      '"pn1:br-pn1"',
    );
    expect((await node.reconcile(underlay())).sent).toBe(false);
    expect(node.interfaceErrors()).toEqual({});
  });

  it("moved the uplink's address and route to br-pn1, which took the uplink's MAC", async () => {
    const ns = ctx.sandbox.node().netns;
    const ip = async (...args: string[]) => (await run('ip', ['-n', ns, ...args])).stdout;
    expect(first?.moves).toEqual([
      { from: 'eth1', to: 'br-pn1', addresses: ['198.51.100.2/24'], routes: ['203.0.113.0/24'] },
    ]);
    expect(await ip('-br', 'addr', 'show', 'dev', 'br-pn1')).toContain('198.51.100.2/24');
    expect(await ip('-br', 'addr', 'show', 'dev', 'eth1')).not.toContain('198.51.100.2');
    expect(await ip('route', 'show', '203.0.113.0/24')).toMatch(/via 198\.51\.100\.1 dev br-pn1/);
    const mac = async (dev: string) => (await ip('-br', 'link', 'show', 'dev', dev)).split(/\s+/)[2];
    await waitUntil(async () => (await mac('br-pn1')) === (await mac('eth1')), {
      what: 'br-pn1 MAC = eth1 MAC',
    });
  });

  it('a VM on VLAN 2017 reaches the external host; the ToR learns its MAC on VLAN 2017', async () => {
    const sb = ctx.sandbox;
    const state = buildNorthbound({
      resources: underlay(),
      ports: [
        { subnet: 'vlan2017', name: VM17.name, ip: VM17.ip, mac: VM17.mac, owner: VM17.name },
        { subnet: 'vlan2018', name: VM18.name, ip: VM18.ip, mac: VM18.mac, owner: VM18.name },
      ],
    });
    const engine = createNbReconciler({ client: nbClient as OvsdbClient });
    engine.setDesired(state, { complete: true });
    const pass = await engine.reconcileNow();
    expect(pass.error).toBeUndefined();
    expect(await sb.nbctl('--bare', '--columns=tag', 'find', 'logical_switch_port', 'type=localnet')).toMatch(
      /2017/,
    );
    for (const vm of [VM17, VM18])
      await sb.addVm({ name: vm.name, mac: vm.mac, cidr: vm.cidr, gateway: vm.gateway });
    await sb.nbctl('--wait=hv', 'sync');
    await waitUntil(async () => (await sb.vsctl('node1', 'list-ports', 'br-pn1')).includes('patch-'), {
      what: 'ovn-controller patch port on br-pn1',
    });
    await waitUntil(() => ping(VM17.name, '198.51.100.1'), {
      what: 'vm17 -> 198.51.100.1',
      timeoutMs: 30_000,
    });
    expect(await ping(VM17.name, '198.51.100.1', 3)).toBe(true);
    const fdb = await (tor as Tor).fdb();
    expect(fdb).toContainEqual(expect.objectContaining({ vlan: 2017, mac: VM17.mac }));
  });

  it('a VM on VLAN 2018 cannot reach the host on VLAN 2017 (although it holds 203.0.113.1)', async () => {
    expect(await ping(VM18.name, '203.0.113.1', 2)).toBe(false);
    // Its frames do leave tagged 2018: the ToR learns its MAC on that VLAN, never on 2017.
    await waitUntil(
      async () => (await (tor as Tor).fdb()).some((e) => e.mac === VM18.mac && e.vlan === 2018),
      {
        what: 'vm18 MAC on VLAN 2018 in the ToR',
        timeoutMs: 10_000,
      },
    );
    expect((await (tor as Tor).fdb()).filter((e) => e.mac === VM18.mac).map((e) => e.vlan)).toEqual([2018]);
  });

  it('removing the ProviderNetwork removes br-pn1 and our mapping; the VLAN is cut', async () => {
    const sb = ctx.sandbox;
    const r = await node.reconcile(check([]).valid);
    expect(r.sent).toBe(true);
    expect(await sb.vsctl('node1', 'list-br')).toBe('br-int');
    const ids = await sb.vsctl('node1', 'get', 'open_vswitch', '.', 'external_ids');
    expect(ids).not.toContain('ovn-bridge-mappings');
    expect(ids).not.toContain('vpc-agent.io');
    expect(await ping(VM17.name, '198.51.100.1', 2)).toBe(false);
    // The uplink got its address and route back before br-pn1 went away.
    const ns = sb.node().netns;
    expect((await run('ip', ['-n', ns, '-br', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain(
      '198.51.100.2/24',
    );
    expect((await run('ip', ['-n', ns, 'route', 'show', '203.0.113.0/24'])).stdout).toMatch(
      /via 198\.51\.100\.1 dev eth1/,
    );
    expect(r.moves).toEqual([
      { from: 'br-pn1', to: 'eth1', addresses: ['198.51.100.2/24'], routes: ['203.0.113.0/24'] },
    ]);
  });

  it('left the root namespace untouched', async () => {
    expect(await snapshotHost()).toEqual(host);
  });
});
