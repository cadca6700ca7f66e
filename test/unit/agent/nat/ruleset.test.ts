import { describe, expect, it } from 'vitest';
import {
  buildIncremental,
  buildRuleset,
  counterName,
  deleteRulesetScript,
  HAIRPIN_COUNTER,
  orderSnat,
  parseEchoedHandles,
  renderRules,
  type NatRules,
} from '../../../../agent/nat/ruleset.js';

const base = (over: Partial<NatRules> = {}): NatRules => ({
  lanIf: 'net1',
  wanIf: 'net2',
  lanIp: '10.0.1.254',
  snat: [],
  dnat: [],
  fip: [],
  ...over,
});

const seeds = base({
  snat: [
    { name: 'snat-wide', eip: '203.0.113.10', cidr: '10.0.0.0/16' },
    { name: 'snat-narrow', eip: '203.0.113.11', cidr: '10.0.1.0/24' },
    { name: 'snat-host', eip: '203.0.113.12', cidr: '10.0.2.7/32' },
  ],
  dnat: [
    {
      name: 'web',
      eip: '203.0.113.10',
      protocol: 'tcp',
      externalPort: 8888,
      internalIp: '10.0.1.5',
      internalPort: 80,
    },
  ],
  fip: [{ name: 'vm2', eip: '203.0.113.20', internalIp: '10.0.1.6' }],
});

describe('renderRules', () => {
  it('puts DNAT then FIP in prerouting, hairpin then FIP then SNAT (longest prefix first) in postrouting', () => {
    const rules = renderRules(seeds);
    expect(rules.map((r) => `${r.chain} ${r.counter}`)).toEqual([
      'prerouting dnat-web',
      'prerouting fip-vm2-in',
      `postrouting ${HAIRPIN_COUNTER}`,
      'postrouting fip-vm2-out',
      'postrouting snat-snat-host',
      'postrouting snat-snat-narrow',
      'postrouting snat-snat-wide',
    ]);
    expect(rules[0]!.text).toBe(
      'ip daddr 203.0.113.10 tcp dport 8888 counter name "dnat-web" dnat to 10.0.1.5:80',
    );
    expect(rules[1]!.text).toBe('ip daddr 203.0.113.20 counter name "fip-vm2-in" dnat to 10.0.1.6');
    expect(rules[2]!.text).toBe(
      'iifname "net1" oifname "net1" ct status dnat counter name "hairpin" snat to 10.0.1.254',
    );
    expect(rules[3]!.text).toBe(
      'oifname "net2" ip saddr 10.0.1.6 counter name "fip-vm2-out" snat to 203.0.113.20',
    );
    // a /32 is written as nft prints it: a plain address
    expect(rules[4]!.text).toBe(
      'oifname "net2" ip saddr 10.0.2.7 counter name "snat-snat-host" snat to 203.0.113.12',
    );
  });

  it('has no hairpin rule when nothing is destination-NATed', () => {
    const rules = renderRules(base({ snat: seeds.snat }));
    expect(rules.map((r) => r.counter)).not.toContain(HAIRPIN_COUNTER);
    expect(rules).toHaveLength(3);
  });

  it('orders the same input the same way whatever the input order', () => {
    const a = renderRules(seeds);
    const b = renderRules({ ...seeds, snat: [...seeds.snat].reverse(), dnat: [...seeds.dnat].reverse() });
    expect(b).toEqual(a);
  });

  it('breaks SNAT prefix ties by CIDR then by name', () => {
    const out = orderSnat([
      { name: 'b', eip: 'e', cidr: '10.0.2.0/24' },
      { name: 'z', eip: 'e', cidr: '10.0.1.0/24' },
      { name: 'a', eip: 'e', cidr: '10.0.1.0/24' },
      { name: 'c', eip: 'e', cidr: '10.0.0.0/8' },
    ]);
    expect(out.map((s) => s.name)).toEqual(['a', 'z', 'b', 'c']);
  });
});

describe('counterName', () => {
  it('derives the name from the rule kind and resource name', () => {
    expect(counterName('dnat', 'web.v1')).toBe('dnat-web.v1');
    expect(counterName('fip', 'x', '-out')).toBe('fip-x-out');
  });

  it('hashes characters nft identifiers cannot hold, and overlong names, keeping them distinct', () => {
    const a = counterName('snat', 'a b');
    const b = counterName('snat', 'a:b');
    expect(a).toMatch(/^snat-a_b-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    const long = counterName('dnat', 'x'.repeat(300));
    expect(long.length).toBeLessThanOrEqual(200);
  });
});

describe('buildRuleset', () => {
  it('replace form: create, delete and define the table in one script, one rule per line', () => {
    const r = buildRuleset(seeds);
    const lines = r.script.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'table ip vpc-nat-gw',
      'delete table ip vpc-nat-gw',
      'table ip vpc-nat-gw {',
    ]);
    expect(lines.at(-1)).toBe('}');
    // every counter is declared before the chains that reference it
    const firstChain = lines.findIndex((l) => l.includes('chain prerouting'));
    for (const c of r.counters) {
      const at = lines.indexOf(`  counter ${c} {`);
      expect(at).toBeGreaterThan(2);
      expect(at).toBeLessThan(firstChain);
    }
    // nft 1.0.6: a rule is never followed by `}` on its line
    for (const l of lines) if (l.includes('counter name')) expect(l.trim().endsWith('}')).toBe(false);
    expect(r.counters).toHaveLength(7);
  });

  it('update form keeps existing counters, adds new ones, deletes those no rule uses', () => {
    const r = buildRuleset(seeds, { existingCounters: new Set(['dnat-web', 'snat-gone', HAIRPIN_COUNTER]) });
    const lines = r.script.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['add table ip vpc-nat-gw', 'flush table ip vpc-nat-gw']);
    expect(lines).toContain('delete counter ip vpc-nat-gw snat-gone');
    expect(lines).toContain('add counter ip vpc-nat-gw fip-vm2-in');
    expect(lines).not.toContain('add counter ip vpc-nat-gw dnat-web');
    expect(lines.filter((l) => l.startsWith('add rule '))).toHaveLength(7);
    // the digest names the ruleset, not the form
    expect(r.digest).toBe(buildRuleset(seeds).digest);
    expect(buildRuleset(base()).digest).not.toBe(r.digest);
  });

  it('an empty gateway has a table with two empty chains', () => {
    const r = buildRuleset(base());
    expect(r.rules).toEqual([]);
    expect(r.script).toContain('chain prerouting {');
    expect(r.script).toContain('chain postrouting {');
  });

  it('deleteRulesetScript removes the table even when it is absent', () => {
    expect(deleteRulesetScript('t')).toBe('table ip t\ndelete table ip t\n');
  });
});

describe('buildIncremental', () => {
  const prev = renderRules(seeds);
  const handles = new Map(prev.map((r, i) => [r.counter, 100 + i]));

  it('changes one DNAT rule by deleting it by handle and adding it back', () => {
    const next = { ...seeds, dnat: [{ ...seeds.dnat[0]!, internalPort: 81 }] };
    expect(buildIncremental(prev, handles, next, 't')).toBe(
      'delete rule ip t prerouting handle 100\n' +
        'add rule ip t prerouting ip daddr 203.0.113.10 tcp dport 8888 counter name "dnat-web" dnat to 10.0.1.5:81\n',
    );
  });

  it('rewrites postrouting in order when an SNAT rule changes, adding and deleting counters around it', () => {
    const next = {
      ...seeds,
      snat: [...seeds.snat.slice(1), { name: 'new', eip: '203.0.113.13', cidr: '10.0.3.0/24' }],
    };
    const lines = buildIncremental(prev, handles, next, 't')!.trimEnd().split('\n');
    expect(lines[0]).toBe('add counter ip t snat-new');
    expect(lines[1]).toBe('flush chain ip t postrouting');
    expect(
      lines
        .filter((l) => l.startsWith('add rule ip t postrouting'))
        .map((l) => /counter name "([^"]+)"/.exec(l)![1]),
    ).toEqual([HAIRPIN_COUNTER, 'fip-vm2-out', 'snat-snat-host', 'snat-snat-narrow', 'snat-new']);
    expect(lines.at(-1)).toBe('delete counter ip t snat-snat-wide');
  });

  it('nothing changed: an empty script; a missing handle: no incremental script', () => {
    expect(buildIncremental(prev, handles, seeds, 't')).toBe('');
    const next = { ...seeds, dnat: [] };
    expect(buildIncremental(prev, new Map(), next, 't')).toBeUndefined();
  });

  it('reads rule handles from nft echo output', () => {
    const out = [
      'add counter ip t dnat-web { # handle 3 packets 0 bytes 0 }',
      'add rule ip t prerouting ip daddr 203.0.113.10 tcp dport 8888 counter name "dnat-web" dnat to 10.0.1.5:80 # handle 6',
      'add rule ip t postrouting oifname "net2" ip saddr 10.0.1.0/24 counter name "snat-s" snat to 203.0.113.10 # handle 8',
    ].join('\n');
    expect([...parseEchoedHandles(out)]).toEqual([
      ['dnat-web', { chain: 'prerouting', handle: 6 }],
      ['snat-s', { chain: 'postrouting', handle: 8 }],
    ]);
  });
});
