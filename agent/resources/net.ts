/**
 * Address arithmetic for resources and IPAM, over ip-num. Addresses are kept as `bigint`
 * values with their family so IPv4 and IPv6 share one code path; strings are canonical
 * (dotted quad, RFC 5952 compressed IPv6).
 */
import { IPv4, IPv4CidrRange, IPv6, IPv6CidrRange, Validator } from 'ip-num';

export type Family = 4 | 6;

/** A parsed CIDR block (network address, RFC 4632 prefix length). */
export interface Cidr {
  family: Family;
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

/** An inclusive address range `[first, last]`. */
export interface IpRange {
  first: bigint;
  last: bigint;
}

/** A parsed address. */
export interface Ip {
  family: Family;
  value: bigint;
  text: string;
}

/** Family of an address string, or undefined when it is not one. */
export function ipFamily(text: string): Family | undefined {
  if (Validator.isValidIPv4String(text)[0]) return 4;
  if (!text.includes('%') && Validator.isValidIPv6String(text)[0]) return 6;
  return undefined;
}

/** Parses an address; throws with a short reason on bad input. */
export function parseIp(text: string): Ip {
  const family = ipFamily(text.trim());
  if (family === 4) {
    const value = IPv4.fromString(text.trim()).getValue();
    return { family, value, text: formatIp(4, value) };
  }
  if (family === 6) {
    const value = IPv6.fromString(text.trim()).getValue();
    return { family, value, text: formatIp(6, value) };
  }
  throw new Error(`${JSON.stringify(text)} is not an IP address`);
}

/** Parses an address, returning undefined instead of throwing. */
export function tryParseIp(text: string): Ip | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

/** Canonical text of an address value (RFC 5952 for IPv6). */
export function formatIp(family: Family, value: bigint): string {
  if (family === 4) return new IPv4(value).toString();
  // RFC 5952 §4: lower case, leading zeros dropped, the longest run (first on tie) of 2+ zero
  // groups as `::`.
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export interface ParseCidrOptions {
  /** Accept host bits set (`10.0.0.5/24` → 10.0.0.0/24); default false. */
  allowHostBits?: boolean;
  /** Accept a bare address as a host route (/32 or /128); default false. */
  allowBareIp?: boolean;
}

/** Parses `a.b.c.d/n` or `x::/n`; throws with a reason (bad syntax, prefix, host bits set). */
export function parseCidr(text: string, options: ParseCidrOptions = {}): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) {
    if (options.allowBareIp) {
      const ip = parseIp(t);
      return cidrOf(ip.family, ip.value, ip.family === 4 ? 32 : 128);
    }
    throw new Error(`${JSON.stringify(text)} is not a CIDR (expected address/prefix)`);
  }
  const addr = t.slice(0, slash);
  const prefixText = t.slice(slash + 1);
  const ip = tryParseIp(addr);
  if (!ip)
    throw new Error(`${JSON.stringify(text)} is not a CIDR: ${JSON.stringify(addr)} is not an IP address`);
  const max = ip.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new Error(`${JSON.stringify(text)} is not a CIDR: prefix must be 0..${max}`);
  }
  const prefix = Number(prefixText);
  const cidr = cidrOf(ip.family, ip.value, prefix);
  if (cidr.first !== ip.value && !options.allowHostBits) {
    throw new Error(`${JSON.stringify(text)} has host bits set (the network is ${cidr.text})`);
  }
  // Cross-check against ip-num's own CIDR parser.
  const viaIpNum = ip.family === 4 ? IPv4CidrRange.fromCidr(cidr.text) : IPv6CidrRange.fromCidr(cidr.text);
  if (viaIpNum.getFirst().getValue() !== cidr.first) throw new Error(`internal: CIDR mismatch for ${text}`);
  return cidr;
}

/** The CIDR of `prefix` bits that contains `value`. */
export function cidrOf(family: Family, value: bigint, prefix: number): Cidr {
  const bits = family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - prefix);
  const size = 1n << hostBits;
  const first = (value >> hostBits) << hostBits;
  const last = first + size - 1n;
  return { family, text: `${formatIp(family, first)}/${prefix}`, prefix, first, last, size };
}

export function cidrContains(cidr: Cidr, ip: Ip | bigint, family: Family = cidr.family): boolean {
  const value = typeof ip === 'bigint' ? ip : ip.value;
  const fam = typeof ip === 'bigint' ? family : ip.family;
  return fam === cidr.family && value >= cidr.first && value <= cidr.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/**
 * Addresses of an IPv4 block that are never handed out: the network and broadcast address
 * (RFC 919/922), except for /31 point-to-point (RFC 3021) and /32. IPv6 reserves the
 * Subnet-Router anycast address (RFC 4291 §2.6.1), i.e. the first one.
 */
export function reservedAddresses(cidr: Cidr): bigint[] {
  if (cidr.family === 6) return cidr.prefix >= 127 ? [] : [cidr.first];
  if (cidr.prefix >= 31) return [];
  return [cidr.first, cidr.last];
}

/** The first usable address of a block (the default gateway): network + 1, or the network for /31, /32. */
export function firstUsable(cidr: Cidr): bigint {
  return cidr.family === 4 && cidr.prefix >= 31 ? cidr.first : cidr.first + 1n;
}

/**
 * Parses one `excludeIps` entry: an address or an inclusive range `a..b` (Kube-OVN's syntax).
 * Throws with a reason.
 */
export function parseIpRange(text: string): IpRange & { family: Family } {
  const parts = text.split('..');
  if (parts.length > 2) throw new Error(`${JSON.stringify(text)} is not an address or range a..b`);
  const a = parseIp(parts[0] ?? '');
  if (parts.length === 1) return { family: a.family, first: a.value, last: a.value };
  const b = parseIp(parts[1] ?? '');
  if (a.family !== b.family) throw new Error(`${JSON.stringify(text)} mixes IPv4 and IPv6`);
  if (b.value < a.value) throw new Error(`${JSON.stringify(text)}: range end is before its start`);
  return { family: a.family, first: a.value, last: b.value };
}

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(ranges: readonly IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else {
      out.push({ first: r.first, last: r.last });
    }
  }
  return out;
}

/** Text form of a range: `a` or `a..b`. */
export function formatRange(family: Family, r: IpRange): string {
  return r.first === r.last
    ? formatIp(family, r.first)
    : `${formatIp(family, r.first)}..${formatIp(family, r.last)}`;
}

/**
 * Canonical lower-case `aa:bb:cc:dd:ee:ff` of an IEEE 802 MAC address (`:` or `-` separated),
 * or undefined when malformed.
 */
export function normalizeMac(text: string): string | undefined {
  const m =
    /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(
      text.trim(),
    );
  if (!m) return undefined;
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase();
}

/** True for a group (multicast/broadcast) MAC: the I/G bit, bit 0 of the first octet (IEEE 802 §8.2). */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** Linux interface names: 1..15 bytes (IFNAMSIZ-1), no `/`, `:` or whitespace, not `.`/`..`. */
export function isValidIfName(name: string): boolean {
  return name.length > 0 && name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}
