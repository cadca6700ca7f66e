import { describe, expect, it } from 'vitest';
import { buildNatDesired, parseSelector, selectsNode } from '../../../../agent/nat/desired.js';
import { deriveMac } from '../../../../agent/ipam/mac.js';
import {
  check,
  dnat,
  eip,
  fip,
  nad,
  natGateway,
  snat,
  subnet,
  vpc,
  where,
  type Doc,
} from '../resources/helpers.js';

const node = { name: 'node1', labels: { 'kubernetes.io/hostname': 'node1', zone: 'a' } };

const base = (gw: Record<string, unknown> = {}): Doc[] => [
  vpc('v'),
  subnet('lan', '10.0.1.0/24', { vpc: 'v' }),
  subnet('apps', '10.0.2.0/24', { vpc: 'v' }),
  subnet('elsewhere', '10.7.0.0/24'),
  nad('ext', { cniVersion: '0.3.0', type: 'macvlan', master: 'eth1', mode: 'bridge' }, 'kube-system'),
  subnet('ext', '203.0.113.0/24', {
    provider: 'ext.kube-system.ovn',
    gateway: '203.0.113.1',
    excludeIps: ['203.0.113.2..203.0.113.9'],
  }),
  natGateway('gw', {
    vpc: 'v',
    subnet: 'lan',
    lanIp: '10.0.1.254',
    externalSubnets: ['ext'],
    selector: ['kubernetes.io/hostname: node1'],
    ...gw,
  }),
];

const load = (docs: Doc[]) => {
  const r = check(docs);
  expect(where(r.errors)).toEqual([]);
  return r.valid;
};

describe('selectors', () => {
  it('parses "key: value", "key=value" and a bare node name', () => {
    expect(parseSelector('kubernetes.io/hostname: node1')).toEqual({
      key: 'kubernetes.io/hostname',
      value: 'node1',
    });
    expect(parseSelector('zone=a')).toEqual({ key: 'zone', value: 'a' });
    expect(parseSelector('node1')).toEqual({ key: undefined, value: 'node1' });
  });

  it('needs every entry to match a label or the node name; empty matches nothing', () => {
    expect(selectsNode(['zone: a', 'kubernetes.io/hostname: node1'], node)).toBe(true);
    expect(selectsNode(['zone: a', 'kubernetes.io/hostname: node2'], node)).toBe(false);
    expect(selectsNode(['kubernetes.io/hostname: node1'], { name: 'node1', labels: {} })).toBe(true);
    expect(selectsNode(['node1'], node)).toBe(true);
    expect(selectsNode([], node)).toBe(false);
  });
});

describe('buildNatDesired', () => {
  const full = () =>
    load([
      ...base(),
      eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.10', macAddress: '02:00:00:00:00:10' }),
      eip('e2', { natGwDp: 'gw', v4ip: '203.0.113.20' }),
      snat('s1', { eip: 'e1', internalCIDR: '10.0.1.0/24' }),
      dnat('d1', {
        eip: 'e1',
        externalPort: 8888,
        protocol: 'tcp',
        internalIp: '10.0.1.5',
        internalPort: 80,
      }),
      fip('f1', { eip: 'e2', internalIp: '10.0.1.6' }),
    ]);

  it('builds the gateway this node runs: namespace, legs, routes, EIPs, rules, MAC', () => {
    const d = buildNatDesired(full(), node);
    const gw = d.gateways.get('gw')!;
    expect(gw.netns).toBe('vpc-nat-gw-gw');
    expect(gw.lan).toMatchObject({ subnet: 'lan', gateway: '10.0.1.1', ip: '10.0.1.254', prefix: 24 });
    expect(gw.external).toMatchObject({ subnet: 'ext', gateway: '203.0.113.1', master: 'eth1' });
    expect(gw.external.cidr.text).toBe('203.0.113.0/24');
    // the VPC's other subnets go via the LAN subnet's gateway; other VPCs are not routed
    expect(gw.lanRoutes).toEqual([{ dst: '10.0.2.0/24', via: '10.0.1.1' }]);
    expect(gw.eips).toEqual([
      { name: 'e1', ip: '203.0.113.10', nat: ['dnat', 'snat'] },
      { name: 'e2', ip: '203.0.113.20', nat: ['fip'] },
    ]);
    expect(gw.rules.snat).toEqual([{ name: 's1', eip: '203.0.113.10', cidr: '10.0.1.0/24' }]);
    expect(gw.rules.dnat[0]).toMatchObject({
      eip: '203.0.113.10',
      externalPort: 8888,
      internalIp: '10.0.1.5',
    });
    expect(gw.rules.fip).toEqual([{ name: 'f1', eip: '203.0.113.20', internalIp: '10.0.1.6' }]);
    expect(gw.ruleObjects.map((r) => `${r.id} ${r.v4ip}`)).toEqual([
      'IptablesSnatRule/s1 203.0.113.10',
      'IptablesDnatRule/d1 203.0.113.10',
      'IptablesFIPRule/f1 203.0.113.20',
    ]);
    expect(gw.wanMac).toBe('02:00:00:00:00:10');
    expect(gw.problems).toEqual([]);
  });

  it('another node runs nothing; an empty selector is reported, not placed everywhere', () => {
    expect(buildNatDesired(full(), { name: 'node2', labels: {} }).gateways.size).toBe(0);
    const d = buildNatDesired(load([...base({ selector: [] })]), node);
    expect(d.gateways.size).toBe(0);
    expect(d.problems.map((p) => `${p.code} ${p.resource} ${p.field}`)).toEqual([
      'NAT_GW_NO_SELECTOR VpcNatGateway/gw spec.selector',
    ]);
  });

  it('derives a stable MAC from the gateway name when no EIP gives one', () => {
    const gw = buildNatDesired(
      load([...base(), eip('e2', { natGwDp: 'gw', v4ip: '203.0.113.20' })]),
      node,
    ).gateways.get('gw')!;
    expect(gw.wanMac).toBe(deriveMac('vpc-nat-gw', 'gw'));
  });

  it('an EIP without v4ip waits for an allocation, and so do its rules; with one it is used', () => {
    const set = load([
      ...base(),
      eip('e1', { natGwDp: 'gw' }),
      snat('s1', { eip: 'e1', internalCIDR: '10.0.1.0/24' }),
    ]);
    const waiting = buildNatDesired(set, node).gateways.get('gw')!;
    expect(waiting.rules.snat).toEqual([]);
    expect(waiting.problems.map((p) => `${p.code} ${p.resource}`)).toEqual([
      'NAT_EIP_UNALLOCATED IptablesEIP/e1',
      'NAT_EIP_UNALLOCATED IptablesSnatRule/s1',
    ]);
    // The address the writer allocated and recorded in Northbound.
    const allocations = new Map([['e1', '203.0.113.10']]);
    const ready = buildNatDesired(set, node, { allocations }).gateways.get('gw')!;
    expect(ready.rules.snat).toEqual([{ name: 's1', eip: '203.0.113.10', cidr: '10.0.1.0/24' }]);
    expect(ready.problems).toEqual([]);
  });

  it('qosPolicy and bgpSpeaker are refused with the resource and field named, never dropped', () => {
    const r = check([...base({ qosPolicy: 'q1', bgpSpeaker: { enabled: true } })]);
    expect(where(r.errors)).toEqual(expect.arrayContaining(['VpcNatGateway/gw spec.qosPolicy']));
    expect(where(r.errors).some((w) => w.startsWith('VpcNatGateway/gw spec.bgpSpeaker'))).toBe(true);
  });

  it('conflicting EIP MACs are reported on the EIP that loses', () => {
    const d = buildNatDesired(
      load([
        ...base(),
        eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.10', macAddress: '02:00:00:00:00:10' }),
        eip('e2', { natGwDp: 'gw', v4ip: '203.0.113.11', macAddress: '02:00:00:00:00:11' }),
      ]),
      node,
    );
    expect(d.gateways.get('gw')!.problems.map((p) => `${p.code} ${p.resource} ${p.field}`)).toEqual([
      'NAT_EIP_MAC_CONFLICT IptablesEIP/e2 spec.macAddress',
    ]);
  });
});
