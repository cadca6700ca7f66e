/**
 * Pure parsing/formatting of the values rtnetlink carries as raw bytes: IPv4/IPv6 addresses
 * (network byte order, RFC 791 §3.2 / RFC 4291 §2.2), CIDR prefixes (RFC 4632 §3.1), MAC addresses
 * (IEEE 802 EUI-48) and interface names (IFNAMSIZ from <linux/if.h>).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { NetlinkInputError } from './errors.js';

/** AF_INET / AF_INET6 from <sys/socket.h>. */
export const AF_INET = 2;
export const AF_INET6 = 10;

export type IpFamily = 4 | 6;

export interface ParsedIp {
  family: IpFamily;
  bytes: Buffer;
}

export interface ParsedCidr extends ParsedIp {
  prefixLen: number;
}

/** Address family number (AF_INET/AF_INET6) of 4 or 6. */
export function afOf(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** 4 or 6 from AF_INET/AF_INET6; undefined for other families. */
export function familyOfAf(af: number | undefined): IpFamily | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

/** Parses an IPv4 or IPv6 address into network-byte-order bytes. */
export function parseIp(text: string): ParsedIp {
  if (isIPv4(text)) return { family: 4, bytes: Buffer.from(text.split('.').map(Number)) };
  if (isIPv6(text)) return { family: 6, bytes: ipv6Bytes(text) };
  throw new NetlinkInputError(`not an IP address: ${JSON.stringify(text)}`);
}

function ipv6Bytes(text: string): Buffer {
  let s = text;
  const out = Buffer.alloc(16);
  // An embedded dotted quad (RFC 4291 §2.2 form 3) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const b = v4[1].split('.').map(Number);
    s =
      s.slice(0, -v4[1].length) +
      `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Formats network-byte-order bytes (4 or 16) as text; IPv6 in RFC 5952 canonical form. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new NetlinkInputError(`IP address of ${bytes.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 §4.2.3: compress the longest run (first if tied) of two or more zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Parses `addr/len` (the address keeps its host bits: `10.0.0.1/24` is an interface address). */
export function parseCidr(text: string): ParsedCidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new NetlinkInputError(`not a CIDR (addr/len): ${JSON.stringify(text)}`);
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const prefixLen = Number(lenText);
  const max = ip.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || prefixLen > max) {
    throw new NetlinkInputError(`bad prefix length in ${JSON.stringify(text)} (0..${max})`);
  }
  return { ...ip, prefixLen };
}

/** Zeroes the host bits: `10.0.0.7/24` → bytes of `10.0.0.0` (route destinations must be networks). */
export function networkOf(c: ParsedCidr): ParsedCidr {
  const bytes = Buffer.from(c.bytes);
  for (let bit = c.prefixLen; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { ...c, bytes };
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into 6 bytes. */
export function parseMac(text: string): Buffer {
  if (!/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(text)) {
    throw new NetlinkInputError(`not a MAC address: ${JSON.stringify(text)}`);
  }
  return Buffer.from(text.split(/[:-]/).map((h) => parseInt(h, 16)));
}

/** Formats link-layer bytes as lower-case `aa:bb:...`. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** IFNAMSIZ is 16 including the NUL: names are 1..15 bytes, no `/`, `:` or whitespace, not `.`/`..`. */
export function checkIfname(name: string): string {
  if (
    name.length === 0 ||
    Buffer.byteLength(name) > 15 ||
    /[/:\s]/.test(name) ||
    name === '.' ||
    name === '..'
  ) {
    throw new NetlinkInputError(
      `invalid interface name ${JSON.stringify(name)} (1-15 bytes, no / : or space)`,
    );
  }
  return name;
}
