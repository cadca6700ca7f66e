import { describe, expect, it } from 'vitest';
import { formatCniError, CniError } from '../../../../agent/cni/errors.js';
import { formatAddResult, formatIpamResult, resultAddresses } from '../../../../agent/cni/result.js';

const port = {
  ifname: 'net1',
  mac: '0a:58:ac:14:0a:02',
  ip: '172.20.10.2',
  prefix: 24,
  gateway: '172.20.10.1',
  mtu: 1400,
  netns: '/var/run/netns/cni-1234',
  defaultRoute: true,
};

describe('ADD result per cniVersion', () => {
  it('0.3.1 and 0.4.0: ips carry version "4"; no interface mtu', () => {
    for (const v of ['0.3.0', '0.3.1', '0.4.0'] as const)
      expect(formatAddResult(port, v)).toEqual({
        cniVersion: v,
        interfaces: [{ name: 'net1', mac: '0a:58:ac:14:0a:02', sandbox: '/var/run/netns/cni-1234' }],
        ips: [{ version: '4', address: '172.20.10.2/24', gateway: '172.20.10.1', interface: 0 }],
        routes: [{ dst: '0.0.0.0/0', gw: '172.20.10.1' }],
        dns: {},
      });
  });

  it('1.0.0 drops ips[].version; 1.1.0 adds interfaces[].mtu', () => {
    const r100 = formatAddResult(port, '1.0.0');
    expect(r100['ips']).toEqual([{ address: '172.20.10.2/24', gateway: '172.20.10.1', interface: 0 }]);
    expect(r100['interfaces']).toEqual([
      { name: 'net1', mac: '0a:58:ac:14:0a:02', sandbox: '/var/run/netns/cni-1234' },
    ]);
    expect((formatAddResult(port, '1.1.0')['interfaces'] as unknown[])[0]).toMatchObject({ mtu: 1400 });
  });

  it('IPv6; no default route when the agent gave none; IPAM-only results have no interface', () => {
    const v6 = formatAddResult({ ...port, ip: 'fd00::2', prefix: 64, gateway: 'fd00::1' }, '0.4.0');
    expect(v6['ips']).toEqual([{ version: '6', address: 'fd00::2/64', gateway: 'fd00::1', interface: 0 }]);
    expect(v6['routes']).toEqual([{ dst: '::/0', gw: 'fd00::1' }]);
    expect(formatAddResult({ ...port, defaultRoute: false }, '1.0.0')['routes']).toEqual([]);
    expect(formatIpamResult(port, '1.0.0')).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '172.20.10.2/24', gateway: '172.20.10.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '172.20.10.1' }],
      dns: {},
    });
  });

  it('reads the addresses of a prevResult', () => {
    expect(resultAddresses(formatAddResult(port, '1.0.0'))).toEqual(['172.20.10.2/24']);
    expect(resultAddresses(undefined)).toEqual([]);
    expect(resultAddresses({ ips: 'x' })).toEqual([]);
  });
});

describe('CNI error object', () => {
  it('has cniVersion, code, msg and details (only when there are some)', () => {
    expect(formatCniError(new CniError(7, 'bad provider', 'socket /x'), '0.3.1')).toEqual({
      cniVersion: '0.3.1',
      code: 7,
      msg: 'bad provider',
      details: 'socket /x',
    });
    expect(formatCniError(new CniError(4, 'CNI_IFNAME is required'), '1.0.0')).toEqual({
      cniVersion: '1.0.0',
      code: 4,
      msg: 'CNI_IFNAME is required',
    });
  });
});
