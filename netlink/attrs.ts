/**
 * Pure builders and parsers for the nested rtnetlink attributes the npm `netlink` package leaves as
 * raw `Buffer`s — chiefly IFLA_LINKINFO (kind + kind-specific data) for veth, bridge and vlan links.
 *
 * Layout per RFC 3549 §2.3.2 and <linux/netlink.h>: an attribute is `struct nlattr { u16 nla_len;
 * u16 nla_type; }` followed by the payload, padded to 4 bytes (NLA_ALIGNTO); `nla_len` counts header
 * plus unpadded payload. Host byte order (little-endian on the machines we target).
 */

/** IFLA_* attribute types from <linux/if_link.h> that we build ourselves. */
export const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  LINKINFO: 18,
  NET_NS_FD: 28,
} as const;

/** IFLA_INFO_* (nested inside IFLA_LINKINFO). */
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
/** VETH_INFO_PEER from <linux/veth.h>: payload is a struct ifinfomsg followed by IFLA_* attributes. */
export const VETH_INFO_PEER = 1;
/** IFLA_VLAN_ID from <linux/if_link.h> (u16). */
export const IFLA_VLAN_ID = 1;

const NLA_HDRLEN = 4;
const align4 = (n: number) => (n + 3) & ~3;

/** One attribute: header, payload, zero padding to 4 bytes. */
export function nla(type: number, payload: Uint8Array): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.set(payload, NLA_HDRLEN);
  return out;
}

export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
export const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
/** NUL-terminated string payload (NLA_STRING / NLA_NUL_STRING). */
export const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);

/** `struct ifinfomsg` (16 bytes): family u8, pad u8, type u16, index s32, flags u32, change u32. */
export function ifinfomsg(
  m: { family?: number; type?: number; index?: number; flags?: number; change?: number } = {},
): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(m.family ?? 0, 0);
  b.writeUInt16LE(m.type ?? 0, 2);
  b.writeInt32LE(m.index ?? 0, 4);
  b.writeUInt32LE(m.flags ?? 0, 8);
  b.writeUInt32LE(m.change ?? 0, 12);
  return b;
}

/** Payload of IFLA_LINKINFO: IFLA_INFO_KIND and, when given, IFLA_INFO_DATA. */
export function linkInfo(kind: string, data?: Buffer): Buffer {
  const parts = [nla(IFLA_INFO.KIND, cstr(kind))];
  if (data) parts.push(nla(IFLA_INFO.DATA, data));
  return Buffer.concat(parts);
}

export interface VethPeerSpec {
  name: string;
  /** An open fd of the namespace the peer is created in (IFLA_NET_NS_FD). */
  netnsFd?: number;
  mtu?: number;
  mac?: Buffer;
}

/** IFLA_INFO_DATA of a veth: VETH_INFO_PEER = ifinfomsg + the peer's own IFLA_* attributes. */
export function vethInfoData(peer: VethPeerSpec): Buffer {
  const attrs = [nla(IFLA.IFNAME, cstr(peer.name))];
  if (peer.netnsFd !== undefined) attrs.push(nla(IFLA.NET_NS_FD, u32(peer.netnsFd)));
  if (peer.mtu !== undefined) attrs.push(nla(IFLA.MTU, u32(peer.mtu)));
  if (peer.mac !== undefined) attrs.push(nla(IFLA.ADDRESS, peer.mac));
  return nla(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), ...attrs]));
}

/** IFLA_INFO_DATA of a vlan: the 802.1Q VLAN id (IEEE 802.1Q §9.6, 1..4094). */
/** IFLA_MACVLAN_MODE (<linux/if_link.h>) and MACVLAN_MODE_BRIDGE. */
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE_BRIDGE = 4;

/** IFLA_INFO_DATA of a macvlan in bridge mode (children of one parent reach each other). */
export function macvlanInfoData(mode = MACVLAN_MODE_BRIDGE): Buffer {
  return nla(IFLA_MACVLAN_MODE, u32(mode));
}

export function vlanInfoData(id: number): Buffer {
  return nla(IFLA_VLAN_ID, u16(id));
}

/** Splits an attribute stream into `[type, payload]` pairs (type without NLA_F_NESTED/NET_BYTEORDER). */
export function parseAttrs(buf: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.push([buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + NLA_HDRLEN, off + len)]);
    off += align4(len);
  }
  return out;
}

/** Reads a NUL-terminated (or unterminated) string payload. */
export function readCstr(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString();
}

/** The IFLA_INFO_KIND of an IFLA_LINKINFO payload (`veth`, `bridge`, ...), if present. */
export function linkKindOf(linkinfo: Buffer | undefined): string | undefined {
  if (!linkinfo) return undefined;
  const kind = parseAttrs(linkinfo).find(([t]) => t === IFLA_INFO.KIND);
  return kind ? readCstr(kind[1]) : undefined;
}
