import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetlinkInputError } from '../../../netlink/errors.js';
import {
  checkIfname,
  cidrContains,
  cidrOf,
  cidrsOverlap,
  formatIp,
  formatMac,
  ipFamily,
  ipFromBytes,
  ipToBytes,
  isMulticastMac,
  isValidIfname,
  normalizeMac,
  parseCidr,
  parseIp,
  parseIpPrefix,
  parseMac,
  tryParseIp,
} from '../../../netlink/inet.js';

/** WHATWG URL serializes IPv6 hosts in the RFC 5952 form: an independent oracle. */
const whatwg = (ip6: string) => new URL(`http://[${ip6}]/`).hostname.slice(1, -1);

const hex = (ip: string) => ipToBytes(parseIp(ip)).toString('hex');

describe('IP addresses', () => {
  it('parses IPv4 and IPv6 (incl. :: and embedded dotted quad) to values and network-order bytes', () => {
    expect(parseIp('203.0.113.7')).toEqual({ family: 4, value: 0xcb007107n, text: '203.0.113.7' });
    expect([...ipToBytes(parseIp('203.0.113.7'))]).toEqual([203, 0, 113, 7]);
    expect(hex('2001:db8::1')).toBe('20010db8000000000000000000000001');
    expect(ipToBytes(parseIp('::'))).toEqual(Buffer.alloc(16));
    expect(hex('::ffff:192.0.2.1')).toBe('00000000000000000000ffffc0000201');
    expect(parseIp(' fe80:: ').family).toBe(6);
    expect(ipFamily('10.0.0.1')).toBe(4);
    expect(ipFamily('fe80::1%eth0')).toBeUndefined();
  });

  it('rejects what is not an address', () => {
    for (const bad of ['', '1.2.3', '256.0.0.1', '010.0.0.1', '::g', '1::2::3', '1.2.3.4/24', 'localhost']) {
      expect(() => parseIp(bad)).toThrow(NetlinkInputError);
      expect(tryParseIp(bad)).toBeUndefined();
    }
    expect(() => parseIp('fe80::1%eth0')).toThrow(/is not an IP address/);
  });

  it('formats IPv6 in RFC 5952 canonical form, as WHATWG URL does, and round-trips through bytes', () => {
    const groups = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(groups, (g) => {
        const bytes = Buffer.alloc(16);
        g.forEach((v, i) => bytes.writeUInt16BE(v, i * 2));
        const ip = ipFromBytes(bytes);
        expect(ip.text).toBe(whatwg(ip.text));
        expect(formatIp(6, ip.value)).toBe(ip.text);
        expect(parseIp(ip.text)).toEqual(ip);
        expect(ipToBytes(ip)).toEqual(bytes);
      }),
    );
  });

  it('round-trips IPv4 values through text and bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const ip = ipFromBytes(Buffer.from(n.toString(16).padStart(8, '0'), 'hex'));
        expect(ip.value).toBe(BigInt(n));
        expect(parseIp(ip.text)).toEqual(ip);
      }),
    );
  });

  it('compresses only runs of two or more zero groups, the first of equal runs, lower case', () => {
    expect(parseIp('2001:db8:0:1:1:1:1:1').text).toBe('2001:db8:0:1:1:1:1:1');
    expect(parseIp('2001:0:0:1:0:0:0:1').text).toBe('2001:0:0:1::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1').text).toBe('2001:db8::1:0:0:1');
    expect(parseIp('FD00:0:0:0:0:0:0:1').text).toBe('fd00::1');
    expect(formatIp(6, 0n)).toBe('::');
    expect(formatIp(4, 0xa000001n)).toBe('10.0.0.1');
  });

  it('rejects bytes that are neither 4 nor 16 long', () => {
    expect(() => ipFromBytes(Buffer.alloc(5))).toThrow(NetlinkInputError);
  });
});

describe('CIDR', () => {
  it('an interface address keeps its host bits; the prefix length is validated', () => {
    const p = parseIpPrefix('203.0.113.9/24');
    expect(p).toMatchObject({ prefix: 24, ip: { family: 4, text: '203.0.113.9' } });
    expect(parseIpPrefix('2001:db8::1/128').prefix).toBe(128);
    for (const bad of [
      '203.0.113.9',
      '203.0.113.9/33',
      '::1/129',
      '10.0.0.1/-1',
      '10.0.0.1/a',
      '10.0.0.1/',
      'x/24',
    ]) {
      expect(() => parseIpPrefix(bad)).toThrow(NetlinkInputError);
    }
  });

  it('parses blocks and rejects host bits unless allowed', () => {
    expect(parseCidr('172.20.10.0/24')).toEqual({
      family: 4,
      prefix: 24,
      first: 0xac140a00n,
      last: 0xac140affn,
      size: 256n,
      text: '172.20.10.0/24',
    });
    expect(() => parseCidr('172.20.10.1/24')).toThrow(/host bits set \(the network is 172\.20\.10\.0\/24\)/);
    expect(parseCidr('169.254.0.1/30', { allowHostBits: true }).text).toBe('169.254.0.0/30');
    expect(parseCidr('10.0.0.1', { allowBareIp: true }).text).toBe('10.0.0.1/32');
    expect(parseCidr('fd00::1', { allowBareIp: true }).text).toBe('fd00::1/128');
    expect(() => parseCidr('10.0.0.1')).toThrow(/not a CIDR/);
    expect(() => parseCidr('010.0.0.0/8')).toThrow(NetlinkInputError);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix must be 0..32/);
  });

  it('cidrOf clears host bits for any prefix', () => {
    const net = (text: string) => {
      const { ip, prefix } = parseIpPrefix(text);
      return cidrOf(ip.family, ip.value, prefix);
    };
    expect(net('203.0.113.77/26').text).toBe('203.0.113.64/26');
    expect(net('2001:db8:1:2::5/48').text).toBe('2001:db8:1::/48');
    expect(net('1.2.3.4/0')).toMatchObject({ text: '0.0.0.0/0', size: 1n << 32n });
    expect(net('1.2.3.4/32')).toMatchObject({ text: '1.2.3.4/32', size: 1n });
  });

  it('containment and overlap respect the family', () => {
    const a = parseCidr('10.0.0.0/24');
    expect(cidrContains(a, parseIp('10.0.0.255'))).toBe(true);
    expect(cidrContains(a, parseIp('10.0.1.0'))).toBe(false);
    expect(cidrContains(a, parseIp('::a00:1'))).toBe(false);
    expect(cidrContains(a, 0xa000005n)).toBe(true);
    expect(cidrsOverlap(a, parseCidr('10.0.0.128/25'))).toBe(true);
    expect(cidrsOverlap(a, parseCidr('10.0.1.0/24'))).toBe(false);
    expect(cidrsOverlap(parseCidr('0.0.0.0/0'), parseCidr('::/0'))).toBe(false);
  });
});

describe('MAC and interface names', () => {
  it('parses, normalizes and formats EUI-48 (":" or "-", not mixed), lower case', () => {
    expect(formatMac(parseMac('02:AB:cd:00:11:FF'))).toBe('02:ab:cd:00:11:ff');
    expect(formatMac(parseMac('02-00-00-00-00-01'))).toBe('02:00:00:00:00:01');
    expect(normalizeMac(' 0A-00-00-00-00-01 ')).toBe('0a:00:00:00:00:01');
    for (const bad of ['02:00:00:00:00', '02:00:00:00:00:0g', '0200.0000.0001', '02:00-00:00:00:01']) {
      expect(() => parseMac(bad)).toThrow(NetlinkInputError);
      expect(normalizeMac(bad)).toBeUndefined();
    }
  });

  it('tells group MACs by the I/G bit', () => {
    expect(isMulticastMac('01:00:5e:00:00:01')).toBe(true);
    expect(isMulticastMac('ff:ff:ff:ff:ff:ff')).toBe(true);
    expect(isMulticastMac('02:00:00:00:00:01')).toBe(false);
  });

  it('accepts 1..15-byte names, rejects empty, long (in bytes), "/", ":", spaces, "." and ".."', () => {
    expect(checkIfname('veth-0123456789')).toBe('veth-0123456789');
    for (const bad of ['', 'x'.repeat(16), 'é'.repeat(8), 'a/b', 'a:b', 'a b', '.', '..']) {
      expect(isValidIfname(bad)).toBe(false);
      expect(() => checkIfname(bad)).toThrow(NetlinkInputError);
    }
  });
});
