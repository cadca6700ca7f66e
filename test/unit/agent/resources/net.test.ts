import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, mergeRanges, parseCidr, parseIp, parseIpRange } from '../../../../agent/resources/net.js';

describe('address helpers', () => {
  it('formats IPv6 per RFC 5952 (longest zero run, first on tie, no single-group ::)', () => {
    expect(parseIp('FD00:0:0:0:0:0:0:1').text).toBe('fd00::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1').text).toBe('2001:db8::1:0:0:1');
    expect(parseIp('2001:db8:0:1:1:1:1:1').text).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(6, 0n)).toBe('::');
  });

  it('parses CIDRs and rejects host bits unless allowed', () => {
    expect(parseCidr('172.20.10.0/24')).toMatchObject({
      family: 4,
      prefix: 24,
      size: 256n,
      text: '172.20.10.0/24',
    });
    expect(() => parseCidr('172.20.10.1/24')).toThrow(/host bits set \(the network is 172\.20\.10\.0\/24\)/);
    expect(parseCidr('169.254.0.1/30', { allowHostBits: true }).text).toBe('169.254.0.0/30');
    expect(parseCidr('10.0.0.1', { allowBareIp: true }).text).toBe('10.0.0.1/32');
    expect(() => parseCidr('10.0.0.1')).toThrow(/not a CIDR/);
    expect(() => parseCidr('010.0.0.0/8')).toThrow();
  });

  it('parses exclude ranges a..b', () => {
    expect(parseIpRange('10.0.0.5..10.0.0.9')).toEqual({ family: 4, first: 167772165n, last: 167772169n });
    expect(() => parseIpRange('10.0.0.5..fd00::1')).toThrow(/mixes/);
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
