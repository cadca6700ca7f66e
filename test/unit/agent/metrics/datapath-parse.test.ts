/** The unixctl reply parsers, on replies recorded from ovs-vswitchd 3.1 and on wrong or partial ones. */
import { describe, expect, it } from 'vitest';
import {
  OvsReplyError,
  parseDpctlShow,
  parseDpifShow,
  parseUpcallShow,
} from '../../../../agent/metrics/datapath-parse.js';
import { fixture } from './replay.js';

/**
 * The Linux kernel datapath's `dpctl/show` (masks and cache lines), written from ovs-dpctl(8)'s
 * format: no kernel openvswitch module here to record it from.
 */
const KERNEL_AND_NETDEV = `system@ovs-system:
  lookups: hit:917 missed:33 lost:2
  flows: 7
  masks: hit:1877 total:4 hit/pkt:1.98
  cache: hit:700 hit-rate:73.68%
  caches:
    masks-cache: size:256
  port 0: ovs-system (internal)
  port 1: br-int (internal)
netdev@ovs-netdev:
  lookups: hit:5 missed:1 lost:0
  flows: 1
  port 0: ovs-netdev (tap)
`;

describe('parseDpctlShow', () => {
  it('reads the recorded userspace datapath: lookups, flows, ports, no masks', () => {
    expect(parseDpctlShow(fixture('dpctl-show.txt'))).toEqual([
      { name: 'netdev@ovs-netdev', lookups: { hit: 18, missed: 21, lost: 0 }, flows: 2, ports: 4 },
    ]);
  });

  it('reads masks where the datapath counts them, and several datapaths', () => {
    const [system, netdev] = parseDpctlShow(KERNEL_AND_NETDEV);
    expect(system).toEqual({
      name: 'system@ovs-system',
      lookups: { hit: 917, missed: 33, lost: 2 },
      flows: 7,
      masks: { hit: 1877, total: 4 },
      ports: 2,
    });
    expect(netdev?.masks).toBeUndefined();
    expect(netdev?.lookups).toEqual({ hit: 5, missed: 1, lost: 0 });
  });

  it('keeps what a partial reply has and leaves out unreadable lines', () => {
    const [dp] = parseDpctlShow('netdev@ovs-netdev:\n  lookups: hit:x missed:1 lost:0\n  flows: 3\n');
    expect(dp).toEqual({ name: 'netdev@ovs-netdev', flows: 3, ports: 0 });
    const [cut] = parseDpctlShow('netdev@ovs-netdev:\n  lookups: hit:1 missed:2 lo');
    expect(cut?.lookups).toBeUndefined();
  });

  it('rejects a reply without any datapath (another daemon, an empty answer)', () => {
    for (const text of ['', 'handlers:1 ofconns:3 ports:1', '  lookups: hit:1 missed:2 lost:0\n']) {
      expect(() => parseDpctlShow(text)).toThrow(OvsReplyError);
    }
    try {
      parseDpctlShow('');
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_OVS_REPLY', command: 'dpctl/show' });
    }
  });
});

describe('parseUpcallShow', () => {
  it('reads the recorded flow limit and dump duration', () => {
    expect(parseUpcallShow(fixture('upcall-show.txt'))).toEqual([
      { name: 'netdev@ovs-netdev', flows: { current: 2, limit: 11000 }, dumpDurationSeconds: 0.001 },
    ]);
  });

  it('leaves out fields a partial reply lacks', () => {
    expect(parseUpcallShow('netdev@ovs-netdev:\n  dump duration : 25ms\n')).toEqual([
      { name: 'netdev@ovs-netdev', dumpDurationSeconds: 0.025 },
    ]);
    expect(() => parseUpcallShow('flows : (current 1)')).toThrow(/upcall\/show: no datapath/);
  });
});

describe('parseDpifShow', () => {
  it('counts the recorded ports of br-int (its local port included)', () => {
    expect(parseDpifShow(fixture('dpif-show.txt'))).toEqual({ bridges: { 'br-int': 3 } });
  });

  it('reads several bridges, patch ports (no datapath port) included, and an empty bridge', () => {
    const text = `netdev@ovs-netdev: hit:3 missed:4
  br-int:
    br-int 65534/1: (tap)
    patch-br-int-to-ln 2/none: (patch: peer=patch-ln-to-br-int)
  br-pn1:
    br-pn1 65534/4: (tap)
    eth1 1/5: (system)
    patch-ln-to-br-int 2/none: (patch: peer=patch-br-int-to-ln)
  br-empty:
`;
    expect(parseDpifShow(text).bridges).toEqual({ 'br-int': 2, 'br-pn1': 3, 'br-empty': 0 });
  });
});
