/** natOutgoing gateway, user ACLs, policy/static routes, IPv6, options, name clashes and warnings. */
import { describe, expect, it } from 'vitest';
import {
  buildNorthbound,
  buildNorthboundReport,
  DEFAULT_BUILD_OPTIONS,
  IP_OWNER_KEY,
  natGatewayOwner,
  resolveOptions,
  routerPortMac,
} from '../../../../../agent/nb/build/index.js';
import { providerNetwork, subnet, vlan, vpc } from '../../resources/helpers.js';
import { allocatePorts, diffStates, expectRefsResolve, keysOf, refKeys, row, topology } from './helpers.js';

/** ovn-cluster with a natOutgoing subnet, a plain one and an external VLAN subnet. */
const natTopology = () =>
  topology([
    providerNetwork('tor'),
    vlan('vlan2017', 2017, 'tor'),
    subnet('ext', '198.51.100.0/24', { vlan: 'vlan2017', gateway: '198.51.100.1' }),
    subnet('natted', '10.66.0.0/24', { natOutgoing: true }),
    subnet('plain', '10.67.0.0/24'),
  ]);
const natOptions = {
  natGateway: { externalSubnet: 'ext', ip: '198.51.100.20', chassis: ['node-a', 'node-b'] },
};

describe('natOutgoing', () => {
  it('gateway port on the external subnet with gateway chassis, default route, one SNAT per natOutgoing subnet', () => {
    const { state, warnings } = buildNorthboundReport({
      resources: natTopology(),
      ports: [],
      options: natOptions,
    });
    expect(warnings).toEqual([]);
    const lr = row(state, 'Logical_Router', 'lr/ovn-cluster');
    expect(refKeys(lr, 'ports')).toEqual([
      'lrp/ovn-cluster-ext',
      'lrp/ovn-cluster-natted',
      'lrp/ovn-cluster-plain',
    ]);
    const gw = row(state, 'Logical_Router_Port', 'lrp/ovn-cluster-ext');
    expect(gw.columns).toMatchObject({
      name: 'ovn-cluster-ext',
      networks: ['198.51.100.20/24'],
      mac: routerPortMac('ovn-cluster-ext'),
      external_ids: { [IP_OWNER_KEY]: natGatewayOwner('ovn-cluster') },
    });
    expect(gw.resource).toBe('Subnet/ext');
    expect(refKeys(gw, 'gateway_chassis')).toEqual([
      'gwc/ovn-cluster-ext/node-a',
      'gwc/ovn-cluster-ext/node-b',
    ]);
    expect(row(state, 'Gateway_Chassis', 'gwc/ovn-cluster-ext/node-a').columns).toMatchObject({
      name: 'ovn-cluster-ext-node-a',
      chassis_name: 'node-a',
      priority: 2,
    });
    expect(row(state, 'Gateway_Chassis', 'gwc/ovn-cluster-ext/node-b').columns['priority']).toBe(1);

    const ext = row(state, 'Logical_Switch', 'ls/ext');
    expect(refKeys(ext, 'ports')).toEqual(['lsp/ext-ovn-cluster', 'lsp/localnet.ext']);
    expect(row(state, 'Logical_Switch_Port', 'lsp/ext-ovn-cluster').columns).toMatchObject({
      type: 'router',
      addresses: ['router'],
      options: { 'router-port': 'ovn-cluster-ext', 'nat-addresses': 'router' },
    });

    expect(refKeys(lr, 'static_routes')).toHaveLength(1);
    const route = row(state, 'Logical_Router_Static_Route', refKeys(lr, 'static_routes')[0]!);
    expect(route.columns).toMatchObject({
      ip_prefix: '0.0.0.0/0',
      nexthop: '198.51.100.1',
      policy: 'dst-ip',
    });

    expect(refKeys(lr, 'nat')).toEqual(['nat/ovn-cluster/snat/10.66.0.0/24']);
    const nat = row(state, 'NAT', 'nat/ovn-cluster/snat/10.66.0.0/24');
    expect(nat.columns).toMatchObject({
      type: 'snat',
      logical_ip: '10.66.0.0/24',
      external_ip: '198.51.100.20',
    });
    expect(nat.resource).toBe('Subnet/natted');
    expect(refKeys(nat, 'gateway_port')).toEqual(['lrp/ovn-cluster-ext']);
    expectRefsResolve(state);
  });

  it('turning natOutgoing off removes only its NAT row (and the router ref)', () => {
    const resources = natTopology();
    const before = buildNorthbound({ resources, ports: [], options: natOptions });
    const s = resources.subnets.get('natted')!;
    const subnets = new Map(resources.subnets).set('natted', {
      ...s,
      spec: { ...s.spec, natOutgoing: false },
    });
    const after = buildNorthbound({ resources: { ...resources, subnets }, ports: [], options: natOptions });
    expect(diffStates(before, after)).toEqual({
      added: [],
      removed: ['NAT|nat/ovn-cluster/snat/10.66.0.0/24'],
      changed: ['Logical_Router|lr/ovn-cluster'],
    });
  });

  it('without a gateway address or with an overlay external subnet: no gateway, warnings name why', () => {
    const noIp = buildNorthboundReport({
      resources: natTopology(),
      ports: [],
      options: { natGateway: { externalSubnet: 'ext' } },
    });
    expect(keysOf(noIp.state, 'NAT')).toEqual([]);
    expect(keysOf(noIp.state, 'Logical_Router_Port')).not.toContain('lrp/ovn-cluster-ext');
    expect(noIp.warnings.map((w) => w.resource)).toEqual(['Subnet/ext', 'Subnet/natted']);

    const overlay = buildNorthboundReport({
      resources: natTopology(),
      ports: [],
      options: { natGateway: { externalSubnet: 'plain', ip: '10.67.0.200' } },
    });
    expect(keysOf(overlay.state, 'NAT')).toEqual([]);
    expect(overlay.warnings[0]?.message).toMatch(/must be a VLAN/);
  });

  it('no chassis: the gateway port has no Gateway_Chassis rows, and a warning says SNAT will not apply', () => {
    const { state, warnings } = buildNorthboundReport({
      resources: natTopology(),
      ports: [],
      options: { natGateway: { externalSubnet: 'ext', ip: '198.51.100.20' } },
    });
    expect(keysOf(state, 'Gateway_Chassis')).toEqual([]);
    expect(keysOf(state, 'NAT')).toEqual(['nat/ovn-cluster/snat/10.66.0.0/24']);
    expect(warnings).toEqual([
      { resource: 'Subnet/ext', message: expect.stringMatching(/no gateway chassis/) },
    ]);
    expect(refKeys(row(state, 'Logical_Router_Port', 'lrp/ovn-cluster-ext'), 'gateway_chassis')).toEqual([]);
  });

  it('natOutgoing outside ovn-cluster is reported and ignored', () => {
    const resources = topology([vpc('v1'), subnet('s1', '10.1.0.0/24', { vpc: 'v1', natOutgoing: true })]);
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(keysOf(state, 'NAT')).toEqual([]);
    expect(warnings).toEqual([{ resource: 'Subnet/s1', message: expect.stringMatching(/VpcNatGateway/) }]);
  });
});

describe('user ACLs', () => {
  it('applied verbatim at their priorities, keyed by content', () => {
    const acls = [
      { direction: 'to-lport', priority: 2500, match: 'ip4.src == 192.0.2.0/24', action: 'drop' },
      { direction: 'from-lport', priority: 900, match: 'tcp.dst == 22', action: 'allow-related' },
    ];
    const resources = topology([vpc('v1'), subnet('s1', '10.1.0.0/24', { vpc: 'v1', acls })]);
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    const keys = refKeys(row(state, 'Logical_Switch', 'ls/s1'), 'acls');
    expect(keys).toHaveLength(2);
    const cols = keys.map((k) => row(state, 'ACL', k).columns);
    expect(cols).toContainEqual(
      expect.objectContaining({
        direction: 'to-lport',
        priority: 2500,
        match: 'ip4.src == 192.0.2.0/24',
        action: 'drop',
      }),
    );
    expect(cols).toContainEqual(
      expect.objectContaining({
        direction: 'from-lport',
        priority: 900,
        match: 'tcp.dst == 22',
        action: 'allow-related',
      }),
    );
    // (`pass` never gets here: validation rejects it for OVN 23.03, see resources/rules.test.ts.)
    expect(warnings).toEqual([]);

    // Reordering the list changes nothing.
    const reordered = topology([
      vpc('v1'),
      subnet('s1', '10.1.0.0/24', { vpc: 'v1', acls: [...acls].reverse() }),
    ]);
    expect(diffStates(state, buildNorthbound({ resources: reordered, ports: [] }))).toEqual({
      added: [],
      removed: [],
      changed: [],
    });
  });
});

describe('VPC routes', () => {
  it('policySrc → src-ip, route tables kept; policy routes with reroute nexthops', () => {
    const resources = topology([
      vpc('v1', {
        staticRoutes: [
          { cidr: '0.0.0.0/0', nextHopIP: '10.1.0.254', policy: 'policyDst' },
          { cidr: '10.1.0.0/24', nextHopIP: '10.1.0.253', policy: 'policySrc', routeTable: 'rtb1' },
        ],
        policyRoutes: [
          { priority: 100, match: 'ip4.dst == 192.0.2.0/24', action: 'reroute', nextHopIP: '10.1.0.252' },
          { priority: 90, match: 'ip4.dst == 198.51.100.0/24', action: 'drop' },
        ],
      }),
      subnet('s1', '10.1.0.0/24', { vpc: 'v1' }),
    ]);
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(warnings).toEqual([]);
    const lr = row(state, 'Logical_Router', 'lr/v1');
    const routes = refKeys(lr, 'static_routes').map(
      (k) => row(state, 'Logical_Router_Static_Route', k).columns,
    );
    expect(routes).toContainEqual(
      expect.objectContaining({
        ip_prefix: '0.0.0.0/0',
        nexthop: '10.1.0.254',
        policy: 'dst-ip',
        route_table: '',
      }),
    );
    expect(routes).toContainEqual(
      expect.objectContaining({ ip_prefix: '10.1.0.0/24', policy: 'src-ip', route_table: 'rtb1' }),
    );
    const policies = refKeys(lr, 'policies').map((k) => row(state, 'Logical_Router_Policy', k).columns);
    expect(policies).toContainEqual(
      expect.objectContaining({ priority: 100, action: 'reroute', nexthops: ['10.1.0.252'] }),
    );
    expect(policies).toContainEqual(
      expect.objectContaining({
        priority: 90,
        match: 'ip4.dst == 198.51.100.0/24',
        action: 'drop',
        nexthops: [],
      }),
    );
  });
});

describe('IPv6 subnets', () => {
  it('LRP with RA for DHCPv6, DHCPv6 options (server_id = MAC), ports bound through dhcpv6_options, DHCPv6 allowed', () => {
    const resources = topology([vpc('v6'), subnet('s6', 'fd00:10::/64', { vpc: 'v6', private: true })]);
    const ports = allocatePorts(resources, { s6: 1 });
    const { state } = buildNorthboundReport({ resources, ports });
    const lrp = row(state, 'Logical_Router_Port', 'lrp/v6-s6');
    expect(lrp.columns['networks']).toEqual(['fd00:10::1/64']);
    expect(lrp.columns['ipv6_ra_configs']).toMatchObject({ address_mode: 'dhcpv6_stateful', mtu: '1400' });
    expect(row(state, 'DHCP_Options', 'dhcp/s6').columns['options']).toEqual({
      server_id: routerPortMac('v6-s6'),
    });
    const lsp = row(state, 'Logical_Switch_Port', `lsp/${ports[0]!.name}`);
    expect(refKeys(lsp, 'dhcpv6_options')).toEqual(['dhcp/s6']);
    expect(refKeys(lsp, 'dhcpv4_options')).toEqual([]);
    expect(row(state, 'ACL', 'acl/s6/private/to/drop').columns['match']).toBe('ip6.dst == fd00:10::/64');
    expect(row(state, 'ACL', 'acl/s6/private/from/dhcp').columns['match']).toBe(
      'udp.src == 546 && udp.dst == 547',
    );
    expect(refKeys(row(state, 'Logical_Switch', 'ls/s6'), 'acls')).toHaveLength(5);
  });
});

describe('DHCP options and switches', () => {
  it('enableDHCP false: no DHCP_Options, ports have none; subnet mtu wins; bad option keys dropped', () => {
    const resources = topology([
      vpc('v1'),
      subnet('off', '10.1.0.0/24', { vpc: 'v1', enableDHCP: false }),
      subnet('on', '10.2.0.0/24', { vpc: 'v1', mtu: 1300, dhcpV4Options: 'lease_time=600,bogus=1' }),
    ]);
    const ports = allocatePorts(resources, { off: 1, on: 1 });
    const { state, warnings } = buildNorthboundReport({ resources, ports });
    expect(keysOf(state, 'DHCP_Options')).toEqual(['dhcp/on']);
    expect(refKeys(row(state, 'Logical_Switch_Port', 'lsp/off.vm1'), 'dhcpv4_options')).toEqual([]);
    expect(row(state, 'DHCP_Options', 'dhcp/on').columns['options']).toMatchObject({
      lease_time: '600',
      mtu: '1300',
    });
    expect(row(state, 'DHCP_Options', 'dhcp/on').columns['options']).not.toHaveProperty('bogus');
    expect(warnings).toEqual([{ resource: 'Subnet/on', message: expect.stringMatching(/bogus/) }]);
  });

  it('ovnIpamHints writes other_config subnet/exclude_ips; options default as documented', () => {
    const resources = topology([
      vpc('v1'),
      subnet('s1', '10.1.0.0/24', { vpc: 'v1', excludeIps: ['10.1.0.2..10.1.0.9', '10.1.0.100'] }),
    ]);
    const { state } = buildNorthboundReport({
      resources,
      ports: [],
      options: { ovnIpamHints: true, leaseTime: 60 },
    });
    expect(row(state, 'Logical_Switch', 'ls/s1').columns['other_config']).toEqual({
      subnet: '10.1.0.0/24',
      exclude_ips: '10.1.0.1..10.1.0.9 10.1.0.100',
    });
    expect(row(state, 'DHCP_Options', 'dhcp/s1').columns['options']).toMatchObject({ lease_time: '60' });
    expect(resolveOptions()).toEqual({
      ...DEFAULT_BUILD_OPTIONS,
      natGateway: { ...DEFAULT_BUILD_OPTIONS.natGateway },
    });
    expect(DEFAULT_BUILD_OPTIONS).toMatchObject({ leaseTime: 3600, overlayMtu: 1400, underlayMtu: 1500 });
  });

  it('ports: requested-chassis, custom resource; unknown subnet / foreign address / duplicate name reported', () => {
    const resources = topology([vpc('v1'), subnet('s1', '10.1.0.0/24', { vpc: 'v1' })]);
    const base = { subnet: 's1', mac: '0a:00:00:00:00:01', owner: 'o' };
    const { state, warnings } = buildNorthboundReport({
      resources,
      ports: [
        { ...base, name: 'p1', ip: '10.1.0.5', chassis: 'node-a', resource: 'VM/default/vm1' },
        { ...base, name: 'p2', ip: '10.9.0.5' },
        { ...base, name: 'p3', ip: '10.1.0.6', subnet: 'nope' },
        { ...base, name: 's1-v1', ip: '10.1.0.7' },
      ],
    });
    const p1 = row(state, 'Logical_Switch_Port', 'lsp/p1');
    expect(p1.columns['options']).toEqual({ 'requested-chassis': 'node-a' });
    expect(p1.resource).toBe('VM/default/vm1');
    expect(warnings.map((w) => w.resource).sort()).toEqual(['Port/p2', 'Port/p3', 'Port/s1-v1']);
    expect(row(state, 'Logical_Switch_Port', 'lsp/s1-v1').columns['type']).toBe('router');
  });
});

describe('name clashes', () => {
  it('a subnet named like a peered VPC: the first claim (sorted) wins, the other is reported', () => {
    const resources = topology([
      vpc('a', { vpcPeerings: [{ remoteVpc: 'b', localConnectIP: '169.254.9.1/30' }] }),
      vpc('b', { vpcPeerings: [{ remoteVpc: 'a', localConnectIP: '169.254.9.2/30' }] }),
      subnet('b', '10.1.0.0/24', { vpc: 'a' }),
    ]);
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(row(state, 'Logical_Router_Port', 'lrp/a-b').resource).toBe('Vpc/a');
    expect(warnings).toEqual([
      { resource: 'Subnet/b', message: expect.stringMatching(/already used by Vpc\/a/) },
    ]);
    expectRefsResolve(state);
  });
});
