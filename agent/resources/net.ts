/**
 * Subnet address rules of resources and IPAM, over the IP library `netlink/inet.ts`: the addresses
 * a block never hands out, its default gateway, and `excludeIps` ranges (`a` or `a..b`).
 */
import { formatIp, parseIp, type Cidr, type IpFamily } from '../../netlink/inet.js';

/** An inclusive address range `[first, last]`. */
export interface IpRange {
  first: bigint;
  last: bigint;
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
export function parseIpRange(text: string): IpRange & { family: IpFamily } {
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
export function formatRange(family: IpFamily, r: IpRange): string {
  return r.first === r.last
    ? formatIp(family, r.first)
    : `${formatIp(family, r.first)}..${formatIp(family, r.last)}`;
}
