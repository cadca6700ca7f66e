import { describe, expect, it } from 'vitest';
import {
  Ipam,
  IpamExhaustedError,
  IpamRejectedError,
  IpamUnknownSubnetError,
  deriveMac,
  type IpamSubnet,
} from '../../../../agent/ipam/index.js';
import { mergeRanges, parseIpRange } from '../../../../agent/resources/net.js';
import { parseCidr, parseIp } from '../../../../netlink/inet.js';

/** An IPAM subnet from text: gateway defaults to the first address, excludes as in Kube-OVN. */
function def(name: string, cidr: string, opts: { gateway?: string; exclude?: string[] } = {}): IpamSubnet {
  const c = parseCidr(cidr);
  const gw = opts.gateway ? parseIp(opts.gateway).value : c.first + 1n;
  return {
    name,
    cidr: c,
    gatewayValue: gw,
    excludeRanges: mergeRanges([{ first: gw, last: gw }, ...(opts.exclude ?? []).map(parseIpRange)]),
  };
}

function reject(fn: () => unknown): IpamRejectedError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IpamRejectedError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('allocation', () => {
  it('skips network, gateway and excludes (addresses and ranges), in order', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24', { exclude: ['10.0.0.2..10.0.0.4', '10.0.0.6'] }));
    const ips = ['a', 'b', 'c'].map((o) => ipam.allocate('s', o).ip);
    expect(ips).toEqual(['10.0.0.5', '10.0.0.7', '10.0.0.8']);
  });

  it('is idempotent per owner (same IP and MAC)', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    const first = ipam.allocate('s', 'vm1');
    expect(ipam.allocate('s', 'vm1')).toEqual(first);
    expect(ipam.allocate('s', 'vm1', { ip: first.ip })).toEqual(first);
    expect(ipam.allocate('s', 'vm2').ip).not.toBe(first.ip);
  });

  it('honours a requested static IP', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    expect(ipam.allocate('s', 'vm1', { ip: '10.0.0.77' }).ip).toBe('10.0.0.77');
    expect(ipam.ownerOf('s', '10.0.0.77')).toBe('vm1');
    // Dynamic allocation never hands out a static one.
    const dynamic = Array.from({ length: 100 }, (_, i) => ipam.allocate('s', `d${i}`).ip);
    expect(dynamic).not.toContain('10.0.0.77');
  });

  it.each([
    ['10.0.1.5', 'outside-cidr'],
    ['fd00::5', 'outside-cidr'],
    ['10.0.0.0', 'reserved'],
    ['10.0.0.255', 'reserved'],
    ['10.0.0.1', 'reserved'],
    ['10.0.0.300', 'invalid'],
  ])('rejects static %s (%s)', (ip, reason) => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24', { exclude: ['10.0.0.2..10.0.0.4', '10.0.0.9'] }));
    const e = reject(() => ipam.allocate('s', 'vm', { ip }));
    expect(e.reason).toBe(reason);
    expect(e.code).toBe('ERR_IPAM_REJECTED');
    expect(e.subnet).toBe('s');
  });

  it('honours a static address inside excludeIps (set aside for static use), never handing it out dynamically', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/29', { exclude: ['10.0.0.2..10.0.0.4'] }));
    expect(ipam.allocate('s', 'gw', { ip: '10.0.0.3' }).ip).toBe('10.0.0.3');
    const dynamic = [ipam.allocate('s', 'a').ip, ipam.allocate('s', 'b').ip];
    expect(dynamic).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(() => ipam.allocate('s', 'c')).toThrow(/exhausted/);
    expect(reject(() => ipam.allocate('s', 'other', { ip: '10.0.0.3' })).reason).toBe('taken');
  });

  it('rejects an address taken by another owner, naming the holder', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    ipam.allocate('s', 'vm1', { ip: '10.0.0.50' });
    const e = reject(() => ipam.allocate('s', 'vm2', { ip: '10.0.0.50' }));
    expect(e.reason).toBe('taken');
    expect(e.holder).toBe('vm1');
    expect(e.message).toBe('10.0.0.50 in s is already allocated to vm1');
  });

  it('rejects a different static IP for an owner that already holds one', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    ipam.allocate('s', 'vm1', { ip: '10.0.0.50' });
    expect(reject(() => ipam.allocate('s', 'vm1', { ip: '10.0.0.51' })).reason).toBe('owner-has-other');
  });

  it('reports an unknown subnet', () => {
    expect(() => new Ipam().allocate('nope', 'x')).toThrow(IpamUnknownSubnetError);
  });
});

describe('release and reuse', () => {
  it('frees the address for reuse', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/29')); // .2-.6 allocatable
    const all = ['a', 'b', 'c', 'd', 'e'].map((o) => ipam.allocate('s', o).ip);
    expect(all).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(ipam.release('c')).toEqual([expect.objectContaining({ subnet: 's', owner: 'c', ip: '10.0.0.4' })]);
    expect(ipam.get('s', 'c')).toBeUndefined();
    expect(ipam.allocate('s', 'f').ip).toBe('10.0.0.4');
    expect(ipam.release('nobody')).toEqual([]);
  });

  it('release(owner) frees every subnet; release(owner, subnet) one', () => {
    const ipam = new Ipam();
    ipam.setSubnets([def('a', '10.1.0.0/24'), def('b', '10.2.0.0/24')]);
    ipam.allocate('a', 'vm');
    ipam.allocate('b', 'vm');
    expect(ipam.release('vm', 'a').map((x) => x.subnet)).toEqual(['a']);
    expect(ipam.get('b', 'vm')?.ip).toBe('10.2.0.2');
    expect(ipam.release('vm').map((x) => x.subnet)).toEqual(['b']);
  });
});

describe('exhaustion', () => {
  it('throws IpamExhaustedError with subnet and size', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('tiny', '10.0.0.0/29', { exclude: ['10.0.0.5..10.0.0.6'] })); // .2 .3 .4
    ['a', 'b', 'c'].forEach((o) => ipam.allocate('tiny', o));
    let err: unknown;
    try {
      ipam.allocate('tiny', 'd');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IpamExhaustedError);
    const e = err as IpamExhaustedError;
    expect(e.code).toBe('ERR_IPAM_EXHAUSTED');
    expect(e.subnet).toBe('tiny');
    expect(e.size).toBe(8n);
    expect(e.allocatable).toBe(3n);
    expect(e.message).toBe(
      'subnet tiny (10.0.0.0/29) is exhausted: all 3 allocatable of 8 addresses are in use',
    );
    // A release makes room again.
    ipam.release('b');
    expect(ipam.allocate('tiny', 'd').ip).toBe('10.0.0.3');
  });
});

describe('rebuild', () => {
  it('restores allocations (IPs and MACs) so identities survive a restart', () => {
    const a = new Ipam();
    a.upsertSubnet(def('s', '10.0.0.0/24'));
    const before = ['vm1', 'vm2', 'vm3'].map((o) => a.allocate('s', o));
    a.release('vm2');

    const b = new Ipam();
    b.upsertSubnet(def('s', '10.0.0.0/24'));
    const result = b.rebuild(a.allocations());
    expect(result).toEqual({ restored: 2, rejected: [] });
    expect(b.allocate('s', 'vm1')).toEqual(before[0]);
    expect(b.allocate('s', 'vm3')).toEqual(before[2]);
    // The freed address is handed out again; taken ones are not.
    expect(b.allocate('s', 'new').ip).toBe(before[1]?.ip);
  });

  it('keeps an address that is now excluded, rejects impossible entries with a reason', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24', { exclude: ['10.0.0.10..10.0.0.20'] }));
    const r = ipam.rebuild([
      { subnet: 's', owner: 'old', ip: '10.0.0.15' },
      { subnet: 's', owner: 'gw', ip: '10.0.0.1' },
      { subnet: 's', owner: 'dup', ip: '10.0.0.15' },
      { subnet: 'gone', owner: 'x', ip: '10.9.0.2' },
      { subnet: 's', owner: 'out', ip: '10.0.1.2' },
    ]);
    expect(r.restored).toBe(1);
    expect(
      r.rejected.map((x) => [x.entry.owner, (x.error as IpamRejectedError).reason ?? x.error.code]),
    ).toEqual([
      ['gw', 'reserved'],
      ['dup', 'taken'],
      ['x', 'ERR_IPAM_UNKNOWN_SUBNET'],
      ['out', 'outside-cidr'],
    ]);
    expect(r.rejected[2]?.error.code).toBe('ERR_IPAM_UNKNOWN_SUBNET');
    expect(ipam.get('s', 'old')?.ip).toBe('10.0.0.15');
    const st = ipam.stats()[0];
    expect(st?.used).toBe(0); // an excluded address in use does not count against the pool
  });

  it('replaces previous state', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    ipam.allocate('s', 'stale');
    ipam.rebuild([{ subnet: 's', owner: 'vm', ip: '10.0.0.9', mac: '0a:00:00:00:00:09' }]);
    expect(ipam.get('s', 'stale')).toBeUndefined();
    expect(ipam.get('s', 'vm')).toEqual({
      subnet: 's',
      owner: 'vm',
      ip: '10.0.0.9',
      mac: '0a:00:00:00:00:09',
    });
  });
});

describe('MACs', () => {
  it('are stable per (subnet, owner), locally administered unicast, and differ between owners', () => {
    const a = new Ipam();
    const b = new Ipam();
    for (const i of [a, b]) i.upsertSubnet(def('s', '10.0.0.0/16'));
    const macs = new Set<string>();
    for (let n = 0; n < 2000; n++) {
      const m = a.allocate('s', `vm${n}`).mac;
      expect(b.allocate('s', `vm${n}`).mac).toBe(m);
      const first = parseInt(m.slice(0, 2), 16);
      expect(first & 0x02).toBe(0x02);
      expect(first & 0x01).toBe(0);
      macs.add(m);
    }
    expect(macs.size).toBe(2000);
  });

  it('resolve a collision with the next candidate', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    ipam.allocate('s', 'squatter', { mac: deriveMac('s', 'victim') });
    const m = ipam.allocate('s', 'victim').mac;
    expect(m).toBe(deriveMac('s', 'victim', 1));
  });

  it('honour a requested MAC, reject a taken or multicast one', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    expect(ipam.allocate('s', 'a', { mac: '0A-00-00-00-00-01' }).mac).toBe('0a:00:00:00:00:01');
    expect(reject(() => ipam.allocate('s', 'b', { mac: '0a:00:00:00:00:01' })).reason).toBe('mac-taken');
    expect(reject(() => ipam.allocate('s', 'b', { mac: '01:00:5e:00:00:01' })).reason).toBe('mac-invalid');
    expect(ipam.get('s', 'b')).toBeUndefined();
  });
});

describe('subnet changes and stats', () => {
  it('counts used and available', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24', { exclude: ['10.0.0.2..10.0.0.11'] }));
    ipam.allocate('s', 'a');
    ipam.allocate('s', 'b');
    expect(ipam.stats()).toEqual([
      { subnet: 's', cidr: '10.0.0.0/24', size: 256n, allocatable: 243n, used: 2, available: 241n },
    ]);
  });

  it('a CIDR change drops allocations outside it; removal drops all', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('s', '10.0.0.0/24'));
    ipam.allocate('s', 'low', { ip: '10.0.0.20' });
    ipam.allocate('s', 'high', { ip: '10.0.0.200' });
    const dropped = ipam.upsertSubnet(def('s', '10.0.0.0/25'));
    expect(dropped.map((d) => d.owner)).toEqual(['high']);
    expect(ipam.get('s', 'low')?.ip).toBe('10.0.0.20');
    expect(ipam.setSubnets([]).map((d) => d.owner)).toEqual(['low']);
    expect(ipam.hasSubnet('s')).toBe(false);
  });

  it('works for IPv6 subnets', () => {
    const ipam = new Ipam();
    ipam.upsertSubnet(def('v6', 'fd00:10::/64', { exclude: ['fd00:10::2..fd00:10::ff'] }));
    expect(ipam.allocate('v6', 'a').ip).toBe('fd00:10::100');
    expect(ipam.allocate('v6', 'b', { ip: 'fd00:10::abcd' }).ip).toBe('fd00:10::abcd');
    expect(ipam.stats()[0]?.available).toBe((1n << 64n) - 256n - 2n);
  });
});

describe('scale', () => {
  it('allocates 10,000 ports over 1,000 subnets, all distinct, then releases and reuses', () => {
    const ipam = new Ipam();
    const subnets = Array.from({ length: 1000 }, (_, i) => def(`s${i}`, `10.${i >> 8}.${i & 255}.0/24`));
    ipam.setSubnets(subnets);
    const seen = new Set<string>();
    for (let p = 0; p < 10_000; p++) {
      const a = ipam.allocate(`s${p % 1000}`, `port${p}`);
      seen.add(a.ip);
    }
    expect(seen.size).toBe(10_000);
    expect(ipam.stats().reduce((n, s) => n + s.used, 0)).toBe(10_000);
    for (let p = 0; p < 10_000; p += 2) ipam.release(`port${p}`, `s${p % 1000}`);
    for (let p = 0; p < 10_000; p += 2) ipam.allocate(`s${p % 1000}`, `again${p}`);
    expect(ipam.allocations()).toHaveLength(10_000);
  });
});
