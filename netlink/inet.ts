/**
 * The project's one IP library: IPv4/IPv6 addresses (RFC 791 §3.2 / RFC 4291 §2.2), CIDR blocks
 * (RFC 4632 §3.1), MAC addresses (IEEE 802 EUI-48) and interface names (IFNAMSIZ from
 * <linux/if.h>). It lives in `netlink/` because rtnetlink needs it and `netlink/` may not import
 * `agent/`; the agent's resources and IPAM use it from here.
 *
 * An address is a `bigint` with its family, so IPv4 and IPv6 share one code path; rtnetlink's
 * network-byte-order bytes convert to and from it ({@link ipToBytes}, {@link ipFromBytes}).
 * Text is canonical: dotted quad, IPv6 in the RFC 5952 form.
 *
 * Over ip-num, which converts text to values and back (`IPv4`/`IPv6`) and gives the RFC 5952 form
 * (`collapseIPv6Number`). Two things deliberately do not go through it, as measured with
 * `npm run bench -- inet`:
 * - syntax is checked with `node:net` (`isIPv4`/`isIPv6`), 20-30× faster than ip-num's
 *   `Validator`, which also accepts IPv6 zone ids (`fe80::1%eth0`) that no address here may carry;
 * - arithmetic (network, last address, size, the IPAM cursor) is plain `bigint`: ip-num's
 *   `nextIPNumber()` costs ~100× `v + 1n` and `IPv4CidrRange` ~10× {@link cidrOf}.
 * - IPv4 text ↔ value is four octets and shifts (after `isIPv4` checked the syntax): through
 *   ip-num it cost ~6 µs per address under load (a binary-string round trip), ~0.6 s of a
 *   50,000-port restart (`bench/nb/phases.ts`); by hand it is ~0.1 µs.
 * What ip-num still costs is IPv6 text: parse ~20 µs and RFC 5952 format ~5 µs; at 10,000 ports
 * ~200 ms per IPAM rebuild or NB build pass, where a hand-written IPv6 codec would save most.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { collapseIPv6Number, IPv6 } from 'ip-num';
import { NetlinkInputError } from './errors.js';

/** AF_INET / AF_INET6 from <sys/socket.h>. */
export const AF_INET = 2;
export const AF_INET6 = 10;

export type IpFamily = 4 | 6;

/** A parsed address. */
export interface Ip {
  family: IpFamily;
  value: bigint;
  /** Canonical text. */
  text: string;
}

/** A parsed CIDR block (network address, RFC 4632 prefix length). */
export interface Cidr {
  family: IpFamily;
  /** Canonical `network/prefix`. */
  text: string;
  prefix: number;
  /** Network address. */
  first: bigint;
  /** Last address (IPv4 broadcast). */
  last: bigint;
  /** Number of addresses, `last - first + 1`. */
  size: bigint;
}

/** An interface address `addr/len`: the address keeps its host bits (`10.0.0.1/24`). */
export interface IpPrefix {
  ip: Ip;
  prefix: number;
}

/** Address family number (AF_INET/AF_INET6) of 4 or 6. */
export function afOf(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** 4 or 6 from AF_INET/AF_INET6; undefined for other families. */
export function familyOfAf(af: number | undefined): IpFamily | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

/** Bits of an address of `family`. */
export const bitsOf = (family: IpFamily): number => (family === 4 ? 32 : 128);

/** Family of an address string, or undefined when it is not one (zone ids are not accepted). */
export function ipFamily(text: string): IpFamily | undefined {
  if (isIPv4(text)) return 4;
  if (isIPv6(text) && !text.includes('%')) return 6;
  return undefined;
}

/** Parses an address (surrounding white space ignored); throws NetlinkInputError on bad input. */
export function parseIp(text: string): Ip {
  const t = text.trim();
  const family = ipFamily(t);
  if (family === 4) return { family, value: ipv4Value(t), text: t };
  if (family === 6) {
    const value = IPv6.fromString(t).getValue();
    return { family, value, text: formatIp(6, value) };
  }
  throw new NetlinkInputError(`${JSON.stringify(text)} is not an IP address`);
}

/** Parses an address, returning undefined instead of throwing. */
export function tryParseIp(text: string): Ip | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

/** Canonical text of an address value: dotted quad, or IPv6 per RFC 5952 §4. */
export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 6) return collapseIPv6Number(IPv6.fromBigInt(value).toString());
  const n = Number(value);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The value of a dotted quad that `isIPv4` accepted. */
function ipv4Value(text: string): bigint {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
}

/** Network-byte-order bytes of an address (4 or 16), as rtnetlink carries them. */
export function ipToBytes(ip: { family: IpFamily; value: bigint }): Buffer {
  const len = ip.family === 4 ? 4 : 16;
  return Buffer.from(ip.value.toString(16).padStart(len * 2, '0'), 'hex');
}

/** The address in network-byte-order `bytes` (4 or 16). */
export function ipFromBytes(bytes: Uint8Array): Ip {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new NetlinkInputError(`IP address of ${bytes.length} bytes`);
  }
  const family = bytes.length === 4 ? 4 : 6;
  const value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  return { family, value, text: formatIp(family, value) };
}

/** Parses an interface address `addr/len` (host bits kept); throws NetlinkInputError. */
export function parseIpPrefix(text: string): IpPrefix {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0)
    throw new NetlinkInputError(`${JSON.stringify(text)} is not a CIDR (expected address/prefix)`);
  const addr = t.slice(0, slash);
  const ip = tryParseIp(addr);
  if (!ip) {
    throw new NetlinkInputError(
      `${JSON.stringify(text)} is not a CIDR: ${JSON.stringify(addr)} is not an IP address`,
    );
  }
  const prefixText = t.slice(slash + 1);
  const max = bitsOf(ip.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new NetlinkInputError(`${JSON.stringify(text)} is not a CIDR: prefix must be 0..${max}`);
  }
  return { ip, prefix: Number(prefixText) };
}

export interface ParseCidrOptions {
  /** Accept host bits set (`10.0.0.5/24` → 10.0.0.0/24); default false. */
  allowHostBits?: boolean;
  /** Accept a bare address as a host route (/32 or /128); default false. */
  allowBareIp?: boolean;
}

/**
 * Parses a CIDR block `a.b.c.d/n` or `x::/n`; throws NetlinkInputError with the reason (bad
 * syntax, prefix, host bits set).
 */
export function parseCidr(text: string, options: ParseCidrOptions = {}): Cidr {
  if (options.allowBareIp && !text.includes('/')) {
    const ip = parseIp(text);
    return cidrOf(ip.family, ip.value, bitsOf(ip.family));
  }
  const { ip, prefix } = parseIpPrefix(text);
  const cidr = cidrOf(ip.family, ip.value, prefix);
  if (cidr.first !== ip.value && !options.allowHostBits) {
    throw new NetlinkInputError(`${JSON.stringify(text)} has host bits set (the network is ${cidr.text})`);
  }
  return cidr;
}

/** The CIDR block of `prefix` bits that contains `value`. */
export function cidrOf(family: IpFamily, value: bigint, prefix: number): Cidr {
  const hostBits = BigInt(bitsOf(family) - prefix);
  const size = 1n << hostBits;
  const first = (value >> hostBits) << hostBits;
  const last = first + size - 1n;
  return { family, text: `${formatIp(family, first)}/${prefix}`, prefix, first, last, size };
}

/** True when `ip` (an Ip, or a value of `family`, default the block's) is inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: Ip | bigint, family: IpFamily = cidr.family): boolean {
  const value = typeof ip === 'bigint' ? ip : ip.value;
  const fam = typeof ip === 'bigint' ? family : ip.family;
  return fam === cidr.family && value >= cidr.first && value <= cidr.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

const MAC = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/**
 * Canonical lower-case `aa:bb:cc:dd:ee:ff` of a MAC address written with `:` or `-` (one kind
 * throughout), or undefined when malformed.
 */
export function normalizeMac(text: string): string | undefined {
  const m = MAC.exec(text.trim());
  if (!m) return undefined;
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase();
}

/** The 6 bytes of a MAC address (see {@link normalizeMac}); throws NetlinkInputError. */
export function parseMac(text: string): Buffer {
  const mac = normalizeMac(text);
  if (mac === undefined) throw new NetlinkInputError(`${JSON.stringify(text)} is not a MAC address`);
  return Buffer.from(mac.replaceAll(':', ''), 'hex');
}

/** Formats link-layer bytes as lower-case `aa:bb:...`. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** True for a group (multicast/broadcast) MAC: the I/G bit, bit 0 of the first octet (IEEE 802 §8.2). */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** IFNAMSIZ is 16 including the NUL: names are 1..15 bytes, no `/`, `:` or whitespace, not `.`/`..`. */
export function isValidIfname(name: string): boolean {
  return (
    name.length > 0 && Buffer.byteLength(name) <= 15 && !/[/:\s]/.test(name) && name !== '.' && name !== '..'
  );
}

/** Returns `name` if {@link isValidIfname}; throws NetlinkInputError otherwise. */
export function checkIfname(name: string): string {
  if (!isValidIfname(name)) {
    throw new NetlinkInputError(
      `invalid interface name ${JSON.stringify(name)} (1-15 bytes, no / : or space)`,
    );
  }
  return name;
}
