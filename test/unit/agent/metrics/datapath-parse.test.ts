/** The unixctl reply parsers, on replies recorded from ovs-vswitchd 3.1 and on wrong or partial ones. */
import { describe, expect, it } from 'vitest';
import {
  OvsReplyError,
  parseDpctlShow,
  parseOfprotoList,
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

describe('parseOfprotoList', () => {
  it('reads the recorded bridge list, and none', () => {
    expect(parseOfprotoList(fixture('ofproto-list.txt'))).toEqual(['br-int']);
    expect(parseOfprotoList('br-int\nbr-pn1\n')).toEqual(['br-int', 'br-pn1']);
    expect(parseOfprotoList('')).toEqual([]);
  });

  it('rejects a reply that is not a list of names', () => {
    expect(() => parseOfprotoList(fixture('dpctl-show.txt'))).toThrow(OvsReplyError);
  });
});
