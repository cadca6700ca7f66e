/**
 * Helpers for monitor/cache integration tests against real ovsdb-servers: the NB schema,
 * transactions by another client (`ovsdb-client transact`), an independent full dump
 * (`ovsdb-client dump --format=json`) and a normal form for comparing replicas
 * (sets sorted, since element order is not meaningful).
 */
import { readFileSync } from 'node:fs';
import { SCHEMAS } from '../../../../agent/sandbox/central.js';
import { run } from '../../../../agent/sandbox/process.js';
import type { DatabaseCache } from '../../../../ovsdb/cache/index.js';
import { decodeDatum, type Datum } from '../../../../ovsdb/notation.js';
import { findColumn, parseSchema, type DatabaseSchema } from '../../../../ovsdb/schema.js';

export const NB = 'OVN_Northbound';

export function nbSchema(): DatabaseSchema {
  return parseSchema(JSON.parse(readFileSync(SCHEMAS.nb, 'utf8')));
}

export type Normal = Record<string, Record<string, Record<string, unknown>>>;

function normalValue(v: Datum): unknown {
  if (Array.isArray(v)) return [...v].sort();
  return v;
}

/** The cache's rows of `tables` in normal form. */
export function normalizeCache(cache: DatabaseCache, tables: readonly string[]): Normal {
  const out: Normal = {};
  for (const t of tables) {
    const rows: Record<string, Record<string, unknown>> = {};
    for (const r of cache.rows(t)) {
      rows[r._uuid] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, normalValue(v)]));
    }
    out[t] = rows;
  }
  return out;
}

/** Runs one transaction as another client; returns the per-operation results. */
export async function transact(remote: string, ops: unknown[]): Promise<Record<string, unknown>[]> {
  const res = await run('ovsdb-client', ['--timeout=10', 'transact', remote, JSON.stringify([NB, ...ops])]);
  return JSON.parse(res.stdout) as Record<string, unknown>[];
}

/** Uuids of the rows of `table` matching `where`, read by another client. */
export async function selectUuids(remote: string, table: string, where: unknown[]): Promise<string[]> {
  const [r] = await transact(remote, [{ op: 'select', table, where, columns: ['_uuid'] }]);
  const rows = (r?.['rows'] ?? []) as { _uuid: [string, string] }[];
  return rows.map((x) => x._uuid[1]);
}

/** A full dump of `tables` by `ovsdb-client dump`, decoded and in normal form. */
export async function dumpTables(
  schema: DatabaseSchema,
  remote: string,
  tables: readonly string[],
): Promise<Normal> {
  const out: Normal = {};
  for (const t of tables) {
    const ts = schema.tables.get(t)!;
    const res = await run('ovsdb-client', ['--timeout=10', 'dump', '--format=json', remote, NB, t]);
    const { headings, data } = JSON.parse(res.stdout) as { headings: string[]; data: unknown[][] };
    const rows: Record<string, Record<string, unknown>> = {};
    for (const wire of data) {
      const row: Record<string, unknown> = {};
      headings.forEach((h, i) => {
        if (h === '_version') return;
        row[h] = normalValue(decodeDatum(findColumn(ts, h)!.type, wire[i]));
      });
      rows[row['_uuid'] as string] = row;
    }
    out[t] = rows;
  }
  return out;
}
