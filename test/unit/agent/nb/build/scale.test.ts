/**
 * The benchmark topology (1,000 subnets in 100 VPCs, 10,000 ports) builds with the exact row
 * counts and consistent refs. Speed is measured in bench/, not asserted here.
 */
import { describe, expect, it } from 'vitest';
import { buildNorthbound } from '../../../../../agent/nb/build/index.js';
import { scaleTopology } from '../scale-topology.js';
import { expectRefsResolve, keysOf, refKeys, row } from './helpers.js';

describe('scale', () => {
  it('1,000 subnets / 100 VPCs / 10,000 ports: exact row counts, every ref resolving', () => {
    const input = scaleTopology();
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
