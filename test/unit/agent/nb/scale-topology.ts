/**
 * The benchmark-scale topology shared by the build and reconcile scale tests: 100 VPCs ×
 * 10 subnets (every other one private, allowing its neighbour), 10 ports per subnet
 * allocated through IPAM — 1,000 subnets and 10,000 ports.
 */
import { expect } from 'vitest';
import { Ipam } from '../../../../agent/ipam/index.js';
import type { PortAllocation } from '../../../../agent/nb/build/index.js';
import { parseResource } from '../../../../agent/resources/parse.js';
import type { Resource, ResourceSet } from '../../../../agent/resources/types.js';
import { validateResources } from '../../../../agent/resources/validate.js';
import { ovnNad, subnet, vpc, type Doc } from '../resources/helpers.js';

export function scaleTopology(): { resources: ResourceSet; ports: PortAllocation[] } {
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
