/**
 * One good and one bad case per validation rule; each bad case asserts the exact kind/name/field
 * reported and that the bad resource is not in the valid set.
 */
import { describe, expect, it } from 'vitest';
import { mapFor, type Kind } from '../../../../agent/resources/types.js';
import {
  check,
  dnat,
  eip,
  fip,
  nad,
  natGateway,
  ovnNad,
  providerNetwork,
  subnet,
  vlan,
  vpc,
  where,
  type Doc,
} from './helpers.js';

interface Rule {
  rule: string;
  good: Doc[];
  bad: Doc[];
  /** `Kind/name field` expected among the errors of `bad`. */
  error: string;
}

const peerA = (ip = '169.254.0.1/30', remote = 'b') =>
  vpc('a', { vpcPeerings: [{ remoteVpc: remote, localConnectIP: ip }] });
const peerB = (ip = '169.254.0.2/30', remote = 'a') =>
  vpc('b', { vpcPeerings: [{ remoteVpc: remote, localConnectIP: ip }] });
const natBase = (): Doc[] => [
  vpc('v'),
  subnet('lan', '10.9.0.0/24', { vpc: 'v' }),
  subnet('ovn-vpc-external-network', '203.0.113.0/24'),
  natGateway('gw', { vpc: 'v', subnet: 'lan', lanIp: '10.9.0.254' }),
];

const rules: Rule[] = [
  {
    rule: 'cidrBlock prefix in range',
    good: [subnet('s', '10.0.0.0/8')],
    bad: [subnet('s', '10.0.0.0/33')],
    error: 'Subnet/s spec.cidrBlock',
  },
  {
    rule: 'cidrBlock without host bits',
    good: [subnet('s', '10.0.5.0/24')],
    bad: [subnet('s', '10.0.5.7/24')],
    error: 'Subnet/s spec.cidrBlock',
  },
  {
    rule: 'cidrBlock leaves room for hosts',
    good: [subnet('s', '10.0.5.0/30')],
    bad: [subnet('s', '10.0.5.0/31')],
    error: 'Subnet/s spec.cidrBlock',
  },
  {
    rule: 'single-stack cidrBlock',
    good: [subnet('s', 'fd00:10::/64')],
    bad: [subnet('s', '10.0.0.0/24,fd00::/64')],
    error: 'Subnet/s spec.cidrBlock',
  },
  {
    rule: 'gateway inside cidrBlock',
    good: [subnet('s', '172.20.10.0/24', { gateway: '172.20.10.254' })],
    bad: [subnet('s', '172.20.10.0/24', { gateway: '172.20.11.1' })],
    error: 'Subnet/s spec.gateway',
  },
  {
    rule: 'gateway is an address',
    good: [subnet('s', '10.1.0.0/24', { gateway: '10.1.0.1' })],
    bad: [subnet('s', '10.1.0.0/24', { gateway: '10.1.0' })],
    error: 'Subnet/s spec.gateway',
  },
  {
    rule: 'gateway not the broadcast',
    good: [subnet('s', '10.1.0.0/24', { gateway: '10.1.0.254' })],
    bad: [subnet('s', '10.1.0.0/24', { gateway: '10.1.0.255' })],
    error: 'Subnet/s spec.gateway',
  },
  {
    rule: 'protocol matches cidrBlock',
    good: [subnet('s', '10.1.0.0/24', { protocol: 'IPv4' })],
    bad: [subnet('s', '10.1.0.0/24', { protocol: 'IPv6' })],
    error: 'Subnet/s spec.protocol',
  },
  {
    rule: 'excludeIps inside cidrBlock',
    good: [subnet('s', '10.1.0.0/24', { excludeIps: ['10.1.0.2', '10.1.0.10..10.1.0.20'] })],
    bad: [subnet('s', '10.1.0.0/24', { excludeIps: ['10.1.0.2', '10.1.1.10..10.1.1.20'] })],
    error: 'Subnet/s spec.excludeIps[1]',
  },
  {
    rule: 'excludeIps range ordered',
    good: [subnet('s', '10.1.0.0/24', { excludeIps: ['10.1.0.5..10.1.0.9'] })],
    bad: [subnet('s', '10.1.0.0/24', { excludeIps: ['10.1.0.9..10.1.0.5'] })],
    error: 'Subnet/s spec.excludeIps[0]',
  },
  {
    rule: 'subnets of one VPC do not overlap',
    good: [
      vpc('v1'),
      vpc('v2'),
      subnet('a', '10.0.0.0/24', { vpc: 'v1' }),
      subnet('b', '10.0.0.0/24', { vpc: 'v2' }),
    ],
    bad: [vpc('v1'), subnet('a', '10.0.0.0/16', { vpc: 'v1' }), subnet('b', '10.0.3.0/24', { vpc: 'v1' })],
    error: 'Subnet/b spec.cidrBlock',
  },
  {
    rule: 'provider format',
    good: [subnet('s', '10.1.0.0/24', { provider: 'net1.ns1.ovn' })],
    bad: [subnet('s', '10.1.0.0/24', { provider: 'net1.ovn' })],
    error: 'Subnet/s spec.provider',
  },
  {
    rule: 'one subnet per provider',
    good: [
      subnet('a', '10.1.0.0/24', { provider: 'n1.default.ovn' }),
      subnet('b', '10.2.0.0/24', { provider: 'n2.default.ovn' }),
    ],
    bad: [
      subnet('a', '10.1.0.0/24', { provider: 'n1.default.ovn' }),
      subnet('b', '10.2.0.0/24', { provider: 'n1.default.ovn' }),
    ],
    error: 'Subnet/b spec.provider',
  },
  {
    rule: 'kube-ovn NAD has a subnet',
    good: [ovnNad('n1'), subnet('a', '10.1.0.0/24', { provider: 'n1.default.ovn' })],
    bad: [ovnNad('n1'), subnet('a', '10.1.0.0/24', { provider: 'n2.default.ovn' })],
    error: 'NetworkAttachmentDefinition/n1 spec.config.provider',
  },
  {
    rule: 'kube-ovn NAD provider is <name>.<namespace>.ovn',
    good: [ovnNad('n1', 'tenant'), subnet('a', '10.1.0.0/24', { provider: 'n1.tenant.ovn' })],
    bad: [
      nad('n1', { type: 'kube-ovn', provider: 'n1.default.ovn' }, 'tenant'),
      subnet('a', '10.1.0.0/24', { provider: 'n1.default.ovn' }),
    ],
    error: 'NetworkAttachmentDefinition/n1 spec.config.provider',
  },
  {
    rule: 'NAD config is JSON',
    good: [nad('br', { type: 'bridge', bridge: 'br0' })],
    bad: [nad('br', '{type: bridge')],
    error: 'NetworkAttachmentDefinition/br spec.config',
  },
  {
    rule: 'NAD config has a type',
    good: [nad('br', { type: 'bridge' })],
    bad: [nad('br', { bridge: 'br0' })],
    error: 'NetworkAttachmentDefinition/br spec.config.type',
  },
  {
    rule: 'static route next hop reachable',
    good: [
      vpc('v', { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.5.0.254' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    bad: [
      vpc('v', { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '10.6.0.254' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    error: 'Vpc/v spec.staticRoutes[0].nextHopIP',
  },
  {
    rule: 'static route policy',
    good: [
      vpc('v', { staticRoutes: [{ cidr: '10.7.0.0/24', nextHopIP: '10.5.0.9', policy: 'policySrc' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    bad: [
      vpc('v', { staticRoutes: [{ cidr: '10.7.0.0/24', nextHopIP: '10.5.0.9', policy: 'dst' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    error: 'Vpc/v spec.staticRoutes[0].policy',
  },
  {
    rule: 'static route cidr',
    good: [
      vpc('v', { staticRoutes: [{ cidr: '10.7.0.1', nextHopIP: '10.5.0.9' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    bad: [
      vpc('v', { staticRoutes: [{ cidr: '10.7.0.1/24', nextHopIP: '10.5.0.9' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    error: 'Vpc/v spec.staticRoutes[0].cidr',
  },
  {
    rule: 'policy route action',
    good: [vpc('v', { policyRoutes: [{ priority: 100, match: 'ip4.src == 10.0.0.0/24', action: 'drop' }] })],
    bad: [
      vpc('v', { policyRoutes: [{ priority: 100, match: 'ip4.src == 10.0.0.0/24', action: 'forward' }] }),
    ],
    error: 'Vpc/v spec.policyRoutes[0].action',
  },
  {
    rule: 'policy route priority range',
    good: [vpc('v', { policyRoutes: [{ priority: 32767, match: 'ip4', action: 'allow' }] })],
    bad: [vpc('v', { policyRoutes: [{ priority: 32768, match: 'ip4', action: 'allow' }] })],
    error: 'Vpc/v spec.policyRoutes[0].priority',
  },
  {
    rule: 'reroute needs a next hop',
    good: [
      vpc('v', { policyRoutes: [{ priority: 1, match: 'ip4', action: 'reroute', nextHopIP: '10.5.0.9' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    bad: [
      vpc('v', { policyRoutes: [{ priority: 1, match: 'ip4', action: 'reroute' }] }),
      subnet('s', '10.5.0.0/24', { vpc: 'v' }),
    ],
    error: 'Vpc/v spec.policyRoutes[0].nextHopIP',
  },
  {
    rule: 'next hop only with reroute',
    good: [vpc('v', { policyRoutes: [{ priority: 1, match: 'ip4', action: 'allow' }] })],
    bad: [
      vpc('v', { policyRoutes: [{ priority: 1, match: 'ip4', action: 'allow', nextHopIP: '10.5.0.9' }] }),
    ],
    error: 'Vpc/v spec.policyRoutes[0].nextHopIP',
  },
  {
    rule: 'peering not with the default VPC',
    good: [peerA(), peerB()],
    bad: [peerA('169.254.0.1/30', 'ovn-cluster')],
    error: 'Vpc/a spec.vpcPeerings[0].remoteVpc',
  },
  {
    rule: 'the default VPC does not peer',
    good: [vpc('ovn-cluster')],
    bad: [
      vpc('ovn-cluster', { vpcPeerings: [{ remoteVpc: 'b', localConnectIP: '169.254.0.1/30' }] }),
      peerB('169.254.0.2/30', 'ovn-cluster'),
    ],
    error: 'Vpc/ovn-cluster spec.vpcPeerings',
  },
  {
    rule: 'peering declared on both sides',
    good: [peerA(), peerB()],
    bad: [peerA(), vpc('b')],
    error: 'Vpc/a spec.vpcPeerings[0].remoteVpc',
  },
  {
    rule: 'peering remote VPC exists',
    good: [peerA(), peerB()],
    bad: [peerA()],
    error: 'Vpc/a spec.vpcPeerings[0].remoteVpc',
  },
  {
    rule: 'connect IPs in one /30',
    good: [peerA(), peerB()],
    bad: [peerA(), peerB('169.254.0.6/30')],
    error: 'Vpc/a spec.vpcPeerings[0].localConnectIP',
  },
  {
    rule: 'connect IPs distinct',
    good: [peerA('169.254.0.0/31'), peerB('169.254.0.1/31')],
    bad: [peerA(), peerB('169.254.0.1/30')],
    error: 'Vpc/a spec.vpcPeerings[0].localConnectIP',
  },
  {
    rule: 'connect IP prefix /30 or /31',
    good: [peerA(), peerB()],
    bad: [peerA('169.254.0.1/24'), peerB('169.254.0.2/24')],
    error: 'Vpc/a spec.vpcPeerings[0].localConnectIP',
  },
  {
    rule: 'connect IP not the network address',
    good: [peerA(), peerB()],
    bad: [peerA('169.254.0.0/30'), peerB()],
    error: 'Vpc/a spec.vpcPeerings[0].localConnectIP',
  },
  {
    rule: 'Subnet.vpc exists',
    good: [vpc('v'), subnet('s', '10.1.0.0/24', { vpc: 'v' })],
    bad: [subnet('s', '10.1.0.0/24', { vpc: 'v' })],
    error: 'Subnet/s spec.vpc',
  },
  {
    rule: 'Vlan id 0..4094',
    good: [providerNetwork('pn'), vlan('v', 4094, 'pn')],
    bad: [providerNetwork('pn'), vlan('v', 4095, 'pn')],
    error: 'Vlan/v spec.id',
  },
  {
    rule: 'Vlan provider declared',
    good: [providerNetwork('pn'), vlan('v', 10, 'pn')],
    bad: [vlan('v', 10, 'pn')],
    error: 'Vlan/v spec.provider',
  },
  {
    rule: 'one Vlan per id and provider',
    good: [providerNetwork('pn'), vlan('v', 10, 'pn'), vlan('w', 11, 'pn')],
    bad: [providerNetwork('pn'), vlan('v', 10, 'pn'), vlan('w', 10, 'pn')],
    error: 'Vlan/w spec.id',
  },
  {
    rule: 'VLAN subnet names a declared Vlan',
    good: [providerNetwork('pn'), vlan('v10', 10, 'pn'), subnet('s', '198.51.100.0/24', { vlan: 'v10' })],
    bad: [providerNetwork('pn'), subnet('s', '198.51.100.0/24', { vlan: 'v10' })],
    error: 'Subnet/s spec.vlan',
  },
  {
    rule: 'ProviderNetwork name fits br-<name>',
    good: [providerNetwork('abcdefghijkl')],
    bad: [providerNetwork('abcdefghijklm')],
    error: 'ProviderNetwork/abcdefghijklm metadata.name',
  },
  {
    rule: 'ProviderNetwork interface name',
    good: [providerNetwork('pn', { defaultInterface: 'eth1' })],
    bad: [providerNetwork('pn', { defaultInterface: 'a/b' })],
    error: 'ProviderNetwork/pn spec.defaultInterface',
  },
  {
    rule: 'ProviderNetwork node in one customInterface',
    good: [
      providerNetwork('pn', {
        defaultInterface: 'eth1',
        customInterfaces: [
          { interface: 'eth2', nodes: ['n1'] },
          { interface: 'eth3', nodes: ['n2'] },
        ],
      }),
    ],
    bad: [
      providerNetwork('pn', {
        defaultInterface: 'eth1',
        customInterfaces: [
          { interface: 'eth2', nodes: ['n1'] },
          { interface: 'eth3', nodes: ['n1'] },
        ],
      }),
    ],
    error: 'ProviderNetwork/pn spec.customInterfaces[1].nodes',
  },
  {
    rule: 'acl direction',
    good: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'to-lport', priority: 1000, match: 'ip4', action: 'allow-related' }],
      }),
    ],
    bad: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'ingress', priority: 1000, match: 'ip4', action: 'allow' }],
      }),
    ],
    error: 'Subnet/s spec.acls[0].direction',
  },
  {
    rule: 'acl action',
    good: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 1000, match: 'ip4', action: 'reject' }],
      }),
    ],
    bad: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 1000, match: 'ip4', action: 'accept' }],
      }),
    ],
    error: 'Subnet/s spec.acls[0].action',
  },
  {
    rule: 'acl action pass (no ACL tiers in OVN 23.03)',
    good: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 1000, match: 'ip4', action: 'allow-stateless' }],
      }),
    ],
    bad: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 1000, match: 'ip4', action: 'pass' }],
      }),
    ],
    error: 'Subnet/s spec.acls[0].action',
  },
  {
    rule: 'acl priority range',
    good: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 0, match: 'ip4', action: 'drop' }],
      }),
    ],
    bad: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: -1, match: 'ip4', action: 'drop' }],
      }),
    ],
    error: 'Subnet/s spec.acls[0].priority',
  },
  {
    rule: 'acl match not empty',
    good: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 5, match: 'tcp', action: 'drop' }],
      }),
    ],
    bad: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'from-lport', priority: 5, match: ' ', action: 'drop' }],
      }),
    ],
    error: 'Subnet/s spec.acls[0].match',
  },
  {
    rule: 'mtu range',
    good: [subnet('s', '10.1.0.0/24', { mtu: 1400 })],
    bad: [subnet('s', '10.1.0.0/24', { mtu: 40 })],
    error: 'Subnet/s spec.mtu',
  },
  {
    rule: 'allowSubnets are CIDRs',
    good: [subnet('s', '10.1.0.0/24', { private: true, allowSubnets: ['10.2.0.0/16'] })],
    bad: [subnet('s', '10.1.0.0/24', { private: true, allowSubnets: ['10.2.0.0/33'] })],
    error: 'Subnet/s spec.allowSubnets[0]',
  },
  {
    rule: 'dhcpV4Options are key=value',
    good: [subnet('s', '10.1.0.0/24', { dhcpV4Options: 'lease_time=600,dns_server={1.1.1.1,9.9.9.9}' })],
    bad: [subnet('s', '10.1.0.0/24', { dhcpV4Options: 'lease_time' })],
    error: 'Subnet/s spec.dhcpV4Options',
  },
  {
    rule: 'unknown spec field',
    good: [subnet('s', '10.1.0.0/24')],
    bad: [subnet('s', '10.1.0.0/24', { cidr: '10.1.0.0/24' })],
    error: 'Subnet/s spec.cidr',
  },
  {
    rule: 'unknown nested field',
    good: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'to-lport', priority: 1, match: 'ip4', action: 'drop' }],
      }),
    ],
    bad: [
      subnet('s', '10.1.0.0/24', {
        acls: [{ direction: 'to-lport', priority: 1, match: 'ip4', action: 'drop', log: true }],
      }),
    ],
    error: 'Subnet/s spec.acls[0].log',
  },
  {
    rule: 'unknown top-level field',
    good: [vpc('v')],
    bad: [{ ...vpc('v'), extra: 1 }],
    error: 'Vpc/v extra',
  },
  {
    rule: 'apiVersion',
    good: [vpc('v')],
    bad: [{ ...vpc('v'), apiVersion: 'kubeovn.io/v2' }],
    error: 'Vpc/v apiVersion',
  },
  { rule: 'metadata.name', good: [vpc('v')], bad: [vpc('V_1')], error: 'Vpc/V_1 metadata.name' },
  {
    rule: 'required field',
    good: [subnet('s', '10.1.0.0/24')],
    bad: [{ ...subnet('s', ''), spec: {} }],
    error: 'Subnet/s spec.cidrBlock',
  },
  {
    rule: 'unsupported Kube-OVN feature only when unset',
    good: [subnet('s', '10.1.0.0/24', { u2oInterconnection: false, enableLb: true })],
    bad: [subnet('s', '10.1.0.0/24', { u2oInterconnection: true })],
    error: 'Subnet/s spec.u2oInterconnection',
  },
  {
    rule: 'unique names per kind',
    good: [vpc('v'), subnet('v', '10.1.0.0/24')],
    bad: [vpc('v'), vpc('v')],
    error: 'Vpc/v metadata.name',
  },
  {
    rule: 'NAT gateway only for custom VPCs',
    good: natBase(),
    bad: [
      subnet('lan', '10.9.0.0/24'),
      subnet('ovn-vpc-external-network', '203.0.113.0/24'),
      natGateway('gw', { vpc: 'ovn-cluster', subnet: 'lan', lanIp: '10.9.0.254' }),
    ],
    error: 'VpcNatGateway/gw spec.vpc',
  },
  {
    rule: 'NAT gateway lanIp inside its subnet',
    good: natBase(),
    bad: [...natBase().slice(0, 3), natGateway('gw', { vpc: 'v', subnet: 'lan', lanIp: '10.8.0.254' })],
    error: 'VpcNatGateway/gw spec.lanIp',
  },
  {
    rule: 'NAT gateway subnet in its VPC',
    good: natBase(),
    bad: [
      ...natBase().slice(0, 3),
      subnet('other', '10.10.0.0/24'),
      natGateway('gw', { vpc: 'v', subnet: 'other', lanIp: '10.10.0.254' }),
    ],
    error: 'VpcNatGateway/gw spec.subnet',
  },
  {
    rule: 'EIP inside its external subnet',
    good: [...natBase(), eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.10' })],
    bad: [...natBase(), eip('e1', { natGwDp: 'gw', v4ip: '198.51.100.10' })],
    error: 'IptablesEIP/e1 spec.v4ip',
  },
  {
    rule: 'EIP not the external gateway (an excluded address is fine: set aside for static use)',
    good: [
      ...natBase().slice(0, 2),
      subnet('ovn-vpc-external-network', '203.0.113.0/24', { excludeIps: ['203.0.113.2..203.0.113.9'] }),
      natBase()[3]!,
      eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.2' }),
    ],
    bad: [...natBase(), eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.1' })],
    error: 'IptablesEIP/e1 spec.v4ip',
  },
  {
    rule: 'EIP gateway exists',
    good: [...natBase(), eip('e1', { natGwDp: 'gw' })],
    bad: [...natBase(), eip('e1', { natGwDp: 'gw2' })],
    error: 'IptablesEIP/e1 spec.natGwDp',
  },
  {
    rule: 'EIP addresses unique',
    good: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.10' }),
      eip('e2', { natGwDp: 'gw', v4ip: '203.0.113.11' }),
    ],
    bad: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.10' }),
      eip('e2', { natGwDp: 'gw', v4ip: '203.0.113.10' }),
    ],
    error: 'IptablesEIP/e2 spec.v4ip',
  },
  {
    rule: 'a FIP has its EIP alone',
    good: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw' }),
      eip('e2', { natGwDp: 'gw' }),
      fip('f1', { eip: 'e1', internalIp: '10.9.0.5' }),
      fip('f2', { eip: 'e2', internalIp: '10.9.0.6' }),
    ],
    bad: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw' }),
      fip('f1', { eip: 'e1', internalIp: '10.9.0.5' }),
      fip('f2', { eip: 'e1', internalIp: '10.9.0.6' }),
    ],
    error: 'IptablesFIPRule/f2 spec.eip',
  },
  {
    rule: 'DNAT port forwarded once',
    good: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw' }),
      dnat('d1', { eip: 'e1', externalPort: '80', internalIp: '10.9.0.5', internalPort: '8080' }),
      dnat('d2', { eip: 'e1', externalPort: 443, internalIp: '10.9.0.5', internalPort: 8443 }),
    ],
    bad: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw' }),
      dnat('d1', { eip: 'e1', externalPort: '80', internalIp: '10.9.0.5', internalPort: '8080' }),
      dnat('d2', { eip: 'e1', externalPort: 80, internalIp: '10.9.0.6', internalPort: 80 }),
    ],
    error: 'IptablesDnatRule/d2 spec.externalPort',
  },
  {
    rule: 'DNAT port range',
    good: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw' }),
      dnat('d1', { eip: 'e1', externalPort: '65535', internalIp: '10.9.0.5', internalPort: '1' }),
    ],
    bad: [
      ...natBase(),
      eip('e1', { natGwDp: 'gw' }),
      dnat('d1', { eip: 'e1', externalPort: '70000', internalIp: '10.9.0.5', internalPort: '1' }),
    ],
    error: 'IptablesDnatRule/d1 spec.externalPort',
  },
];

describe('validation rules', () => {
  for (const r of rules) {
    describe(r.rule, () => {
      it('accepts the good case', () => {
        const { errors } = check(r.good);
        expect(errors.map((e) => e.message)).toEqual([]);
      });
      it(`reports ${r.error} for the bad case and skips that resource`, () => {
        const { errors, valid } = check(r.bad);
        expect(where(errors)).toContain(r.error);
        const [kind, rest] = r.error.split('/') as [Kind, string];
        const name = rest.split(' ')[0] as string;
        // The default VPC always exists: an invalid declaration of it falls back to the implicit one.
        const kept = [...mapFor(valid, kind).values()].filter(
          (x) => x.meta.name === name && !(x.kind === 'Vpc' && x.implicit),
        );
        // A duplicate keeps its first declaration; everything else is skipped entirely.
        expect(kept.length).toBe(r.rule === 'unique names per kind' ? 1 : 0);
      });
    });
  }
});

describe('messages', () => {
  it('spells out kind, name, field and reason', () => {
    const { errors } = check([subnet('vswitch1', '172.20.10.0/24', { gateway: '172.20.11.1' })]);
    expect(errors[0]?.message).toBe(
      'Subnet vswitch1: spec.gateway: 172.20.11.1 is not inside cidrBlock 172.20.10.0/24',
    );
    expect(errors[0]?.code).toBe('ERR_VALIDATION');
    expect(errors[0]?.source).toEqual({ file: 'test.yaml', document: 0 });
  });

  it('names the namespace of a NAD', () => {
    const { errors } = check([ovnNad('n1', 'tenant')]);
    expect(errors[0]?.message).toMatch(
      /^NetworkAttachmentDefinition tenant\/n1: spec\.config\.provider: no Subnet has provider n1\.tenant\.ovn$/,
    );
  });
});
