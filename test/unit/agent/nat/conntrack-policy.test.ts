import { describe, expect, it } from 'vitest';
import { conntrackVictims } from '../../../../agent/nat/conntrack-policy.js';
import type { NatRules } from '../../../../agent/nat/ruleset.js';
import { parseConntrackLine, type ConntrackEntry } from '../../../../netlink/conntrack.js';

const EIP = '203.0.113.10';
const FIP_EIP = '203.0.113.20';
const HOST = '203.0.113.1';

const rules = (over: Partial<NatRules> = {}): NatRules => ({
  lanIf: 'net1',
  wanIf: 'net2',
  lanIp: '10.0.1.254',
  snat: [],
  dnat: [],
  fip: [],
  ...over,
});
const dnat = {
  name: 'web',
  eip: EIP,
  protocol: 'tcp' as const,
  externalPort: 8888,
  internalIp: '10.0.1.5',
  internalPort: 80,
};
const snat = { name: 's', eip: EIP, cidr: '10.0.1.0/24' };
const fip = { name: 'f', eip: FIP_EIP, internalIp: '10.0.1.6' };

const tcp = (o: [string, number, string, number], r: [string, number, string, number]): ConntrackEntry => ({
  proto: 'tcp',
  orig: { src: o[0], sport: o[1], dst: o[2], dport: o[3] },
  reply: { src: r[0], sport: r[1], dst: r[2], dport: r[3] },
  state: 'ESTABLISHED',
});

// translated by the DNAT rule
const viaDnat = tcp([HOST, 40000, EIP, 8888], ['10.0.1.5', 80, HOST, 40000]);
// translated by the SNAT rule
const viaSnat = tcp(['10.0.1.7', 40001, HOST, 80], [HOST, 80, EIP, 40001]);
// translated by the FIP (out)
const viaFipOut = tcp(['10.0.1.6', 40002, HOST, 80], [HOST, 80, FIP_EIP, 40002]);
// tracked before any rule existed: un-NATed
const rawOut = tcp(['10.0.1.7', 40003, HOST, 80], [HOST, 80, '10.0.1.7', 40003]);
const rawIn = tcp([HOST, 40004, EIP, 8888], [EIP, 8888, HOST, 40004]);
// to the gateway itself
const toGateway = tcp(['10.0.1.7', 40005, '10.0.1.254', 22], ['10.0.1.254', 22, '10.0.1.7', 40005]);
const all = [viaDnat, viaSnat, viaFipOut, rawOut, rawIn, toGateway];

describe('conntrackVictims', () => {
  it('a removed DNAT rule takes exactly its translated connections', () => {
    const out = conntrackVictims(all, rules({ dnat: [dnat], snat: [snat] }), rules({ snat: [snat] }));
    expect(out.victims).toEqual([viaDnat]);
    expect(out.reasons).toEqual(['dnat/web removed']);
  });

  it('an unbound FIP takes its sessions, both directions', () => {
    const fipIn = tcp([HOST, 40006, FIP_EIP, 22], ['10.0.1.6', 22, HOST, 40006]);
    const out = conntrackVictims([...all, fipIn], rules({ fip: [fip] }), rules());
    expect(out.victims).toEqual([viaFipOut, fipIn]);
  });

  it('arriving rules take un-NATed connections they should translate, not the gateway’s own', () => {
    const out = conntrackVictims(
      all,
      rules(),
      rules({ dnat: [dnat], snat: [snat] }),
      new Set(['10.0.1.254', EIP]),
    );
    expect(out.victims).toEqual([rawOut, rawIn]);
    expect(out.reasons).toEqual(['snat/s un-NATed', 'dnat/web un-NATed']);
  });

  it('no change, no victims; an unknown past deletes nothing already translated', () => {
    const now = rules({ dnat: [dnat], snat: [snat], fip: [fip] });
    expect(conntrackVictims(all, now, now).victims).toEqual([]);
    const fresh = conntrackVictims(all, undefined, now, new Set(['10.0.1.254']));
    expect(fresh.victims).toEqual([rawOut, rawIn]);
  });

  it('a changed DNAT target is the old rule removed and the new one added', () => {
    const moved = { ...dnat, internalIp: '10.0.1.9' };
    const out = conntrackVictims(all, rules({ dnat: [dnat] }), rules({ dnat: [moved] }));
    expect(out.victims).toEqual([viaDnat, rawIn]);
  });
});

describe('parseConntrackLine', () => {
  it('reads both tuples of a TCP and an ICMP entry', () => {
    const t = parseConntrackLine(
      'tcp      6 431999 ESTABLISHED src=10.0.1.7 dst=203.0.113.1 sport=40001 dport=80 src=203.0.113.1 dst=203.0.113.10 sport=80 dport=40001 [ASSURED] mark=0 use=1',
    );
    expect(t).toEqual(viaSnat);
    const i = parseConntrackLine(
      'icmp     1 29 src=10.0.1.7 dst=203.0.113.1 type=8 code=0 id=77 src=203.0.113.1 dst=203.0.113.10 type=0 code=0 id=77 mark=0 use=1',
    );
    expect(i).toEqual({
      proto: 'icmp',
      orig: { src: '10.0.1.7', dst: '203.0.113.1', id: 77 },
      reply: { src: '203.0.113.1', dst: '203.0.113.10', id: 77 },
    });
    expect(
      parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.'),
    ).toBeUndefined();
  });
});
