import { describe, expect, it } from 'vitest';
import { PortError } from '../../../../../agent/node/ports/errors.js';
import {
  interfaceIds,
  localPorts,
  planAttach,
  planDetach,
  type OvsPortSpec,
} from '../../../../../agent/node/ports/ovs.js';
import { DatabaseCache, vswitch, type Operation } from '../../../../../ovsdb/index.js';

const BRINT = '00000000-0000-4000-8000-000000000002';
const PORT = '00000000-0000-4000-8000-000000000010';
const IFACE = '00000000-0000-4000-8000-000000000011';

const map = (r: Record<string, string>) => ['map', Object.entries(r)];
const set = (uuids: string[]) => ['set', uuids.map((u) => ['uuid', u])];

const spec: OvsPortSpec = {
  name: 'h0123456789ab',
  lsp: 'vm1.default.vswitch1.default.ovn',
  mac: '0a:00:00:00:00:01',
  netns: 'vm1',
  network: 'default/vswitch1',
  ifname: 'eth0',
  dhcp: false,
  owner: 'vpc-agent',
};

async function cacheWith(
  opts: { brInt?: boolean; port?: Record<string, string> } = {},
): Promise<DatabaseCache> {
  const cache = new DatabaseCache(vswitch.schema(), {
    tables: { Bridge: undefined, Port: undefined, Interface: undefined },
  });
  const update: Record<string, unknown> = {};
  if (opts.brInt !== false)
    update['Bridge'] = { [BRINT]: { new: { name: 'br-int', ports: set(opts.port ? [PORT] : []) } } };
  if (opts.port) {
    update['Port'] = { [PORT]: { new: { name: spec.name, interfaces: set([IFACE]) } } };
    update['Interface'] = { [IFACE]: { new: { name: spec.name, external_ids: map(opts.port), ofport: 3 } } };
  }
  await cache.applyUpdate(update);
  return cache;
}

const tables = (ops: Operation[]) => ops.map((o) => `${o.op} ${'table' in o ? o.table : ''}`);

describe('workload port on br-int', () => {
  it('inserts Interface (iface-id, node facts, owner marks) + Port and links it into br-int', async () => {
    const ops = planAttach(await cacheWith(), spec);
    expect(tables(ops)).toEqual(['insert Interface', 'insert Port', 'mutate Bridge']);
    const iface = ops[0] as unknown as { row: { external_ids: Record<string, string> } };
    expect(iface.row.external_ids).toMatchObject({
      'iface-id': spec.lsp,
      'attached-mac': spec.mac,
      'vpc-agent.io/netns': 'vm1',
      'vpc-agent.io/ifname': 'eth0',
      'vpc-agent.io/owner': 'vpc-agent',
    });
  });

  it('is a no-op when the port is there as wanted, a mutation of our keys when they differ', async () => {
    expect(planAttach(await cacheWith({ port: interfaceIds(spec) }), spec)).toEqual([]);
    // ovn-controller's key beside ours is not a difference, and no write takes it away.
    const installed = { ...interfaceIds(spec), 'ovn-installed': 'true' };
    expect(planAttach(await cacheWith({ port: installed }), spec)).toEqual([]);
    const stale = { ...installed, 'iface-id': 'other' };
    const ops = planAttach(await cacheWith({ port: stale }), spec);
    expect(tables(ops)).toEqual(['mutate Interface']);
    const m = (ops[0] as unknown as { mutations: [string, string, unknown][] }).mutations;
    expect(m.map(([col, how]) => `${col} ${how}`)).toEqual(['external_ids delete', 'external_ids insert']);
    expect(JSON.stringify(m)).not.toContain('ovn-installed');
  });

  it('fails clearly without br-int', async () => {
    expect(() =>
      planAttach(
        new DatabaseCache(vswitch.schema(), { tables: { Bridge: undefined, Port: undefined } }),
        spec,
      ),
    ).toThrow(PortError);
    await expect(cacheWith({ brInt: false }).then((c) => planAttach(c, spec))).rejects.toThrow(/no br-int/);
  });

  it('detach removes the port from its bridge; nothing when gone', async () => {
    const ops = planDetach(await cacheWith({ port: interfaceIds(spec) }), spec.name);
    expect(ops).toEqual([
      {
        op: 'mutate',
        table: 'Bridge',
        where: [['_uuid', '==', BRINT]],
        mutations: [['ports', 'delete', [PORT]]],
      },
    ]);
    expect(planDetach(await cacheWith(), spec.name)).toEqual([]);
  });

  it('lists what the node recorded, only for its owner', async () => {
    const cache = await cacheWith({ port: interfaceIds(spec) });
    expect(localPorts(cache, 'vpc-agent')).toEqual([
      {
        host: spec.name,
        lsp: spec.lsp,
        mac: spec.mac,
        netns: 'vm1',
        network: 'default/vswitch1',
        ifname: 'eth0',
        dhcp: false,
        error: undefined,
        ofport: 3,
      },
    ]);
    expect(localPorts(cache, 'someone-else')).toEqual([]);
  });
});
