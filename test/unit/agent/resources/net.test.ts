import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  firstUsable,
  formatRange,
  mergeRanges,
  parseIpRange,
  reservedAddresses,
} from '../../../../agent/resources/net.js';
import { parseCidr } from '../../../../netlink/inet.js';

describe('subnet address rules', () => {
  it('parses exclude ranges a..b', () => {
    expect(parseIpRange('10.0.0.5..10.0.0.9')).toEqual({ family: 4, first: 167772165n, last: 167772169n });
    expect(() => parseIpRange('10.0.0.5..fd00::1')).toThrow(/mixes/);
    expect(() => parseIpRange('10.0.0.9..10.0.0.5')).toThrow(/before its start/);
    expect(formatRange(6, parseIpRange('fd00::5..FD00::9'))).toBe('fd00::5..fd00::9');
    expect(formatRange(4, parseIpRange('10.0.0.5'))).toBe('10.0.0.5');
  });

  it('reserves network and broadcast (not on /31, /32) and the IPv6 subnet-router anycast', () => {
    const offsets = (cidr: string) => {
      const c = parseCidr(cidr);
      return { reserved: reservedAddresses(c).map((v) => v - c.first), gateway: firstUsable(c) - c.first };
    };
    expect(offsets('10.0.0.0/24')).toEqual({ reserved: [0n, 255n], gateway: 1n });
    expect(offsets('10.0.0.0/31')).toEqual({ reserved: [], gateway: 0n });
    expect(offsets('10.0.0.1/32')).toEqual({ reserved: [], gateway: 0n });
    expect(offsets('fd00::/64')).toEqual({ reserved: [0n], gateway: 1n });
    expect(offsets('fd00::/127')).toEqual({ reserved: [], gateway: 1n });
  });

  it('mergeRanges yields sorted, disjoint, non-adjacent ranges covering the same addresses', () => {
    const range = fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 20 }))
      .map(([a, n]) => ({ first: BigInt(a), last: BigInt(a + n) }));
    fc.assert(
      fc.property(fc.array(range, { maxLength: 20 }), (ranges) => {
        const merged = mergeRanges(ranges);
        for (let i = 1; i < merged.length; i++)
          expect(merged[i]!.first > merged[i - 1]!.last + 1n).toBe(true);
        const inAny = (v: bigint, rs: typeof ranges) => rs.some((r) => v >= r.first && v <= r.last);
        for (let v = 0n; v <= 221n; v++) expect(inAny(v, merged)).toBe(inAny(v, ranges));
      }),
      { numRuns: 200 },
    );
  });
});
