import type { rt } from 'netlink';
import { describe, expect, it } from 'vitest';
import { addressRequest, toAddressInfo } from '../../../netlink/addresses.js';
import { linkInfo } from '../../../netlink/attrs.js';
import { NetlinkInputError } from '../../../netlink/errors.js';
import { toLinkInfo } from '../../../netlink/links.js';
import { routeRequest, toRouteInfo } from '../../../netlink/routes.js';
import { sysctlPath } from '../../../netlink/sysctl.js';

const ip = (...b: number[]) => Buffer.from(b);

describe('routeRequest (rtmsg + RTA_*)', () => {
  it('default via gateway: dst_len 0, no RTA_DST, scope universe, table main, protocol boot', () => {
    const [data, attrs] = routeRequest({ dst: 'default', via: '203.0.113.1' });
    expect(data).toMatchObject({
      family: 2,
      dstLen: 0,
      table: 254,
      protocol: 3,
      scope: 'UNIVERSE',
      type: 'UNICAST',
    });
    expect(attrs).toEqual({ table: 254, gateway: ip(203, 0, 113, 1) });
  });

  it('dev-only route is link-scoped and the destination loses its host bits', () => {
    const [data, attrs] = routeRequest({ dst: '198.51.100.77/24', dev: 'v0', metric: 50 }, 4);
    expect(data).toMatchObject({ dstLen: 24, scope: 'LINK' });
    expect(attrs).toEqual({ table: 254, dst: ip(198, 51, 100, 0), oif: 4, priority: 50 });
  });

  it('IPv6 default route takes its family from the gateway; tables above 255 use RT_TABLE_COMPAT', () => {
    const [data, attrs] = routeRequest({ dst: 'default', via: '2001:db8::1', table: 1000 });
    expect(data).toMatchObject({ family: 10, table: 252 });
    expect(attrs.table).toBe(1000);
  });

  it('deletion matches any protocol and scope, and needs neither via nor dev', () => {
    const [data] = routeRequest({ dst: '198.51.100.0/24' }, undefined, { forDelete: true });
    expect(data).toMatchObject({ protocol: 0, scope: 'NOWHERE' });
  });

  it('rejects a family mismatch and a route with neither via nor dev', () => {
    expect(() => routeRequest({ dst: '198.51.100.0/24', via: '2001:db8::1' })).toThrow(NetlinkInputError);
    expect(() => routeRequest({ dst: 'default' })).toThrow(/needs via/);
  });
});

describe('toRouteInfo', () => {
  const msg = (data: rt.Route, attrs: rt.RouteAttrs): rt.RouteMessage => ({ kind: 'route', data, attrs });

  it('reads default / dst, gateway, device name, metric and the enum names', () => {
    const names = new Map([[3, 'eth9']]);
    const def = toRouteInfo(
      msg(
        { family: 2, dstLen: 0, table: 254, protocol: 'BOOT', scope: 'UNIVERSE', type: 'UNICAST' },
        {
          gateway: ip(203, 0, 113, 1),
          oif: 3,
          table: 254,
        },
      ),
      names,
    );
    expect(def).toEqual({
      family: 4,
      dst: 'default',
      via: '203.0.113.1',
      dev: 'eth9',
      oif: 3,
      metric: undefined,
      table: 254,
      protocol: 'boot',
      scope: 'universe',
      type: 'unicast',
    });
    const net = toRouteInfo(
      msg(
        { family: 10, dstLen: 64, table: 254 },
        { dst: parseHex('20010db8000000010000000000000000'), priority: 256 },
      ),
    );
    expect(net).toMatchObject({ family: 6, dst: '2001:db8:0:1::/64', metric: 256, dev: undefined });
  });

  it('skips other families', () => {
    expect(toRouteInfo(msg({ family: 7 }, {}))).toBeUndefined();
  });
});

function parseHex(h: string): Buffer {
  return Buffer.from(h, 'hex');
}

describe('addressRequest / toAddressInfo', () => {
  it('IPv4 sets IFA_LOCAL and IFA_ADDRESS; IPv6 only IFA_ADDRESS; nodad sets IFA_F_NODAD', () => {
    const [d4, a4] = addressRequest(5, '203.0.113.2/24');
    expect(d4).toEqual({ family: 2, prefixlen: 24, index: 5, scope: 0 });
    expect(a4).toEqual({ local: ip(203, 0, 113, 2), address: ip(203, 0, 113, 2) });
    const [d6, a6] = addressRequest(5, '2001:db8::2/64', { nodad: true });
    expect(d6.family).toBe(10);
    expect(a6.local).toBeUndefined();
    expect(a6.flags).toEqual({ nodad: true });
  });

  it('reads IFA_LOCAL in preference to IFA_ADDRESS (point-to-point peers)', () => {
    const m: rt.AddressMessage = {
      kind: 'address',
      data: { family: 2, prefixlen: 32, index: 2, scope: 0 },
      attrs: { local: ip(10, 0, 0, 1), address: ip(10, 0, 0, 2) },
    };
    expect(toAddressInfo(m)).toEqual({
      index: 2,
      family: 4,
      address: '10.0.0.1',
      prefixLen: 32,
      cidr: '10.0.0.1/32',
      scope: 0,
    });
  });
});

describe('toLinkInfo', () => {
  it('reads name, kind, mtu, mac, IFF_UP, master and IFLA_LINK', () => {
    const l = toLinkInfo({
      kind: 'link',
      data: { index: 9, flags: { up: true } },
      attrs: {
        ifname: 'v0',
        mtu: 1400,
        address: ip(2, 0, 0, 0, 0, 1),
        linkinfo: linkInfo('veth'),
        master: 4,
        operstate: 6,
        link: Buffer.from([7, 0, 0, 0]),
      },
    });
    expect(l).toEqual({
      index: 9,
      name: 'v0',
      kind: 'veth',
      mtu: 1400,
      mac: '02:00:00:00:00:01',
      up: true,
      operState: 6,
      masterIndex: 4,
      linkIndex: 7,
    });
    expect(
      toLinkInfo({ kind: 'link', data: {}, attrs: { ifname: 'lo', address: Buffer.alloc(0) } }),
    ).toMatchObject({
      up: false,
      kind: undefined,
      mac: undefined,
    });
  });
});

describe('sysctlPath', () => {
  it('maps sysctl(8) keys under net. to /proc/sys, "/" standing for a dot in a component', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('/proc/sys/net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.eth0/100.forwarding')).toBe(
      '/proc/sys/net/ipv4/conf/eth0.100/forwarding',
    );
    expect(sysctlPath('net/ipv6/conf/all/forwarding')).toBe('/proc/sys/net/ipv6/conf/all/forwarding');
  });

  it('refuses keys that are not per-namespace or escape /proc/sys/net', () => {
    for (const bad of [
      'kernel.hostname',
      'vm.swappiness',
      'net',
      'net..x',
      'net/../kernel/hostname',
      'net.ipv4...',
    ]) {
      expect(() => sysctlPath(bad)).toThrow(NetlinkInputError);
    }
  });
});
