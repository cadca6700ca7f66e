import { describe, expect, it } from 'vitest';
import { movable } from '../../../../../agent/node/ovs/uplink.js';
import type { AddressInfo, RouteInfo } from '../../../../../netlink/index.js';

const addr = (cidr: string, scope: number, family: 4 | 6 = 4): AddressInfo => {
  const [address, len] = cidr.split('/') as [string, string];
  return { index: 2, family, address, prefixLen: Number(len), cidr, scope };
};
const route = (dst: string, dev: string, protocol: string, extra: Partial<RouteInfo> = {}): RouteInfo => ({
  family: 4,
  dst,
  via: undefined,
  dev,
  oif: 2,
  metric: undefined,
  table: 254,
  protocol,
  scope: 'universe',
  type: 'unicast',
  ...extra,
});

describe('movable (what follows the uplink onto its bridge)', () => {
  it('takes global addresses and non-kernel main-table routes out of the NIC only', () => {
    const m = movable(
      [addr('198.51.100.2/24', 0), addr('fe80::1/64', 253, 6), addr('127.0.0.2/8', 254)],
      [
        route('198.51.100.0/24', 'eth1', 'kernel'),
        route('default', 'eth1', 'static', { via: '198.51.100.1' }),
        route('203.0.113.0/24', 'eth1', 'boot', { via: '198.51.100.1', metric: 100 }),
        route('10.0.0.0/8', 'eth0', 'boot'),
        route('192.0.2.0/24', 'eth1', 'boot', { table: 100 }),
      ],
      'eth1',
    );
    expect(m.addrs.map((a) => a.cidr)).toEqual(['198.51.100.2/24']);
    expect(m.routes.map((r) => r.dst)).toEqual(['default', '203.0.113.0/24']);
  });
});
