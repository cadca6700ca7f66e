import fc from 'fast-check';
import { AttrStream, rt } from 'netlink';
import { describe, expect, it } from 'vitest';
import {
  cstr,
  IFLA,
  IFLA_INFO,
  ifinfomsg,
  linkInfo,
  linkKindOf,
  nla,
  parseAttrs,
  readCstr,
  u32,
  VETH_INFO_PEER,
  vethInfoData,
  vlanInfoData,
} from '../../../netlink/attrs.js';

describe('nla (RFC 3549 §2.3.2 attribute layout)', () => {
  it('writes length (header + unpadded payload), type, payload and zero padding to 4 bytes', () => {
    const a = nla(3, Buffer.from('ab\0'));
    expect([...a]).toEqual([7, 0, 3, 0, 0x61, 0x62, 0, 0]);
    expect(nla(1, Buffer.alloc(0))).toEqual(Buffer.from([4, 0, 1, 0]));
    expect(nla(2, u32(0x01020304)).length).toBe(8);
  });

  it('parseAttrs inverts a stream of nla() for any payloads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0x3fff }), fc.uint8Array({ maxLength: 40 })), {
          maxLength: 8,
        }),
        (attrs) => {
          const stream = Buffer.concat(attrs.map(([t, p]) => nla(t, p)));
          const back = parseAttrs(stream).map(([t, p]) => [t, [...p]]);
          expect(back).toEqual(attrs.map(([t, p]) => [t, [...p]]));
        },
      ),
    );
  });

  it('parseAttrs masks NLA_F_NESTED and stops at a truncated attribute', () => {
    const nested = nla(0x8000 | 5, Buffer.from([1, 2, 3, 4]));
    const truncated = Buffer.from([12, 0, 1, 0, 9]);
    expect(parseAttrs(Buffer.concat([nested, truncated]))).toEqual([[5, Buffer.from([1, 2, 3, 4])]]);
  });
});

describe('ifinfomsg', () => {
  it('is the 16-byte struct with index as s32 and flags/change as u32', () => {
    const b = ifinfomsg({ family: 0, index: 7, flags: 1, change: 1 });
    expect(b.length).toBe(16);
    expect(b.readInt32LE(4)).toBe(7);
    expect(b.readUInt32LE(8)).toBe(1);
    expect(b.readUInt32LE(12)).toBe(1);
  });
});

describe('IFLA_LINKINFO builders', () => {
  it('veth: kind "veth" and VETH_INFO_PEER = ifinfomsg + peer IFNAME, NET_NS_FD, MTU, ADDRESS', () => {
    const mac = Buffer.from([2, 0, 0, 0, 0, 9]);
    const info = linkInfo('veth', vethInfoData({ name: 'peer0', netnsFd: 42, mtu: 1400, mac }));
    const top = new Map(parseAttrs(info));
    expect(readCstr(top.get(IFLA_INFO.KIND)!)).toBe('veth');
    const [[type, peer]] = parseAttrs(top.get(IFLA_INFO.DATA)!) as [[number, Buffer]];
    expect(type).toBe(VETH_INFO_PEER);
    expect(peer.subarray(0, 16)).toEqual(Buffer.alloc(16));
    const peerAttrs = new Map(parseAttrs(peer.subarray(16)));
    expect(readCstr(peerAttrs.get(IFLA.IFNAME)!)).toBe('peer0');
    expect(peerAttrs.get(IFLA.NET_NS_FD)!.readUInt32LE(0)).toBe(42);
    expect(peerAttrs.get(IFLA.MTU)!.readUInt32LE(0)).toBe(1400);
    expect(peerAttrs.get(IFLA.ADDRESS)).toEqual(mac);
  });

  it('veth without a namespace carries no IFLA_NET_NS_FD', () => {
    const peer = parseAttrs(vethInfoData({ name: 'p' }))[0]![1];
    expect(parseAttrs(peer.subarray(16)).map(([t]) => t)).toEqual([IFLA.IFNAME]);
  });

  it('vlan: IFLA_VLAN_ID as u16; bridge: kind only', () => {
    const vlan = new Map(parseAttrs(linkInfo('vlan', vlanInfoData(2017))));
    expect(parseAttrs(vlan.get(IFLA_INFO.DATA)!)[0]![1].readUInt16LE(0)).toBe(2017);
    expect(parseAttrs(linkInfo('bridge')).map(([t]) => t)).toEqual([IFLA_INFO.KIND]);
  });

  it('linkKindOf reads the kind back; undefined without linkinfo', () => {
    expect(linkKindOf(linkInfo('bridge'))).toBe('bridge');
    expect(linkKindOf(undefined)).toBeUndefined();
    expect(linkKindOf(nla(IFLA_INFO.DATA, cstr('x')))).toBeUndefined();
  });

  it('survives the npm netlink package formatting a whole RTM_NEWLINK and parsing it back', () => {
    const linkinfo = linkInfo('veth', vethInfoData({ name: 'p1', netnsFd: 5 }));
    const out = new AttrStream();
    rt.formatLinkMessage({ kind: 'link', data: {}, attrs: { ifname: 'v1', linkinfo } }, out);
    const parsed = rt.parseLinkMessage(Buffer.concat(out.bufs));
    expect(parsed.attrs.ifname).toBe('v1');
    expect(parsed.attrs.linkinfo).toEqual(linkinfo);
    expect(linkKindOf(parsed.attrs.linkinfo)).toBe('veth');
  });
});
