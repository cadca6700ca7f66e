import { describe, expect, it } from 'vitest';
import { blockedDeletes, withBlockedKept } from '../../../../agent/resources/deletes.js';
import { validateResources } from '../../../../agent/resources/validate.js';
import { check, ovnNad, providerNetwork, subnet, vlan, vpc, type Doc } from './helpers.js';

const prevSet = (docs: Doc[]) => check(docs).valid;
const nextList = (docs: Doc[]) => check(docs).resources;

describe('blockedDeletes', () => {
  const topology = [
    vpc('vpc-1'),
    subnet('s1', '10.1.0.0/24', { vpc: 'vpc-1', provider: 'n1.default.ovn' }),
    ovnNad('n1'),
  ];

  it('reports a VPC removed while a subnet still references it', () => {
    const blocked = blockedDeletes(prevSet(topology), nextList(topology.slice(1)));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({
      kind: 'Vpc',
      name: 'vpc-1',
      dependents: [{ kind: 'Subnet', name: 's1', field: 'spec.vpc' }],
    });
    expect(blocked[0]?.message).toBe(
      'Vpc vpc-1 was removed but is still referenced by Subnet s1 (spec.vpc); keeping it until they are gone',
    );
  });

  it('a subnet removed while its NAD remains is blocked', () => {
    const blocked = blockedDeletes(prevSet(topology), nextList([vpc('vpc-1'), ovnNad('n1')]));
    expect(blocked.map((b) => `${b.kind}/${b.name}`)).toEqual(['Subnet/s1']);
    expect(blocked[0]?.dependents[0]).toMatchObject({
      kind: 'NetworkAttachmentDefinition',
      namespace: 'default',
      field: 'spec.config.provider',
    });
  });

  it('removing dependents together with the VPC is not blocked', () => {
    expect(blockedDeletes(prevSet(topology), nextList([]))).toEqual([]);
  });

  it('keeps transitively: a kept Subnet keeps its Vlan, which keeps its ProviderNetwork', () => {
    const prev = prevSet([
      providerNetwork('pn'),
      vlan('v10', 10, 'pn'),
      subnet('s', '198.51.100.0/24', { vlan: 'v10', provider: 'n.default.ovn' }),
      ovnNad('n'),
    ]);
    const blocked = blockedDeletes(prev, nextList([ovnNad('n')]));
    expect(blocked.map((b) => `${b.kind}/${b.name}`)).toEqual(['Subnet/s', 'Vlan/v10', 'ProviderNetwork/pn']);
  });

  it('withBlockedKept gives a resource list that still validates', () => {
    const { resources, blocked } = withBlockedKept(prevSet(topology), nextList(topology.slice(1)));
    expect(blocked).toHaveLength(1);
    const v = validateResources(resources);
    expect(v.errors).toEqual([]);
    expect(v.valid.vpcs.has('vpc-1')).toBe(true);
    expect(v.valid.subnets.has('s1')).toBe(true);
  });

  it('never reports the implicit default VPC', () => {
    const prev = prevSet([subnet('s', '10.1.0.0/24')]);
    expect(blockedDeletes(prev, nextList([subnet('s', '10.1.0.0/24')]))).toEqual([]);
  });
});
