/**
 * Helpers for OvsdbClient integration tests: fast reconnect options, event collection,
 * waiting for a condition driven by client events, and reading the database through an
 * independent client (`ovsdb-client`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, waitUntil } from '../../../../agent/sandbox/process.js';
import type { ClientEvents, OvsdbClient } from '../../../../ovsdb/client/index.js';
import type { DatabaseCache } from '../../../../ovsdb/cache/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const NB_SCHEMA_PATH = path.join(ROOT, 'ovsdb/schemas/ovn-nb.ovsschema');
export const NB = 'OVN_Northbound';

/** Quick reconnects and no probes: tests kill servers on purpose. */
export const FAST = { backoff: { minMs: 50, maxMs: 400 }, probeIntervalMs: 0 } as const;

/** Every event of one kind a client emits, in order. */
export function record<K extends keyof ClientEvents>(client: OvsdbClient, event: K): ClientEvents[K][0][] {
  const out: ClientEvents[K][0][] = [];
  (client.on as (e: K, l: (v: ClientEvents[K][0]) => void) => void)(event, (v) => out.push(v));
  return out;
}

/** Resolves with the next `event` emitted that satisfies `pred` (rejects after `timeoutMs`). */
export function nextEvent<K extends keyof ClientEvents>(
  client: OvsdbClient,
  event: K,
  pred: (v: ClientEvents[K][0]) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<ClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const on = client.on as (e: K, l: (v: ClientEvents[K][0]) => void) => void;
    const off = client.off as (e: K, l: (v: ClientEvents[K][0]) => void) => void;
    const timer = setTimeout(() => {
      off.call(client, event, l);
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    function l(v: ClientEvents[K][0]): void {
      if (!pred(v)) return;
      clearTimeout(timer);
      off.call(client, event, l);
      resolve(v);
    }
    on.call(client, event, l);
  });
}

/** Waits until `pred()` holds, re-checked on every cache change (and every 100 ms). */
export async function untilCache(cache: DatabaseCache, pred: () => boolean, what: string): Promise<void> {
  await waitUntil(async () => pred() || undefined, { what, timeoutMs: 30_000, intervalMs: 50 });
}

/** Logical_Switch names (with multiplicity) read by `ovsdb-client` from `remote`. */
export async function switchNames(remote: string): Promise<string[]> {
  const res = await run('ovsdb-client', [
    '--timeout=20',
    'transact',
    remote,
    JSON.stringify([NB, { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]),
  ]);
  const [r] = JSON.parse(res.stdout) as { rows: { name: string }[] }[];
  return r!.rows.map((x) => x.name);
}

/** The cache's rows in a comparable form: `{table: {uuid: row}}`, rows by uuid, sets sorted. */
export function normal(cache: DatabaseCache): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const t of cache.tableNames()) {
    const rows: Record<string, unknown> = {};
    const sorted = [...cache.rows(t)].sort((x, y) => (x._uuid < y._uuid ? -1 : 1));
    for (const r of sorted) {
      rows[r._uuid] = Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]),
      );
    }
    out[t] = rows;
  }
  return out;
}
