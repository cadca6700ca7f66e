/**
 * A NAT gateway's rules as ONE nftables table, written as one `nft -f` script (one transaction:
 * the kernel applies all of it or none of it, nft(8) "ATOMIC RULE REPLACEMENT"). Pure.
 *
 * Table `ip <table>` (one per gateway: each gateway has its own namespace), two base chains:
 * - `prerouting` (nat, priority dstnat): DNAT `EIP:port/proto → ip:port`, then FIP inbound
 *   `EIP → ip`. No input-interface match, so a VM of the VPC that reaches an EIP through the
 *   gateway (hairpin) is translated the same way as an external host.
 * - `postrouting` (nat, priority srcnat):
 *   1. hairpin: a connection that came in on the LAN leg, was destination-NATed and leaves on
 *      the LAN leg again is source-NATed to `lanIp`, so the VM's reply comes back through the
 *      gateway (and is un-NATed) instead of going straight to the client;
 *   2. FIP outbound `ip → EIP` (a /32 is more specific than any SNAT);
 *   3. SNAT `internalCIDR → EIP`, longest prefix first (ties: CIDR text, then name), both only
 *      towards the external leg.
 *
 * Every rule references its own NAMED counter (`dnat-<rule>`, `snat-<rule>`, `fip-<rule>-in`,
 * `fip-<rule>-out`, `hairpin`), so traffic can be read per rule (`nft -j list counters`).
 *
 * Two forms of the same table (both a single transaction):
 * - `replace`: `table …` / `delete table …` / `table … { … }` — works whatever is there (absent,
 *   flushed, edited by hand); counters start from zero.
 * - `update` (given the counters that exist now): `add table`, `flush table` (drops every rule,
 *   keeps the counters), `add chain` (creates or restores the hook and policy), counters added
 *   or deleted by difference, rules added — counters of unchanged rules keep counting.
 *
 * nft 1.0.6 rejects a rule followed by `}` on the same line: the script puts every rule on its
 * own line and every `}` on its own.
 */
import { createHash } from 'node:crypto';

/** Table name inside each gateway namespace. */
export const NAT_TABLE = 'vpc-nat-gw';
/** The counter of the hairpin rule. */
export const HAIRPIN_COUNTER = 'hairpin';

export interface SnatEntry {
  /** The rule's resource name (IptablesSnatRule). */
  name: string;
  eip: string;
  /** Canonical `network/prefix`. */
  cidr: string;
}

export interface DnatEntry {
  name: string;
  eip: string;
  protocol: 'tcp' | 'udp';
  externalPort: number;
  internalIp: string;
  internalPort: number;
}

export interface FipEntry {
  name: string;
  eip: string;
  internalIp: string;
}

/** What one gateway translates. */
export interface NatRules {
  /** The LAN leg (the VPC side), `net1`. */
  lanIf: string;
  /** The external leg, `net2`. */
  wanIf: string;
  /** The gateway's address on the LAN leg (hairpin source). */
  lanIp: string;
  snat: readonly SnatEntry[];
  dnat: readonly DnatEntry[];
  fip: readonly FipEntry[];
}

/** One rule as it lands in a chain (for tests, `/debug` and conntrack decisions). */
export interface RenderedRule {
  chain: 'prerouting' | 'postrouting';
  counter: string;
  /** The rule text after `add rule ip <table> <chain>`. */
  text: string;
}

export interface RulesetScript {
  table: string;
  rules: RenderedRule[];
  /** Counter names, in rule order. */
  counters: string[];
  /** The script for `nft -f -`. */
  script: string;
  /** sha256 of the `replace` form: equal digests = equal rulesets. */
  digest: string;
}

export interface RulesetOptions {
  table?: string;
  /**
   * The counters the table has now: emit the `update` form (their values are kept). Absent:
   * the `replace` form.
   */
  existingCounters?: ReadonlySet<string>;
}

/** nft identifiers (scanner `identifier`): a letter or `_`, then letters, digits, `/\-_.`. */
const IDENT = /^[A-Za-z_][A-Za-z0-9/_.-]*$/;
/** NFT_OBJ_MAXNAMELEN is 256 with the NUL; keep well below. */
const MAX_NAME = 200;

/** `<kind>-<name><suffix>` as an nft object name; other characters or excess length get a hash. */
export function counterName(kind: 'snat' | 'dnat' | 'fip', name: string, suffix = ''): string {
  const plain = `${kind}-${name}${suffix}`;
  if (IDENT.test(plain) && plain.length <= MAX_NAME) return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, MAX_NAME - 40);
  return `${kind}-${safe}-${hash}${suffix}`;
}

const prefixOf = (cidr: string): number => Number(cidr.split('/')[1] ?? 32);

/** SNAT entries longest prefix first; equal prefixes by CIDR text, then rule name. */
export function orderSnat(snat: readonly SnatEntry[]): SnatEntry[] {
  return [...snat].sort(
    (a, b) =>
      prefixOf(b.cidr) - prefixOf(a.cidr) || a.cidr.localeCompare(b.cidr) || a.name.localeCompare(b.name),
  );
}

/** A CIDR as nft prints it: a /32 is a plain address. */
const addr = (cidr: string): string => (cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr);
const q = (s: string): string => JSON.stringify(s);
const byName = <T extends { name: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((a, b) => a.name.localeCompare(b.name));

/** The rules in chain order (pure; the order is the semantics). */
export function renderRules(rules: NatRules): RenderedRule[] {
  const out: RenderedRule[] = [];
  const lan = q(rules.lanIf);
  const wan = q(rules.wanIf);
  for (const d of byName(rules.dnat)) {
    const counter = counterName('dnat', d.name);
    out.push({
      chain: 'prerouting',
      counter,
      text: `ip daddr ${d.eip} ${d.protocol} dport ${d.externalPort} counter name ${q(counter)} dnat to ${d.internalIp}:${d.internalPort}`,
    });
  }
  for (const f of byName(rules.fip)) {
    const counter = counterName('fip', f.name, '-in');
    out.push({
      chain: 'prerouting',
      counter,
      text: `ip daddr ${f.eip} counter name ${q(counter)} dnat to ${f.internalIp}`,
    });
  }
  if (rules.dnat.length + rules.fip.length > 0) {
    out.push({
      chain: 'postrouting',
      counter: HAIRPIN_COUNTER,
      text: `iifname ${lan} oifname ${lan} ct status dnat counter name ${q(HAIRPIN_COUNTER)} snat to ${rules.lanIp}`,
    });
  }
  for (const f of byName(rules.fip)) {
    const counter = counterName('fip', f.name, '-out');
    out.push({
      chain: 'postrouting',
      counter,
      text: `oifname ${wan} ip saddr ${f.internalIp} counter name ${q(counter)} snat to ${f.eip}`,
    });
  }
  for (const s of orderSnat(rules.snat)) {
    const counter = counterName('snat', s.name);
    out.push({
      chain: 'postrouting',
      counter,
      text: `oifname ${wan} ip saddr ${addr(s.cidr)} counter name ${q(counter)} snat to ${s.eip}`,
    });
  }
  return out;
}

const CHAINS = {
  prerouting: 'type nat hook prerouting priority dstnat; policy accept;',
  postrouting: 'type nat hook postrouting priority srcnat; policy accept;',
} as const;

function replaceForm(table: string, rules: RenderedRule[]): string {
  const t = `ip ${table}`;
  const lines = [`table ${t}`, `delete table ${t}`, `table ${t} {`];
  for (const r of rules) lines.push(`  counter ${r.counter} {`, '  }');
  for (const chain of ['prerouting', 'postrouting'] as const) {
    lines.push(`  chain ${chain} {`, `    ${CHAINS[chain]}`);
    for (const r of rules) if (r.chain === chain) lines.push(`    ${r.text}`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function updateForm(table: string, rules: RenderedRule[], existing: ReadonlySet<string>): string {
  const t = `ip ${table}`;
  const wanted = new Set(rules.map((r) => r.counter));
  const lines = [`add table ${t}`, `flush table ${t}`];
  for (const chain of ['prerouting', 'postrouting'] as const)
    lines.push(`add chain ${t} ${chain} { ${CHAINS[chain]} }`);
  for (const c of [...existing].sort()) if (!wanted.has(c)) lines.push(`delete counter ${t} ${c}`);
  for (const r of rules) if (!existing.has(r.counter)) lines.push(`add counter ${t} ${r.counter}`);
  for (const r of rules) lines.push(`add rule ${t} ${r.chain} ${r.text}`);
  return lines.join('\n') + '\n';
}

/** The script that makes the gateway's table exactly `rules` (see the file comment). */
export function buildRuleset(rules: NatRules, opts: RulesetOptions = {}): RulesetScript {
  const table = opts.table ?? NAT_TABLE;
  const rendered = renderRules(rules);
  const full = replaceForm(table, rendered);
  return {
    table,
    rules: rendered,
    counters: rendered.map((r) => r.counter),
    script: opts.existingCounters ? updateForm(table, rendered, opts.existingCounters) : full,
    digest: createHash('sha256').update(full).digest('hex'),
  };
}

/** The script that removes the table (nothing when it is absent: `table` first creates it). */
export function deleteRulesetScript(table = NAT_TABLE): string {
  return `table ip ${table}\ndelete table ip ${table}\n`;
}

/**
 * The smallest script from `prev` (what the table holds, with each rule's handle by counter
 * name) to `rules`, one transaction: prerouting rules (DNAT/FIP, whose order does not matter:
 * each matches its own EIP or EIP:port) deleted by handle and added one by one; postrouting
 * (order matters: longest prefix first) flushed and rewritten when anything in it changed;
 * counters added before and deleted after the rules. `''` when nothing changes; undefined when
 * a handle is unknown (use the full forms).
 */
export function buildIncremental(
  prev: readonly RenderedRule[],
  handles: ReadonlyMap<string, number>,
  rules: NatRules,
  table = NAT_TABLE,
): string | undefined {
  const t = `ip ${table}`;
  const next = renderRules(rules);
  const key = (r: RenderedRule) => `${r.chain} ${r.counter} ${r.text}`;
  const prevKeys = new Set(prev.map(key));
  const nextKeys = new Set(next.map(key));
  const lines: string[] = [];
  const prevCounters = new Set(prev.map((r) => r.counter));
  const nextCounters = new Set(next.map((r) => r.counter));
  for (const r of next) if (!prevCounters.has(r.counter)) lines.push(`add counter ${t} ${r.counter}`);
  for (const r of prev) {
    if (r.chain !== 'prerouting' || nextKeys.has(key(r))) continue;
    const h = handles.get(r.counter);
    if (h === undefined) return undefined;
    lines.push(`delete rule ${t} prerouting handle ${h}`);
  }
  const post = (xs: readonly RenderedRule[]) =>
    xs
      .filter((r) => r.chain === 'postrouting')
      .map(key)
      .join('\n');
  const postChanged = post(prev) !== post(next);
  if (postChanged) lines.push(`flush chain ${t} postrouting`);
  for (const r of next) {
    if (r.chain === 'prerouting' ? prevKeys.has(key(r)) : !postChanged) continue;
    lines.push(`add rule ${t} ${r.chain} ${r.text}`);
  }
  for (const c of [...prevCounters].sort()) if (!nextCounters.has(c)) lines.push(`delete counter ${t} ${c}`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/** Rule handles by counter name from nft's echo output (`nft -e -a`). */
export function parseEchoedHandles(out: string): Map<string, { chain: string; handle: number }> {
  const found = new Map<string, { chain: string; handle: number }>();
  const re = /^add rule \S+ \S+ (\S+) .*counter name "([^"]+)".* # handle (\d+)\s*$/gm;
  for (const m of out.matchAll(re)) found.set(m[2]!, { chain: m[1]!, handle: Number(m[3]) });
  return found;
}
