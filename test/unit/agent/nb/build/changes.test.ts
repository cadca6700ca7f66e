/** Determinism and the blast radius of changes: deletes and allowSubnets edits touch only their rows. */
import { describe, expect, it } from 'vitest';
import { buildNorthbound, type PortAllocation } from '../../../../../agent/nb/build/index.js';
import type { ResourceSet, Subnet } from '../../../../../agent/resources/types.js';
import { parseCidr } from '../../../../../netlink/inet.js';
import { allKeys, allocatePorts, diffStates, reversed, row, refKeys, seed } from './helpers.js';

function withSubnet(set: ResourceSet, name: string, edit: (s: Subnet) => Subnet | undefined): ResourceSet {
  const subnets = new Map(set.subnets);
  const next = edit(set.subnets.get(name)!);
  if (next) subnets.set(name, next);
  else subnets.delete(name);
  return { ...set, subnets };
}

describe('determinism', () => {
  it('the same input twice gives deeply equal output', async () => {
    const resources = await seed();
    const ports = allocatePorts(resources, { 'vswitch1-subnet': 3, 'db-subnet': 2, 'vlan2017-subnet': 1 });
    const a = buildNorthbound({ resources, ports });
    const b = buildNorthbound({ resources, ports });
    expect(b).toEqual(a);
    expect(JSON.stringify([...b].map(([t, m]) => [t, [...m]]))).toBe(
      JSON.stringify([...a].map(([t, m]) => [t, [...m]])),
    );
  });

  it('input order does not matter (resources and ports reversed)', async () => {
    const resources = await seed();
    const ports = allocatePorts(resources, { 'vswitch1-subnet': 3, 'app-subnet': 2, 'vpcpeer-1-subnet': 2 });
    const a = buildNorthbound({ resources, ports });
    const b = buildNorthbound({ resources: reversed(resources), ports: [...ports].reverse() });
    // Same rows, same refs, same insertion order.
    expect(JSON.stringify([...b].map(([t, m]) => [t, [...m]]))).toBe(
      JSON.stringify([...a].map(([t, m]) => [t, [...m]])),
    );
  });

  it('does not mutate its input', async () => {
    const resources = await seed('vpc-two-subnets');
    const ports = allocatePorts(resources, { 'vswitch1-subnet': 2 });
    const before = JSON.stringify(ports);
    const names = [...resources.subnets.keys()];
    buildNorthbound({ resources, ports });
    expect(JSON.stringify(ports)).toBe(before);
    expect([...resources.subnets.keys()]).toEqual(names);
  });
});

describe('deleting a subnet', () => {
  it('removes exactly its rows and its ports; only the router loses a ref', async () => {
    const resources = await seed();
    const ports = allocatePorts(resources, { 'vswitch1-subnet': 2, 'vswitch2-subnet': 3 });
    const before = buildNorthbound({ resources, ports });
    const after = buildNorthbound({
      resources: withSubnet(resources, 'vswitch2-subnet', () => undefined),
      ports: ports.filter((p) => p.subnet !== 'vswitch2-subnet'),
    });
    const d = diffStates(before, after);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([
      'DHCP_Options|dhcp/vswitch2-subnet',
      'Logical_Router_Port|lrp/vpc-1-vswitch2-subnet',
      'Logical_Switch_Port|lsp/vswitch2-subnet-vpc-1',
      'Logical_Switch_Port|lsp/vswitch2-subnet.vm1',
      'Logical_Switch_Port|lsp/vswitch2-subnet.vm2',
      'Logical_Switch_Port|lsp/vswitch2-subnet.vm3',
      'Logical_Switch|ls/vswitch2-subnet',
    ]);
    expect(d.changed).toEqual(['Logical_Router|lr/vpc-1']);
    expect(refKeys(row(after, 'Logical_Router', 'lr/vpc-1'), 'ports')).toEqual(['lrp/vpc-1-vswitch1-subnet']);
    // Every removed row was produced by the subnet or one of its ports.
    for (const k of d.removed) {
      const [table, key] = k.split('|') as [string, string];
      expect(row(before, table, key).resource).toMatch(/^(Subnet\/vswitch2-subnet|Port\/vswitch2-subnet\.)/);
    }
  });

  it('a private subnet takes its ACLs with it', async () => {
    const resources = await seed('private-subnet');
    const before = buildNorthbound({ resources, ports: [] });
    const after = buildNorthbound({
      resources: withSubnet(resources, 'db-subnet', () => undefined),
      ports: [],
    });
    expect(allKeys(after).filter((k) => k.startsWith('ACL|'))).toEqual([]);
    expect(diffStates(before, after).removed.filter((k) => k.startsWith('ACL|'))).toHaveLength(5);
  });
});

describe('private subnet edits', () => {
  const setAllow = (s: Subnet, cidrs: string[]): Subnet => ({
    ...s,
    spec: { ...s.spec, allowSubnets: cidrs.map((c) => parseCidr(c)) },
  });

  it('changing allowSubnets changes only ACL rows (same keys, new matches)', async () => {
    const resources = await seed('private-subnet');
    const ports: PortAllocation[] = allocatePorts(resources, { 'db-subnet': 1, 'app-subnet': 1 });
    const with20 = buildNorthbound({ resources, ports });
    const without = buildNorthbound({
      resources: withSubnet(resources, 'db-subnet', (s) => setAllow(s, [])),
      ports,
    });
    const d = diffStates(with20, without);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual(['ACL|acl/db-subnet/private/from/allow', 'ACL|acl/db-subnet/private/to/allow']);
    expect(row(without, 'ACL', 'acl/db-subnet/private/to/allow').columns['match']).toBe(
      'ip4.dst == 10.10.10.0/24 && ip4.src == 10.10.10.0/24',
    );
    const three = buildNorthbound({
      resources: withSubnet(resources, 'db-subnet', (s) => setAllow(s, ['10.10.20.0/24', '192.0.2.0/24'])),
      ports,
    });
    expect(row(three, 'ACL', 'acl/db-subnet/private/from/allow').columns['match']).toBe(
      'ip4.src == 10.10.10.0/24 && ip4.dst == {10.10.10.0/24, 10.10.20.0/24, 192.0.2.0/24}',
    );
    expect(diffStates(with20, three).changed.every((k) => k.startsWith('ACL|'))).toBe(true);
  });

  it('turning private off removes the isolation ACLs and nothing else but the switch refs', async () => {
    const resources = await seed('private-subnet');
    const before = buildNorthbound({ resources, ports: [] });
    const after = buildNorthbound({
      resources: withSubnet(resources, 'db-subnet', (s) => ({ ...s, spec: { ...s.spec, private: false } })),
      ports: [],
    });
    const d = diffStates(before, after);
    expect(d.added).toEqual([]);
    expect(d.removed.every((k) => k.startsWith('ACL|acl/db-subnet/private/'))).toBe(true);
    expect(d.removed).toHaveLength(5);
    expect(d.changed).toEqual(['Logical_Switch|ls/db-subnet']);
  });
});
