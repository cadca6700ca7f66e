import { describe, expect, it } from 'vitest';
import { buildNodeOvs } from '../../../../../agent/node/ovs/desired.js';
import { check, providerNetwork, vlan } from '../../resources/helpers.js';

function resources(docs: Parameters<typeof check>[0]) {
  const r = check(docs);
  expect(r.errors).toEqual([]);
  return r.valid;
}

describe('buildNodeOvs', () => {
  const set = resources([
    providerNetwork('tor', {
      defaultInterface: 'eth1',
      customInterfaces: [{ interface: 'ens5', nodes: ['node2'] }],
      excludeNodes: ['node3'],
    }),
    providerNetwork('plain', { defaultInterface: 'eth2' }),
    vlan('v2018', 2018, 'tor'),
    vlan('v2017', 2017, 'tor'),
    vlan('v0', 0, 'tor'),
  ]);

  it('gives each provider network a bridge br-<name>, its uplink as a trunk of 0 + VLAN ids, and a mapping', () => {
    const d = buildNodeOvs(set, { node: 'node1', datapathType: 'netdev' });
    expect(d.problems).toEqual([]);
    expect([...d.bridges.keys()]).toEqual(['br-plain', 'br-tor']);
    expect(d.bridges.get('br-tor')).toEqual({
      network: 'tor',
      bridge: 'br-tor',
      resource: 'ProviderNetwork/tor',
      datapathType: 'netdev',
      uplink: { name: 'eth1', trunks: [0, 2017, 2018], field: 'spec.defaultInterface' },
    });
    // No Vlan uses it: untagged only (an empty trunks would carry every VLAN).
    expect(d.bridges.get('br-plain')?.uplink.trunks).toEqual([0]);
    expect([...d.mappings]).toEqual([
      ['plain', 'br-plain'],
      ['tor', 'br-tor'],
    ]);
  });

  it('uses the customInterfaces entry naming this node', () => {
    const d = buildNodeOvs(set, { node: 'node2', datapathType: '' });
    expect(d.bridges.get('br-tor')?.uplink).toMatchObject({
      name: 'ens5',
      field: 'spec.customInterfaces[0].interface',
    });
    expect(d.bridges.get('br-tor')?.datapathType).toBe('');
  });

  it('leaves out a provider network that excludes this node', () => {
    const d = buildNodeOvs(set, { node: 'node3', datapathType: 'netdev' });
    expect([...d.bridges.keys()]).toEqual(['br-plain']);
    expect(d.mappings.has('tor')).toBe(false);
  });

  it('reports a missing NIC with resource and field, and skips only that network', () => {
    const d = buildNodeOvs(set, { node: 'node2', datapathType: 'netdev', links: new Set(['lo', 'eth2']) });
    expect(d.problems).toEqual([
      expect.objectContaining({
        code: 'NIC_NOT_FOUND',
        resource: 'ProviderNetwork/tor',
        field: 'spec.customInterfaces[0].interface',
      }),
    ]);
    expect(d.problems[0]?.message).toMatch(/ens5 does not exist on node node2/);
    expect([...d.bridges.keys()]).toEqual(['br-plain']);
    expect([...d.mappings.keys()]).toEqual(['plain']);
  });

  it('is empty without provider networks', () => {
    const d = buildNodeOvs(resources([]), { node: 'n', datapathType: 'netdev' });
    expect(d.bridges.size + d.mappings.size + d.problems.length).toBe(0);
  });
});

describe('buildNodeOvs: shared NICs and MACs', () => {
  it('reports a second provider network on the same NIC and pins the bridge MAC when asked', () => {
    const set = check([
      providerNetwork('a', { defaultInterface: 'eth1' }),
      providerNetwork('b', { defaultInterface: 'eth1' }),
    ]).valid;
    const d = buildNodeOvs(set, {
      node: 'n1',
      datapathType: 'netdev',
      macs: new Map([['eth1', '0a:00:00:00:00:01']]),
    });
    expect([...d.bridges.keys()]).toEqual(['br-a']);
    expect(d.bridges.get('br-a')?.hwaddr).toBe('0a:00:00:00:00:01');
    expect(d.problems).toEqual([
      expect.objectContaining({
        code: 'NIC_IN_USE',
        resource: 'ProviderNetwork/b',
        field: 'spec.defaultInterface',
      }),
    ]);
  });
});
