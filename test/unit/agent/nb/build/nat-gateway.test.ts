/** VPC NAT gateways in Northbound: external networks stay out of OVN, translated sources are rerouted to lanIp. */
import { describe, expect, it } from 'vitest';
import { buildNorthboundReport } from '../../../../../agent/nb/build/index.js';
import { NAT_GW_PRIORITY, natSources } from '../../../../../agent/nb/build/nat-gateway.js';
import type { ResourceSet } from '../../../../../agent/resources/types.js';
import { parseCidr } from '../../../../../netlink/inet.js';
import { expectRefsResolve, keysOf, refKeys, row, seed } from './helpers.js';

const policies = (resources: ResourceSet) => {
  const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
  expect(warnings).toEqual([]);
  expectRefsResolve(state);
  const lr = row(state, 'Logical_Router', 'lr/vpc-nat');
  return refKeys(lr, 'policies')
    .map((k) => row(state, 'Logical_Router_Policy', k))
    .sort((a, b) => Number(b.columns['priority']) - Number(a.columns['priority']));
};

describe('vpc-nat-gateway seed', () => {
  it('builds nothing in OVN for the external network, and no claim of its gateway', async () => {
    const resources = await seed('vpc-nat-gateway');
    const { state } = buildNorthboundReport({ resources, ports: [] });
    expect(keysOf(state, 'Logical_Switch')).toEqual(['ls/natgw-lan-subnet']);
    expect(keysOf(state, 'Logical_Router_Port')).toEqual(['lrp/vpc-nat-natgw-lan-subnet']);
    expect(keysOf(state, 'DHCP_Options')).toEqual(['dhcp/natgw-lan-subnet']);
    // Of the external network, only the EIP's record (its address, held for it) is in Northbound.
    const text = JSON.stringify(
      [...state]
        .filter(([t]) => t !== 'Address_Set')
        .map(([, rows]) => [...rows.values()].map((r) => r.columns)),
    );
    expect(text).not.toContain('10.115.');
    expect([...(state.get('Address_Set')?.values() ?? [])].map((r) => r.columns['addresses'])).toEqual([
      ['10.115.55.200'],
    ]);
    // The external network still gives out addresses: it is a Subnet in effect.
    expect(resources.subnets.get('subnetexternal')?.spec.external).toEqual({
      nad: 'ovn-vpc-external-network',
      namespace: 'kube-system',
    });
  });

  it('reroutes what the gateway translates to lanIp, leaving traffic inside the VPC alone', async () => {
    const resources = await seed('vpc-nat-gateway');
    expect(natSources(resources, 'gw1')).toEqual(['172.30.10.0/24', '172.30.10.20/32']);
    const rows = policies(resources);
    expect(
      rows.map((r) => [
        r.columns['priority'],
        r.columns['action'],
        r.columns['match'],
        r.columns['nexthops'],
      ]),
    ).toEqual([
      [
        NAT_GW_PRIORITY.allowInternal,
        'allow',
        'ip4.src == {172.30.10.0/24, 172.30.10.20/32} && ip4.dst == 172.30.10.0/24',
        [],
      ],
      [NAT_GW_PRIORITY.reroute, 'reroute', 'ip4.src == {172.30.10.0/24, 172.30.10.20/32}', ['172.30.10.254']],
    ]);
    expect(rows.every((r) => r.resource === 'VpcNatGateway/gw1')).toBe(true);
    // A route out at all (OVN drops a packet without one before any policy applies).
    const { state } = buildNorthboundReport({ resources, ports: [] });
    const routes = refKeys(row(state, 'Logical_Router', 'lr/vpc-nat'), 'static_routes').map(
      (k) => row(state, 'Logical_Router_Static_Route', k).columns,
    );
    expect(routes).toEqual([
      {
        ip_prefix: '0.0.0.0/0',
        nexthop: '172.30.10.254',
        policy: 'dst-ip',
        route_table: '',
        external_ids: {},
      },
    ]);
  });

  it('a Vpc with its own default route keeps it (no policy); its other static routes stay internal', async () => {
    const resources = await seed('vpc-nat-gateway');
    const vpc = resources.vpcs.get('vpc-nat')!;
    const route = (cidr: string) => ({
      cidr: parseCidr(cidr),
      nextHopIP: '172.30.10.250',
      nextHop: 0xac1e0afan,
      policy: 'policyDst' as const,
      routeTable: '',
    });
    resources.vpcs.set('vpc-nat', { ...vpc, spec: { ...vpc.spec, staticRoutes: [route('192.0.2.0/24')] } });
    const [allow] = policies(resources);
    expect(allow?.columns['match']).toBe(
      'ip4.src == {172.30.10.0/24, 172.30.10.20/32} && ip4.dst == {172.30.10.0/24, 192.0.2.0/24}',
    );
    resources.vpcs.set('vpc-nat', { ...vpc, spec: { ...vpc.spec, staticRoutes: [route('0.0.0.0/0')] } });
    expect(policies(resources)).toEqual([]);
  });

  it('no rules, no routing: a gateway without SNAT/DNAT/FIP reroutes nothing', async () => {
    const resources = await seed('vpc-nat-gateway');
    resources.snatRules.clear();
    resources.dnatRules.clear();
    expect(policies(resources)).toEqual([]);
  });
});
