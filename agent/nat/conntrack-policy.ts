/**
 * Which connection-tracking entries a rule change must delete (pure). Connection tracking keeps
 * a NAT decision for the life of a connection, so changing rules alone changes nothing for
 * connections already tracked:
 * - a rule that goes away (or changes) must take its translated connections with it, or an
 *   unbound FIP / removed DNAT keeps its sessions alive;
 * - a rule that arrives must take the connections it should have translated but that were
 *   tracked un-NATed (created before the rule existed), or they stay un-NATed forever;
 * - anything else — other rules' connections, connections to the gateway itself — stays.
 *
 * A rule is identified by its kind, name and content: a changed rule is the old one removed and
 * the new one added. With no record of the previous rules (a fresh start), only the "arrives"
 * half applies, which deletes nothing that was translated, so a restart never cuts a session.
 */
import { cidrContains, parseCidr, parseIp, type ConntrackEntry } from '../../netlink/index.js';
import { isUnNated } from '../../netlink/conntrack.js';
import type { DnatEntry, FipEntry, NatRules, SnatEntry } from './ruleset.js';

type Rule =
  { kind: 'dnat'; rule: DnatEntry } | { kind: 'snat'; rule: SnatEntry } | { kind: 'fip'; rule: FipEntry };

const keyOf = (r: Rule): string => `${r.kind}/${JSON.stringify(r.rule)}`;

function rulesOf(n: NatRules | undefined): Map<string, Rule> {
  const out = new Map<string, Rule>();
  if (!n) return out;
  for (const rule of n.dnat) out.set(keyOf({ kind: 'dnat', rule }), { kind: 'dnat', rule });
  for (const rule of n.snat) out.set(keyOf({ kind: 'snat', rule }), { kind: 'snat', rule });
  for (const rule of n.fip) out.set(keyOf({ kind: 'fip', rule }), { kind: 'fip', rule });
  return out;
}

function inCidr(ip: string, cidr: string): boolean {
  try {
    return cidrContains(parseCidr(cidr, { allowHostBits: true }), parseIp(ip));
  } catch {
    return false;
  }
}

/** The rule translated this entry (its connections go when the rule goes). */
function translatedBy(r: Rule, e: ConntrackEntry): boolean {
  switch (r.kind) {
    case 'dnat':
      return (
        e.proto === r.rule.protocol &&
        e.orig.dst === r.rule.eip &&
        e.orig.dport === r.rule.externalPort &&
        e.reply.src === r.rule.internalIp
      );
    case 'fip':
      return (
        (e.orig.dst === r.rule.eip && e.reply.src === r.rule.internalIp) ||
        (e.orig.src === r.rule.internalIp && e.reply.dst === r.rule.eip)
      );
    case 'snat':
      return inCidr(e.orig.src, r.rule.cidr) && e.reply.dst === r.rule.eip && e.orig.src !== r.rule.eip;
  }
}

/** The rule would translate this entry, which was tracked without any NAT. */
function missedBy(r: Rule, e: ConntrackEntry, local: ReadonlySet<string>): boolean {
  if (!isUnNated(e)) return false;
  switch (r.kind) {
    case 'dnat':
      return e.proto === r.rule.protocol && e.orig.dst === r.rule.eip && e.orig.dport === r.rule.externalPort;
    case 'fip':
      return e.orig.dst === r.rule.eip || (e.orig.src === r.rule.internalIp && !local.has(e.orig.dst));
    case 'snat':
      // Connections to the gateway's own addresses (a ping of lanIp) are not source-NATed.
      return inCidr(e.orig.src, r.rule.cidr) && !local.has(e.orig.dst);
  }
}

export interface ConntrackChange {
  /** Entries to delete, each once. */
  victims: ConntrackEntry[];
  /** Per entry, the rule (`kind/name`) and why: `removed` or `un-NATed`. */
  reasons: string[];
}

/**
 * The entries to delete when the rules go from `before` (undefined: unknown) to `after`.
 * `local` are the gateway's own addresses (lanIp, EIPs): connections to them are never touched
 * by a rule that arrives.
 */
export function conntrackVictims(
  entries: readonly ConntrackEntry[],
  before: NatRules | undefined,
  after: NatRules,
  local: ReadonlySet<string> = new Set(),
): ConntrackChange {
  const old = rulesOf(before);
  const next = rulesOf(after);
  const removed = [...old].filter(([k]) => !next.has(k)).map(([, r]) => r);
  const added = [...next].filter(([k]) => !old.has(k)).map(([, r]) => r);
  const victims: ConntrackEntry[] = [];
  const reasons: string[] = [];
  if (removed.length + added.length === 0) return { victims, reasons };
  for (const e of entries) {
    const gone = removed.find((r) => translatedBy(r, e));
    const missed = gone ? undefined : added.find((r) => missedBy(r, e, local));
    const why = gone ?? missed;
    if (!why) continue;
    victims.push(e);
    reasons.push(`${why.kind}/${why.rule.name} ${gone ? 'removed' : 'un-NATed'}`);
  }
  return { victims, reasons };
}
