import { describe, expect, it } from 'vitest';
import { check, ovnNad, providerNetwork, subnet, vlan, vpc, where } from './helpers.js';

describe('defaults', () => {
  it('fills gateway, vpc, protocol, provider, enableDHCP and excludes the gateway', () => {
    const { valid, errors } = check([
      subnet('s', '172.20.10.0/24', { excludeIps: ['172.20.10.2..172.20.10.5', '172.20.10.9'] }),
    ]);
    expect(errors).toEqual([]);
    const s = valid.subnets.get('s')?.spec;
    expect(s?.gateway).toBe('172.20.10.1');
    expect(s?.vpc).toBe('ovn-cluster');
    expect(s?.protocol).toBe('IPv4');
    expect(s?.provider).toBe('ovn');
    expect(s?.enableDHCP).toBe(true);
    expect(s?.natOutgoing).toBe(false);
    expect(s?.gatewayType).toBe('distributed');
    // gateway .1 and .2-.5 merge into one range.
    expect(s?.excludeIps).toEqual(['172.20.10.1..172.20.10.5', '172.20.10.9']);
    expect(s?.cidr.text).toBe('172.20.10.0/24');
  });

  it('keeps enableDHCP false when asked and parses dhcpV4Options', () => {
    const { valid } = check([
      subnet('s', '10.0.0.0/24', {
        enableDHCP: false,
        dhcpV4Options: 'lease_time=600, dns_server={1.1.1.1,9.9.9.9}',
      }),
    ]);
    expect(valid.subnets.get('s')?.spec.enableDHCP).toBe(false);
    expect(valid.subnets.get('s')?.spec.dhcpV4Options).toEqual({
      lease_time: '600',
      dns_server: '{1.1.1.1,9.9.9.9}',
    });
  });

  it('derives IPv6 protocol and gateway', () => {
    const { valid, errors } = check([subnet('s6', 'fd00:10::/64')]);
    expect(errors).toEqual([]);
    expect(valid.subnets.get('s6')?.spec.protocol).toBe('IPv6');
    expect(valid.subnets.get('s6')?.spec.gateway).toBe('fd00:10::1');
  });

  it('has the default VPC without declaring it', () => {
    const { valid } = check([]);
    expect(valid.vpcs.get('ovn-cluster')?.implicit).toBe(true);
  });

  it('accepts standard metadata fields and status, and ignores them', () => {
    const doc = vpc('v');
    doc['metadata'] = {
      name: 'v',
      labels: { a: 'b' },
      annotations: { x: 'y' },
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2024-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
      finalizers: ['kube-ovn-controller'],
    };
    doc['status'] = { conditions: [], standby: true };
    const { valid, errors } = check([doc]);
    expect(errors).toEqual([]);
    expect(valid.vpcs.get('v')?.meta.labels).toEqual({ a: 'b' });
    expect(valid.vpcs.get('v')?.meta.uid).toBe('u-1');
  });

  it('fills the EIP external subnet from its gateway', () => {
    const { valid, errors } = check([
      vpc('v'),
      subnet('lan', '10.9.0.0/24', { vpc: 'v' }),
      subnet('ext', '203.0.113.0/24'),
      {
        apiVersion: 'kubeovn.io/v1',
        kind: 'VpcNatGateway',
        metadata: { name: 'gw' },
        spec: { vpc: 'v', subnet: 'lan', lanIp: '10.9.0.254', externalSubnets: ['ext'] },
      },
      { apiVersion: 'kubeovn.io/v1', kind: 'IptablesEIP', metadata: { name: 'e' }, spec: { natGwDp: 'gw' } },
    ]);
    expect(errors).toEqual([]);
    expect(valid.eips.get('e')?.spec.externalSubnet).toBe('ext');
  });
});

describe('skipping', () => {
  it('keeps valid resources beside a bad one', () => {
    const { valid, errors } = check([
      vpc('vpc-1'),
      subnet('good', '10.1.0.0/24', { vpc: 'vpc-1', provider: 'good.default.ovn' }),
      subnet('bad', '10.2.0.0/24', { vpc: 'vpc-1', gateway: '10.3.0.1' }),
      ovnNad('good'),
    ]);
    expect(where(errors)).toEqual(['Subnet/bad spec.gateway']);
    expect([...valid.subnets.keys()]).toEqual(['good']);
    expect(valid.vpcs.has('vpc-1')).toBe(true);
    expect(valid.nads.has('default/good')).toBe(true);
  });

  it('skips the dependents of a skipped resource and says why', () => {
    const { valid, errors } = check([
      vpc('vpc-1', { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '192.0.2.1' }] }),
      subnet('s1', '10.1.0.0/24', { vpc: 'vpc-1', provider: 'n1.default.ovn' }),
      ovnNad('n1'),
      subnet('other', '10.1.0.0/24'),
    ]);
    expect(where(errors)).toEqual([
      'Vpc/vpc-1 spec.staticRoutes[0].nextHopIP',
      'Subnet/s1 spec.vpc',
      'NetworkAttachmentDefinition/n1 spec.config.provider',
    ]);
    expect(errors[1]?.message).toMatch(
      /Vpc vpc-1 is invalid and was skipped \(spec\.staticRoutes\[0\]\.nextHopIP: 192\.0\.2\.1 is not inside/,
    );
    expect(errors[2]?.message).toMatch(
      /the Subnet with provider n1\.default\.ovn, s1, is invalid and was skipped/,
    );
    expect([...valid.subnets.keys()]).toEqual(['other']);
    expect(valid.vpcs.has('vpc-1')).toBe(false);
  });

  it('chains through Vlan and ProviderNetwork', () => {
    const { valid, errors } = check([
      providerNetwork('pn', { defaultInterface: 'bad/name' }),
      vlan('v10', 10, 'pn'),
      subnet('s', '198.51.100.0/24', { vlan: 'v10' }),
    ]);
    expect(where(errors)).toEqual([
      'ProviderNetwork/pn spec.defaultInterface',
      'Vlan/v10 spec.provider',
      'Subnet/s spec.vlan',
    ]);
    expect(valid.subnets.size).toBe(0);
  });

  it('an overlap keeps the older subnet (creationTimestamp), whatever the file order', () => {
    const older = subnet('older', '10.0.0.0/16');
    (older['metadata'] as Record<string, unknown>)['creationTimestamp'] = '2020-01-01T00:00:00Z';
    const { valid, errors } = check([subnet('newer', '10.0.1.0/24'), older]);
    expect(where(errors)).toEqual(['Subnet/newer spec.cidrBlock']);
    expect([...valid.subnets.keys()]).toEqual(['older']);
  });

  it('an invalid declaration of ovn-cluster falls back to the implicit default VPC', () => {
    const { valid, errors } = check([
      vpc('ovn-cluster', { staticRoutes: [{ cidr: '0.0.0.0/0', nextHopIP: '192.0.2.1' }] }),
      subnet('s', '10.1.0.0/24'),
    ]);
    expect(where(errors)).toEqual(['Vpc/ovn-cluster spec.staticRoutes[0].nextHopIP']);
    expect(valid.vpcs.get('ovn-cluster')?.implicit).toBe(true);
    expect(valid.subnets.has('s')).toBe(true);
  });

  it('a peering whose other side is skipped skips this side too', () => {
    const { valid, errors } = check([
      vpc('a', { vpcPeerings: [{ remoteVpc: 'b', localConnectIP: '169.254.0.1/30' }] }),
      vpc('b', {
        vpcPeerings: [{ remoteVpc: 'a', localConnectIP: '169.254.0.2/30' }],
        staticRoutes: [{ cidr: '10.0.0.0/24', nextHopIP: '192.0.2.1' }],
      }),
    ]);
    expect(where(errors)).toEqual([
      'Vpc/b spec.staticRoutes[0].nextHopIP',
      'Vpc/a spec.vpcPeerings[0].remoteVpc',
    ]);
    expect(valid.vpcs.has('a')).toBe(false);
  });
});
