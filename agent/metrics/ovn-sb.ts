/**
 * What the OVN health metrics read from the Southbound (./ovn-health.ts), through the agent's
 * own SB client — never a monitor of more tables:
 * - the logical flow and chassis counts: one counting transaction ({@link readSbCounts}) — the
 *   agent's SB monitor does not carry `Logical_Flow` (tens of thousands of rows that change on
 *   every northd pass) and carries only this chassis' `Chassis` row;
 * - the port bindings on this chassis: the SB monitor cache (its `Port_Binding` condition is
 *   this chassis, agent/node/ports/binding.ts) — no request;
 * - inconsistent bindings: this node's ports (its LSPs in Northbound) with no binding on this
 *   chassis, each classified by one `select` of its `Port_Binding` (`logical_port` is indexed)
 *   — bound on another chassis, not bound, or no binding at all (northd has not made it).
 *   Only those ports are asked about: none in a healthy node.
 */
import {
  parseRemotes,
  RpcConnection,
  select,
  type DatabaseCache,
  type Operation,
  type TlsOptions,
} from '../../ovsdb/index.js';
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

/**
 * Counts the Southbound's logical flows and chassis, over a short connection of its own to the
 * first of `remotes` that answers: one transaction of `update` with an empty row on each table,
 * then `abort` (RFC 7047 §5.2.3, §5.2.10). Each `update` answers the number of rows its `where`
 * (none: every row) matched; an empty row changes nothing, and the `abort` makes sure nothing
 * is committed — the server replies with the counts and the abort error. ovsdb-server scans the
 * table without formatting a row: at 100,000 logical flows it costs the server ~40 ms of CPU and
 * 80 bytes on the wire, where a `select` of `_uuid` costs ~500 ms and 5.8 MB (a `select` with
 * no columns answers ONE row: ovsdb-server removes duplicate rows from a select's result;
 * `npm run bench -- ovn-count`).
 * A server that enforces RBAC on the client's role refuses the update: an error, no counts.
 * @throws OvsReplyError when the reply has no counts.
 */
export async function readSbCounts(
  remotes: string | readonly string[],
  opts: { timeoutMs: number; tls?: TlsOptions },
): Promise<{ logicalFlows: number; chassis: number }> {
  const ops = [
    { op: 'update', table: 'Logical_Flow', where: [], row: {} },
    { op: 'update', table: 'Chassis', where: [], row: {} },
    { op: 'abort' },
  ];
  let lastErr: unknown;
  for (const remote of parseRemotes(remotes)) {
    let conn: RpcConnection | undefined;
    try {
      conn = await RpcConnection.connect(remote, {
        probeIntervalMs: 0,
        connectTimeoutMs: opts.timeoutMs,
        ...(opts.tls ? { tls: opts.tls } : {}),
      });
      const reply = await conn.request<unknown>('transact', ['OVN_Southbound', ...ops], {
        timeoutMs: opts.timeoutMs,
      });
      return { logicalFlows: countOf(reply, 0, 'Logical_Flow'), chassis: countOf(reply, 1, 'Chassis') };
    } catch (err) {
      if (err instanceof OvsReplyError) throw err;
      lastErr = err;
    } finally {
      await conn?.close();
    }
  }
  throw lastErr;
}

/** The `count` of the `i`-th result of a transact reply. */
export function countOf(reply: unknown, i: number, table: string): number {
  const r = Array.isArray(reply)
    ? (reply[i] as { count?: unknown; error?: unknown; details?: unknown })
    : undefined;
  if (typeof r?.count === 'number' && Number.isSafeInteger(r.count) && r.count >= 0) return r.count;
  const why =
    typeof r?.error === 'string'
      ? `${r.error}${typeof r.details === 'string' ? `: ${r.details}` : ''}`
      : 'no count';
  throw new OvsReplyError(`count ${table}`, why);
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
