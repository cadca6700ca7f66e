import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetlinkInputError } from '../../../netlink/errors.js';
import {
  checkIfname,
  formatIp,
  formatMac,
  networkOf,
  parseCidr,
  parseIp,
  parseMac,
} from '../../../netlink/inet.js';

/** WHATWG URL serializes IPv6 hosts in the RFC 5952 form: an independent oracle. */
const whatwg = (ip6: string) => new URL(`http://[${ip6}]/`).hostname.slice(1, -1);

describe('IP addresses', () => {
  it('parses IPv4 and IPv6 (incl. :: and embedded dotted quad) to network-order bytes', () => {
    expect([...parseIp('203.0.113.7').bytes]).toEqual([203, 0, 113, 7]);
    expect(parseIp('2001:db8::1').bytes.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(parseIp('::').bytes).toEqual(Buffer.alloc(16));
    expect(parseIp('::ffff:192.0.2.1').bytes.toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(parseIp('fe80::').family).toBe(6);
  });

  it('rejects what is not an address', () => {
    for (const bad of ['', '1.2.3', '256.0.0.1', '::g', '1.2.3.4/24', 'localhost']) {
      expect(() => parseIp(bad)).toThrow(NetlinkInputError);
    }
  });

  it('formats IPv6 in RFC 5952 canonical form, as WHATWG URL does, and round-trips', () => {
    const groups = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(groups, (g) => {
        const bytes = Buffer.alloc(16);
        g.forEach((v, i) => bytes.writeUInt16BE(v, i * 2));
        const text = formatIp(bytes);
        expect(text).toBe(whatwg(text));
        expect(parseIp(text).bytes).toEqual(bytes);
      }),
    );
  });

  it('compresses only runs of two or more zero groups, the first of equal runs', () => {
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1').bytes)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('2001:0:0:1:0:0:0:1').bytes)).toBe('2001:0:0:1::1');
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1').bytes)).toBe('2001:db8::1:0:0:1');
  });
});

describe('CIDR', () => {
  it('keeps host bits (interface address) and validates the prefix length', () => {
    const c = parseCidr('203.0.113.9/24');
    expect(c).toMatchObject({ family: 4, prefixLen: 24 });
    expect([...c.bytes]).toEqual([203, 0, 113, 9]);
    expect(parseCidr('2001:db8::1/128').prefixLen).toBe(128);
    for (const bad of [
      '203.0.113.9',
      '203.0.113.9/33',
      '::1/129',
      '10.0.0.1/-1',
      '10.0.0.1/a',
      '10.0.0.1/',
    ]) {
      expect(() => parseCidr(bad)).toThrow(NetlinkInputError);
    }
  });

  it('networkOf clears host bits for any prefix', () => {
    expect([...networkOf(parseCidr('203.0.113.77/26')).bytes]).toEqual([203, 0, 113, 64]);
    expect(formatIp(networkOf(parseCidr('2001:db8:1:2::5/48')).bytes)).toBe('2001:db8:1::');
    expect([...networkOf(parseCidr('1.2.3.4/0')).bytes]).toEqual([0, 0, 0, 0]);
    expect([...networkOf(parseCidr('1.2.3.4/32')).bytes]).toEqual([1, 2, 3, 4]);
  });
});

describe('MAC and interface names', () => {
  it('parses and formats EUI-48 (":" or "-"), lower case', () => {
    expect(formatMac(parseMac('02:AB:cd:00:11:FF'))).toBe('02:ab:cd:00:11:ff');
    expect(formatMac(parseMac('02-00-00-00-00-01'))).toBe('02:00:00:00:00:01');
    for (const bad of ['02:00:00:00:00', '02:00:00:00:00:0g', '0200.0000.0001']) {
      expect(() => parseMac(bad)).toThrow(NetlinkInputError);
    }
  });

  it('accepts 1..15-byte names, rejects empty, long, "/", ":", spaces, "." and ".."', () => {
    expect(checkIfname('veth-0123456789')).toBe('veth-0123456789');
    for (const bad of ['', 'x'.repeat(16), 'a/b', 'a:b', 'a b', '.', '..']) {
      expect(() => checkIfname(bad)).toThrow(NetlinkInputError);
    }
  });
});
