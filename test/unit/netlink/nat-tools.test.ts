import { describe, expect, it } from 'vitest';
import { commandIn } from '../../../netlink/exec.js';
import { checkNetnsName } from '../../../netlink/namespaces.js';
import { parseNftTable } from '../../../netlink/nftables.js';
import { isUnNated } from '../../../netlink/conntrack.js';

describe('commandIn', () => {
  it('runs here, or under nsenter for a name (/run/netns) or a path', () => {
    expect(commandIn(undefined, 'nft', ['-f', '-'])).toEqual(['nft', ['-f', '-']]);
    expect(commandIn('gw', 'nft', ['-j'])).toEqual(['nsenter', ['--net=/run/netns/gw', 'nft', '-j']]);
    expect(commandIn('/proc/42/ns/net', 'conntrack', ['-L'])).toEqual([
      'nsenter',
      ['--net=/proc/42/ns/net', 'conntrack', '-L'],
    ]);
  });
});

describe('checkNetnsName', () => {
  it('allows names longer than an interface name, refuses path characters and blanks', () => {
    expect(checkNetnsName('vpc-nat-gw-a-rather-long-gateway-name')).toBe(
      'vpc-nat-gw-a-rather-long-gateway-name',
    );
    for (const bad of ['', 'a/b', 'a b', '.', '..', 'x'.repeat(256)])
      expect(() => checkNetnsName(bad)).toThrow(/namespace name/);
  });
});

describe('parseNftTable', () => {
  it('reads chains, counters and which named counter each rule uses', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'ip', name: 't', handle: 1 } },
        { counter: { family: 'ip', name: 'dnat-a', table: 't', handle: 2, packets: 5, bytes: 300 } },
        {
          chain: {
            family: 'ip',
            table: 't',
            name: 'prerouting',
            handle: 1,
            type: 'nat',
            hook: 'prerouting',
            prio: -100,
            policy: 'accept',
          },
        },
        {
          rule: {
            family: 'ip',
            table: 't',
            chain: 'prerouting',
            handle: 4,
            expr: [{ match: {} }, { counter: 'dnat-a' }, { dnat: {} }],
          },
        },
        {
          rule: {
            family: 'ip',
            table: 't',
            chain: 'prerouting',
            handle: 5,
            expr: [{ counter: { packets: 0, bytes: 0 } }],
          },
        },
      ],
    });
    const t = parseNftTable(json, 'ip', 't');
    expect(t.chains).toEqual([
      { name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' },
    ]);
    expect([...t.counters]).toEqual([['dnat-a', { packets: 5, bytes: 300 }]]);
    expect(t.rules).toEqual([
      { chain: 'prerouting', handle: 4, counter: 'dnat-a' },
      { chain: 'prerouting', handle: 5, counter: undefined },
    ]);
  });
});

describe('isUnNated', () => {
  it('is true only when the reply tuple is the original reversed', () => {
    const orig = { src: '10.0.0.2', dst: '203.0.113.1', sport: 4000, dport: 80 };
    expect(
      isUnNated({ proto: 'tcp', orig, reply: { src: orig.dst, dst: orig.src, sport: 80, dport: 4000 } }),
    ).toBe(true);
    expect(
      isUnNated({
        proto: 'tcp',
        orig,
        reply: { src: orig.dst, dst: '203.0.113.10', sport: 80, dport: 4000 },
      }),
    ).toBe(false);
  });
});
