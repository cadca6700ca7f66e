/**
 * The benchmark topology (1,000 subnets in 100 VPCs, 10,000 ports) builds with the exact row
 * counts and consistent refs. Speed is measured in bench/, not asserted here.
 */
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../../../agent/ipam/index.js';
import { buildNorthbound, type PortAllocation } from '../../../../../agent/nb/build/index.js';
import { parseResource } from '../../../../../agent/resources/parse.js';
import type { Resource } from '../../../../../agent/resources/types.js';
import { validateResources } from '../../../../../agent/resources/validate.js';
import { ovnNad, subnet, vpc, type Doc } from '../../resources/helpers.js';
import { expectRefsResolve, keysOf, refKeys, row } from './helpers.js';

function bigTopology() {
  const docs: Doc[] = [];
  for (let v = 0; v < 100; v++) {
    docs.push(vpc(`vpc${v}`));
    for (let s = 0; s < 10; s++) {
      const name = `s${v}-${s}`;
      docs.push(
        subnet(name, `10.${v}.${s}.0/24`, {
          vpc: `vpc${v}`,
          provider: `${name}.default.ovn`,
          private: s % 2 === 0,
          allowSubnets: [`10.${v}.${(s + 1) % 10}.0/24`],
        }),
        ovnNad(name),
      );
    }
  }
  const resources = docs.map(
    (d, i) => parseResource(d, { file: 'big.yaml', document: i }).resource as Resource,
  );
  const { valid, errors } = validateResources(resources);
  expect(errors).toEqual([]);
  const ipam = new Ipam();
  ipam.setSubnets([...valid.subnets.values()]);
  const ports: PortAllocation[] = [];
  for (const s of valid.subnets.keys()) {
    for (let i = 0; i < 10; i++) {
      const a = ipam.allocate(s, `${s}.vm${i}`);
      ports.push({ subnet: s, name: `${s}.vm${i}`, ip: a.ip, mac: a.mac, owner: `${s}.vm${i}` });
    }
  }
  return { resources: valid, ports };
}

describe('scale', () => {
  it('1,000 subnets / 100 VPCs / 10,000 ports: exact row counts, every ref resolving', () => {
    const input = bigTopology();
    const state = buildNorthbound(input);
    const count = (t: string) => keysOf(state, t).length;
    expect(count('Logical_Router')).toBe(100); // the unused default VPC gets no router
    expect(count('Logical_Switch')).toBe(1000);
    expect(count('Logical_Router_Port')).toBe(1000);
    expect(count('Logical_Switch_Port')).toBe(11_000);
    expect(count('DHCP_Options')).toBe(1000);
    expect(count('ACL')).toBe(500 * 5);
    expect(refKeys(row(state, 'Logical_Router', 'lr/vpc42'), 'ports')).toHaveLength(10);
    expect(refKeys(row(state, 'Logical_Switch', 'ls/s42-3'), 'ports')).toHaveLength(11);
    expectRefsResolve(state);
  });
});
