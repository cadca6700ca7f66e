/**
 * What the OVN health metrics read from the Southbound (./ovn-health.ts), through the agent's
 * own SB client — never a monitor of more tables:
 * - the logical flow and chassis counts: ONE transaction of two `select`s with `columns: []`
 *   (RFC 7047 §5.2.2), so the server sends an empty object per row and no column; the agent's
 *   SB monitor does not carry `Logical_Flow` (tens of thousands of rows that change on every
 *   northd pass) and carries only this chassis' `Chassis` row;
 * - the port bindings on this chassis: the SB monitor cache (its `Port_Binding` condition is
 *   this chassis, agent/node/ports/binding.ts) — no request;
 * - inconsistent bindings: this node's ports (its LSPs in Northbound) with no binding on this
 *   chassis, each classified by one `select` of its `Port_Binding` (`logical_port` is indexed)
 *   — bound on another chassis, not bound, or no binding at all (northd has not made it).
 *   Only those ports are asked about: none in a healthy node.
 */
import { select, type DatabaseCache, type Operation } from '../../ovsdb/index.js';
import { chassisUuid } from '../node/ports/binding.js';
import { OvsReplyError } from './datapath-parse.js';

/** What the SB client must offer: its cache and a transaction. */
export interface SbSource {
  readonly isOnline: boolean;
  readonly cache: DatabaseCache;
  transact(ops: readonly Operation[], opts?: { timeoutMs?: number }): Promise<unknown>;
}

/** Why a port of this node is not bound here. */
export type InconsistentReason = 'other_chassis' | 'unbound' | 'no_binding';

export interface BindingSample {
  /** Port_Bindings on this chassis, by `up`. */
  here: { up: number; down: number };
  /** Ports of this node not bound here, by reason. */
  inconsistent: Record<InconsistentReason, number>;
  /** Their names (at most {@link MAX_NAMED}), for logs and /debug. */
  ports: { name: string; reason: InconsistentReason }[];
}

/** Inconsistent ports named in a sample at most; all are counted. */
export const MAX_NAMED = 50;
/** Inconsistent ports classified by a select per refresh at most; the rest count as `unbound`. */
export const MAX_CLASSIFIED = 500;

/** Rows of the `i`-th select of a decoded transaction result (an array of rows per select). */
function rowsOf(reply: unknown, i: number, what: string): Record<string, unknown>[] {
  const rows = Array.isArray(reply) ? (reply[i] as unknown) : undefined;
  if (!Array.isArray(rows)) throw new OvsReplyError(what, `result ${i} is not a row list`);
  return rows as Record<string, unknown>[];
}

/** Counts the Southbound's logical flows and chassis. */
export async function readSbCounts(
  sb: SbSource,
  timeoutMs: number,
): Promise<{ logicalFlows: number; chassis: number }> {
  const reply = await sb.transact([select('Logical_Flow', [], []), select('Chassis', [], [])], { timeoutMs });
  return {
    logicalFlows: rowsOf(reply, 0, 'select Logical_Flow').length,
    chassis: rowsOf(reply, 1, 'select Chassis').length,
  };
}

/** This chassis' bindings from the SB cache, and the node's ports missing from them. */
export function bindingsHere(
  cache: DatabaseCache,
  chassis: string,
  nodePorts: Iterable<string>,
): { up: number; down: number; missing: string[] } {
  const uuid = chassisUuid(cache, chassis);
  const bound = new Set<string>();
  let up = 0;
  let down = 0;
  if (uuid) {
    for (const pb of cache.rows('Port_Binding')) {
      if (pb['chassis'] !== uuid) continue;
      bound.add(String(pb['logical_port']));
      if (pb['up'] === true) up++;
      else down++;
    }
  }
  const missing: string[] = [];
  for (const name of nodePorts) if (!bound.has(name)) missing.push(name);
  return { up, down, missing };
}

/** Classifies ports by their Port_Binding (`chassis` set or not, or no row), in one transaction. */
export async function classifyMissing(
  sb: SbSource,
  missing: readonly string[],
  timeoutMs: number,
): Promise<{ name: string; reason: InconsistentReason }[]> {
  const asked = missing.slice(0, MAX_CLASSIFIED);
  const out: { name: string; reason: InconsistentReason }[] = [];
  if (asked.length > 0) {
    const reply = await sb.transact(
      asked.map((name) => select('Port_Binding', [['logical_port', '==', name]], ['chassis'])),
      { timeoutMs },
    );
    asked.forEach((name, i) => {
      const row = rowsOf(reply, i, `select Port_Binding ${name}`)[0];
      const chassis = row?.['chassis'];
      // Decoded: a bound chassis is its uuid, an empty optional column undefined.
      const bound = typeof chassis === 'string' && chassis !== '';
      out.push({ name, reason: !row ? 'no_binding' : bound ? 'other_chassis' : 'unbound' });
    });
  }
  for (const name of missing.slice(MAX_CLASSIFIED)) out.push({ name, reason: 'unbound' });
  return out;
}

/** The binding sample of this node: cache counts, then a classification of the missing ports. */
export async function readBindings(
  sb: SbSource,
  chassis: string,
  nodePorts: Iterable<string>,
  timeoutMs: number,
): Promise<BindingSample> {
  const { up, down, missing } = bindingsHere(sb.cache, chassis, nodePorts);
  const classified = await classifyMissing(sb, missing, timeoutMs);
  const inconsistent: Record<InconsistentReason, number> = { other_chassis: 0, unbound: 0, no_binding: 0 };
  for (const c of classified) inconsistent[c.reason]++;
  return { here: { up, down }, inconsistent, ports: classified.slice(0, MAX_NAMED) };
}
