import { describe, expect, it } from 'vitest';
import { buildNodeOvs } from '../../../../../agent/node/ovs/desired.js';
import {
  integrationDatapathType,
  planNodeOvs,
  resolveDatapathType,
} from '../../../../../agent/node/ovs/plan.js';
import { DatabaseCache, vswitch, type MutateOp, type Operation } from '../../../../../ovsdb/index.js';
import { check, providerNetwork, vlan } from '../../resources/helpers.js';

const ROOT = '00000000-0000-4000-8000-000000000001';
const BRINT = '00000000-0000-4000-8000-000000000002';
const FOREIGN = '00000000-0000-4000-8000-000000000003';

const map = (r: Record<string, string>) => ['map', Object.entries(r)];
const set = (uuids: string[]) => ['set', uuids.map((u) => ['uuid', u])];

/** A cache holding the Open_vSwitch row and the given bridges (wire-format rows). */
async function cacheWith(
  externalIds: Record<string, string>,
  bridges: Record<string, Record<string, unknown>> = {},
): Promise<DatabaseCache> {
  const cache = new DatabaseCache(vswitch.schema(), {
    tables: { Open_vSwitch: undefined, Bridge: undefined, Port: undefined, Interface: undefined },
  });
  await cache.applyUpdate({
    Open_vSwitch: { [ROOT]: { new: { bridges: set(Object.keys(bridges)), external_ids: map(externalIds) } } },
    ...(Object.keys(bridges).length > 0
      ? { Bridge: Object.fromEntries(Object.entries(bridges).map(([u, row]) => [u, { new: row }])) }
      : {}),
  });
  return cache;
}

const resources = check([
  providerNetwork('tor', { defaultInterface: 'eth1' }),
  vlan('v2017', 2017, 'tor'),
]).valid;

const byOp = (ops: Operation[], op: string, table?: string) =>
  ops.filter((o) => o.op === op && (table === undefined || ('table' in o && o.table === table)));

describe('planNodeOvs', () => {
  it('creates bridge, internal port, uplink trunk and our mapping in one transaction', async () => {
    const cache = await cacheWith({ 'ovn-bridge-mappings': 'physnet:br-eth0' });
    const plan = planNodeOvs(cache, buildNodeOvs(resources, { node: 'n1', datapathType: 'netdev' }), {
      owner: 'vpc-agent',
    });
    expect(plan.problems).toEqual([]);
    const bridge = byOp(plan.ops, 'insert', 'Bridge')[0] as { row: Record<string, unknown> };
    expect(bridge.row).toMatchObject({
      name: 'br-tor',
      datapath_type: 'netdev',
      fail_mode: 'standalone',
      external_ids: { 'vpc-agent.io/owner': 'vpc-agent', 'vpc-agent.io/resource': 'ProviderNetwork/tor' },
    });
    const ports = byOp(plan.ops, 'insert', 'Port').map((o) => (o as { row: Record<string, unknown> }).row);
    expect(ports.map((p) => p['name'])).toEqual(['br-tor', 'eth1']);
    expect(ports[1]).toMatchObject({ trunks: [0, 2017], vlan_mode: 'trunk' });
    const ifaces = byOp(plan.ops, 'insert', 'Interface').map(
      (o) => (o as { row: Record<string, unknown> }).row,
    );
    expect(ifaces.map((i) => [i['name'], i['type']])).toEqual([
      ['br-tor', 'internal'],
      ['eth1', ''],
    ]);
    const mutations = byOp(plan.ops, 'mutate', 'Open_vSwitch').flatMap((o) => (o as MutateOp).mutations);
    expect(mutations).toContainEqual([
      'external_ids',
      'insert',
      { 'ovn-bridge-mappings': 'physnet:br-eth0,tor:br-tor', 'vpc-agent.io/bridge-mappings': 'tor:br-tor' },
    ]);
    // The shared key is read-modify-write: guarded by a verify of external_ids.
    expect(byOp(plan.ops, 'wait', 'Open_vSwitch')).toHaveLength(1);
  });

  it('skips a network whose bridge name is taken by a foreign bridge, touching nothing', async () => {
    const cache = await cacheWith(
      {},
      { [FOREIGN]: { name: 'br-tor', datapath_type: 'netdev', external_ids: map({ by: 'admin' }) } },
    );
    const plan = planNodeOvs(cache, buildNodeOvs(resources, { node: 'n1', datapathType: 'netdev' }), {
      owner: 'vpc-agent',
    });
    expect(plan.ops).toEqual([]);
    expect(plan.problems).toEqual([
      expect.objectContaining({ code: 'BRIDGE_NOT_OWNED', resource: 'ProviderNetwork/tor' }),
    ]);
  });

  it('removes an owned bridge that is no longer desired, never a foreign one', async () => {
    const OWNED = '00000000-0000-4000-8000-000000000004';
    const cache = await cacheWith(
      { 'ovn-bridge-mappings': 'physnet:br-eth0,old:br-old', 'vpc-agent.io/bridge-mappings': 'old:br-old' },
      {
        [FOREIGN]: { name: 'br-eth0', external_ids: map({}) },
        [OWNED]: { name: 'br-old', external_ids: map({ 'vpc-agent.io/owner': 'vpc-agent' }) },
      },
    );
    const plan = planNodeOvs(cache, buildNodeOvs(check([]).valid, { node: 'n1', datapathType: 'netdev' }), {
      owner: 'vpc-agent',
    });
    const mutations = byOp(plan.ops, 'mutate', 'Open_vSwitch').flatMap((o) => (o as MutateOp).mutations);
    expect(mutations).toContainEqual(['bridges', 'delete', [OWNED]]);
    expect(JSON.stringify(plan.ops)).not.toContain(FOREIGN);
    expect(mutations).toContainEqual([
      'external_ids',
      'insert',
      { 'ovn-bridge-mappings': 'physnet:br-eth0' },
    ]);
    expect(mutations).toContainEqual([
      'external_ids',
      'delete',
      ['ovn-bridge-mappings', 'vpc-agent.io/bridge-mappings'],
    ]);
  });

  it('without pruning (an incomplete snapshot), keeps an owned bridge and mapping that are not desired', async () => {
    const OWNED = '00000000-0000-4000-8000-000000000004';
    const cache = await cacheWith(
      { 'ovn-bridge-mappings': 'physnet:br-eth0,old:br-old', 'vpc-agent.io/bridge-mappings': 'old:br-old' },
      { [OWNED]: { name: 'br-old', external_ids: map({ 'vpc-agent.io/owner': 'vpc-agent' }) } },
    );
    const plan = planNodeOvs(cache, buildNodeOvs(check([]).valid, { node: 'n1', datapathType: 'netdev' }), {
      owner: 'vpc-agent',
      prune: false,
    });
    expect(plan.ops).toEqual([]);
    // With a new network desired meanwhile, it is added and the old one still kept.
    const more = planNodeOvs(cache, buildNodeOvs(resources, { node: 'n1', datapathType: 'netdev' }), {
      owner: 'vpc-agent',
      prune: false,
    });
    const mutations = byOp(more.ops, 'mutate', 'Open_vSwitch').flatMap((o) => (o as MutateOp).mutations);
    expect(JSON.stringify(mutations)).not.toContain('"delete",["' + OWNED);
    expect(mutations).toContainEqual([
      'external_ids',
      'insert',
      {
        'ovn-bridge-mappings': 'physnet:br-eth0,old:br-old,tor:br-tor',
        'vpc-agent.io/bridge-mappings': 'old:br-old,tor:br-tor',
      },
    ]);
  });

  it('optionally creates br-int (secure) when missing, and never when present', async () => {
    const empty = buildNodeOvs(check([]).valid, { node: 'n1', datapathType: 'netdev' });
    const missing = planNodeOvs(await cacheWith({}), empty, {
      owner: 'o',
      integrationBridge: { datapathType: 'netdev' },
    });
    expect((byOp(missing.ops, 'insert', 'Bridge')[0] as { row: object }).row).toMatchObject({
      name: 'br-int',
      fail_mode: 'secure',
      datapath_type: 'netdev',
    });
    const present = await cacheWith({}, { [BRINT]: { name: 'br-int', datapath_type: 'netdev' } });
    expect(
      planNodeOvs(present, empty, { owner: 'o', integrationBridge: { datapathType: 'netdev' } }).ops,
    ).toEqual([]);
  });

  it('takes the datapath type from the option, else br-int, else ovn-bridge-datapath-type', async () => {
    const withBrInt = await cacheWith({}, { [BRINT]: { name: 'br-int', datapath_type: 'netdev' } });
    expect(resolveDatapathType(withBrInt)).toBe('netdev');
    expect(resolveDatapathType(withBrInt, 'system')).toBe('system');
    expect(resolveDatapathType(await cacheWith({ 'ovn-bridge-datapath-type': 'netdev' }))).toBe('netdev');
    expect(resolveDatapathType(await cacheWith({}))).toBe('');
  });

  it("br-int's own datapath type: its column, `` when empty or br-int is missing", async () => {
    const netdev = await cacheWith({}, { [BRINT]: { name: 'br-int', datapath_type: 'netdev' } });
    expect(integrationDatapathType(netdev)).toBe('netdev');
    const system = await cacheWith({}, { [BRINT]: { name: 'br-int', datapath_type: 'system' } });
    expect(integrationDatapathType(system)).toBe('system');
    // Unlike the provider bridges' type, the chassis default does not count: br-int is what it is.
    const empty = await cacheWith(
      { 'ovn-bridge-datapath-type': 'netdev' },
      { [BRINT]: { name: 'br-int', datapath_type: '' } },
    );
    expect(integrationDatapathType(empty)).toBe('');
    expect(integrationDatapathType(await cacheWith({ 'ovn-bridge-datapath-type': 'netdev' }))).toBe('');
  });
});
