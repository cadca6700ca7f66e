/** The seed topologies in examples/ produce the expected Northbound rows and refs. */
import { describe, expect, it } from 'vitest';
import { deriveMac } from '../../../../../agent/ipam/index.js';
import {
  ACL_PRIORITY,
  buildNorthboundReport,
  IP_OWNER_KEY,
  routerPortMac,
  SUBNET_KEY,
} from '../../../../../agent/nb/build/index.js';
import { allocatePorts, expectRefsResolve, keysOf, refKeys, row, seed } from './helpers.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

describe('vpc-two-subnets', () => {
  it('one router with a port pair per subnet (gateway on the LRP, Kube-OVN names)', async () => {
    const resources = await seed('vpc-two-subnets');
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(warnings).toEqual([]);
    // The undeclared default VPC has no subnets here, so it gets no router.
    expect(keysOf(state, 'Logical_Router')).toEqual(['lr/vpc-1']);
    const lr = row(state, 'Logical_Router', 'lr/vpc-1');
    expect(lr.columns['name']).toBe('vpc-1');
    expect(lr.resource).toBe('Vpc/vpc-1');
    expect(refKeys(lr, 'ports')).toEqual(['lrp/vpc-1-vswitch1-subnet', 'lrp/vpc-1-vswitch2-subnet']);
    expect(refKeys(lr, 'static_routes')).toEqual([]);

    const lrp = row(state, 'Logical_Router_Port', 'lrp/vpc-1-vswitch1-subnet');
    expect(lrp.columns).toMatchObject({ name: 'vpc-1-vswitch1-subnet', networks: ['172.20.10.1/24'] });
    expect(lrp.columns['mac']).toMatch(MAC);
    expect(lrp.columns['mac']).toBe(routerPortMac('vpc-1-vswitch1-subnet'));
    // Locally administered, unicast.
    expect(parseInt((lrp.columns['mac'] as string).slice(0, 2), 16) & 0x03).toBe(0x02);
    expect(row(state, 'Logical_Router_Port', 'lrp/vpc-1-vswitch2-subnet').columns['networks']).toEqual([
      '172.20.20.1/24',
    ]);

    const ls = row(state, 'Logical_Switch', 'ls/vswitch1-subnet');
    expect(ls.columns['name']).toBe('vswitch1-subnet');
    expect(ls.columns['other_config']).toEqual({});
    expect(refKeys(ls, 'ports')).toEqual(['lsp/vswitch1-subnet-vpc-1']);
    expect(refKeys(ls, 'acls')).toEqual([]);
    expect(row(state, 'Logical_Switch_Port', 'lsp/vswitch1-subnet-vpc-1').columns).toMatchObject({
      type: 'router',
      addresses: ['router'],
      options: { 'router-port': 'vpc-1-vswitch1-subnet' },
    });
    expectRefsResolve(state);
  });

  it('DHCP per subnet (server id/mac = gateway/LRP MAC, router, lease, overlay MTU) bound to each VM port', async () => {
    const resources = await seed('vpc-two-subnets');
    const ports = allocatePorts(resources, { 'vswitch1-subnet': 2, 'vswitch2-subnet': 1 });
    const { state } = buildNorthboundReport({ resources, ports });
    const dhcp = row(state, 'DHCP_Options', 'dhcp/vswitch1-subnet');
    expect(dhcp.columns['cidr']).toBe('172.20.10.0/24');
    expect(dhcp.columns['options']).toEqual({
      server_id: '172.20.10.1',
      server_mac: routerPortMac('vpc-1-vswitch1-subnet'),
      router: '172.20.10.1',
      lease_time: '3600',
      mtu: '1400',
    });

    const vm = ports[0]!;
    expect(vm.ip).toBe('172.20.10.10'); // .1-.9 are excluded in the seed
    const lsp = row(state, 'Logical_Switch_Port', `lsp/${vm.name}`);
    expect(lsp.columns).toMatchObject({
      name: 'vswitch1-subnet.vm1',
      type: '',
      addresses: [`${vm.mac} 172.20.10.10`],
      port_security: [`${vm.mac} 172.20.10.10`],
      external_ids: { [IP_OWNER_KEY]: vm.name, [SUBNET_KEY]: 'vswitch1-subnet' },
    });
    expect(lsp.resource).toBe(`Port/${vm.name}`);
    expect(refKeys(lsp, 'dhcpv4_options')).toEqual(['dhcp/vswitch1-subnet']);
    expect(refKeys(lsp, 'dhcpv6_options')).toEqual([]);
    expect(refKeys(row(state, 'Logical_Switch', 'ls/vswitch1-subnet'), 'ports')).toEqual([
      'lsp/vswitch1-subnet-vpc-1',
      'lsp/vswitch1-subnet.vm1',
      'lsp/vswitch1-subnet.vm2',
    ]);
    expect(refKeys(row(state, 'Logical_Switch', 'ls/vswitch2-subnet'), 'ports')).toHaveLength(2);
    expectRefsResolve(state);
  });
});

describe('private-subnet', () => {
  it('isolates the private subnet except itself and allowSubnets; the other subnet has no ACLs', async () => {
    const resources = await seed('private-subnet');
    const { state } = buildNorthboundReport({ resources, ports: [] });
    const ls = row(state, 'Logical_Switch', 'ls/db-subnet');
    expect(refKeys(ls, 'acls')).toEqual([
      'acl/db-subnet/private/from/allow',
      'acl/db-subnet/private/from/dhcp',
      'acl/db-subnet/private/from/drop',
      'acl/db-subnet/private/to/allow',
      'acl/db-subnet/private/to/drop',
    ]);
    const acl = (role: string) => row(state, 'ACL', `acl/db-subnet/private/${role}`).columns;
    expect(acl('to/allow')).toMatchObject({
      direction: 'to-lport',
      priority: ACL_PRIORITY.allow,
      match: 'ip4.dst == 10.10.10.0/24 && ip4.src == {10.10.10.0/24, 10.10.20.0/24}',
      action: 'allow',
    });
    expect(acl('from/allow')).toMatchObject({
      direction: 'from-lport',
      priority: ACL_PRIORITY.allow,
      match: 'ip4.src == 10.10.10.0/24 && ip4.dst == {10.10.10.0/24, 10.10.20.0/24}',
    });
    expect(acl('to/drop')).toMatchObject({
      direction: 'to-lport',
      match: 'ip4.dst == 10.10.10.0/24',
      action: 'drop',
    });
    expect(acl('from/drop')).toMatchObject({ direction: 'from-lport', match: 'ip4.src == 10.10.10.0/24' });
    // DHCP (incl. a rebinding client's broadcast from its own address) outranks the drops.
    expect(acl('from/dhcp')).toMatchObject({ match: 'udp.src == 68 && udp.dst == 67', action: 'allow' });
    expect(ACL_PRIORITY.infra).toBeGreaterThan(ACL_PRIORITY.allow);
    expect(ACL_PRIORITY.allow).toBeGreaterThan(ACL_PRIORITY.drop);
    expect(acl('to/drop')['name']).toBe('db-subnet/private/to/drop');
    // ARP is not IP: none of the matches can catch it.
    for (const key of refKeys(ls, 'acls')) expect(row(state, 'ACL', key).columns['match']).not.toMatch(/arp/);

    expect(refKeys(row(state, 'Logical_Switch', 'ls/app-subnet'), 'acls')).toEqual([]);
    expect(keysOf(state, 'ACL').every((k) => k.startsWith('acl/db-subnet/'))).toBe(true);
  });
});

describe('vpc-peering', () => {
  it('a peering port on each router, peers crossed; static routes through the link', async () => {
    const resources = await seed('vpc-peering');
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(warnings).toEqual([]);
    const p1 = row(state, 'Logical_Router_Port', 'lrp/vpcpeer-1-vpcpeer-2');
    const p2 = row(state, 'Logical_Router_Port', 'lrp/vpcpeer-2-vpcpeer-1');
    expect(p1.columns).toMatchObject({
      name: 'vpcpeer-1-vpcpeer-2',
      networks: ['169.254.0.1/30'],
      peer: 'vpcpeer-2-vpcpeer-1',
    });
    expect(p2.columns).toMatchObject({
      name: 'vpcpeer-2-vpcpeer-1',
      networks: ['169.254.0.2/30'],
      peer: 'vpcpeer-1-vpcpeer-2',
    });
    expect(p1.resource).toBe('Vpc/vpcpeer-1');
    expect(p2.resource).toBe('Vpc/vpcpeer-2');
    expect(p1.columns['mac']).not.toBe(p2.columns['mac']);

    const lr1 = row(state, 'Logical_Router', 'lr/vpcpeer-1');
    expect(refKeys(lr1, 'ports')).toEqual(['lrp/vpcpeer-1-vpcpeer-1-subnet', 'lrp/vpcpeer-1-vpcpeer-2']);
    expect(refKeys(lr1, 'static_routes')).toHaveLength(1);
    const route = row(state, 'Logical_Router_Static_Route', refKeys(lr1, 'static_routes')[0]!);
    expect(route.columns).toEqual({
      ip_prefix: '20.0.0.0/24',
      nexthop: '169.254.0.2',
      policy: 'dst-ip',
      route_table: '',
      external_ids: {},
    });
    const lr2 = row(state, 'Logical_Router', 'lr/vpcpeer-2');
    const route2 = row(state, 'Logical_Router_Static_Route', refKeys(lr2, 'static_routes')[0]!);
    expect(route2.columns).toMatchObject({ ip_prefix: '10.0.0.0/24', nexthop: '169.254.0.1' });
    expect(route2.key).not.toBe(route.key);
    expectRefsResolve(state);
  });
});

describe('vlan-underlay', () => {
  it('a localnet port (network_name = provider, tag = VLAN id), no router port at the physical gateway', async () => {
    const resources = await seed('vlan-underlay');
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(warnings).toEqual([]);
    const ls = row(state, 'Logical_Switch', 'ls/vlan2017-subnet');
    expect(refKeys(ls, 'ports')).toEqual(['lsp/localnet.vlan2017-subnet']);
    expect(row(state, 'Logical_Switch_Port', 'lsp/localnet.vlan2017-subnet').columns).toEqual({
      name: 'localnet.vlan2017-subnet',
      type: 'localnet',
      addresses: ['unknown'],
      port_security: [],
      options: { network_name: 'tor' },
      tag: 2017,
      external_ids: { [SUBNET_KEY]: 'vlan2017-subnet' },
    });
    expect(keysOf(state, 'Logical_Router_Port')).toEqual([]);
    expect(refKeys(row(state, 'Logical_Router', 'lr/ovn-cluster'), 'ports')).toEqual([]);
    // DHCP still hands out the physical gateway as the default route, with the underlay MTU.
    expect(row(state, 'DHCP_Options', 'dhcp/vlan2017-subnet').columns['options']).toEqual({
      server_id: '198.51.100.1',
      server_mac: deriveMac('vpc-agent.io/dhcp-server', 'vlan2017-subnet'),
      router: '198.51.100.1',
      lease_time: '3600',
      mtu: '1500',
    });
  });

  it('VLAN id 0 is untagged: tag left empty', async () => {
    const resources = await seed('vlan-underlay');
    const v = resources.vlans.get('vlan2017')!;
    resources.vlans.set('vlan2017', { ...v, spec: { ...v.spec, id: 0 } });
    const { state } = buildNorthboundReport({ resources, ports: [] });
    const lsp = row(state, 'Logical_Switch_Port', 'lsp/localnet.vlan2017-subnet');
    expect('tag' in lsp.columns).toBe(true);
    expect(lsp.columns['tag']).toBeUndefined();
  });
});

describe('nat-outgoing (seed alone)', () => {
  it('DHCP passes dhcpV4Options through; without an external subnet there is no SNAT, and it says so', async () => {
    const resources = await seed('nat-outgoing');
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(row(state, 'DHCP_Options', 'dhcp/natted-subnet').columns['options']).toMatchObject({
      lease_time: '3600',
      dns_server: '{203.0.113.53,203.0.113.54}',
      router: '10.66.0.1',
    });
    expect(refKeys(row(state, 'Logical_Router', 'lr/ovn-cluster'), 'ports')).toEqual([
      'lrp/ovn-cluster-natted-subnet',
    ]);
    expect(keysOf(state, 'NAT')).toEqual([]);
    expect(warnings).toEqual([
      {
        resource: 'Subnet/natted-subnet',
        message: 'natOutgoing has no effect: external subnet "ovn-vpc-external-network" does not exist',
      },
    ]);
  });
});

describe('all seeds together', () => {
  it('build side by side without name clashes, every ref resolving', async () => {
    const resources = await seed();
    const { state, warnings } = buildNorthboundReport({ resources, ports: [] });
    expect(warnings.filter((w) => !w.message.startsWith('natOutgoing has no effect'))).toEqual([]);
    // Every subnet but the external network (subnetexternal) is a switch.
    expect(keysOf(state, 'Logical_Switch')).toHaveLength(9);
    expect(keysOf(state, 'Logical_Router')).toEqual([
      'lr/ovn-cluster',
      'lr/vpc-1',
      'lr/vpc-nat',
      'lr/vpc-private',
      'lr/vpcpeer-1',
      'lr/vpcpeer-2',
    ]);
    expectRefsResolve(state);
  });
});
