/**
 * A tiny in-memory stand-in for an NB ovsdb-server, for unit tests of the reconcile diff: it
 * applies planned operations to a copy of the cache's rows (insert with uuid-names, update,
 * mutate delete, delete, verify-waits, garbage collection of unreferenced non-root rows as
 * RFC 7047 §3.2 "isRoot" describes) and loads the result back with `cache.replace`, as a
 * monitor resync would. Plus helpers to build desired rows and seed foreign rows.
 */
import { randomUUID } from 'node:crypto';
import {
  DatabaseCache,
  datumEqual,
  encodeDatum,
  nb,
  type Datum,
  type Operation,
} from '../../../../../ovsdb/index.js';
import { addRow, type DesiredRow, type DesiredState, type RowRef } from '../../../../../agent/nb/desired.js';

type MutableRow = Record<string, Datum>;

export function newCache(): DatabaseCache {
  return new DatabaseCache(nb.schema());
}

/** Applies `ops` as one transaction; throws (changing nothing) when a wait fails. */
export async function applyOps(cache: DatabaseCache, ops: readonly Operation[]): Promise<void> {
  const schema = cache.schema;
  const db = new Map<string, Map<string, MutableRow>>();
  for (const [t, rows] of Object.entries(cache.dump())) {
    db.set(t, new Map(Object.entries(rows).map(([u, r]) => [u, { ...r } as MutableRow])));
  }
  const names = new Map<string, string>();
  for (const op of ops) if (op.op === 'insert' && op.uuidName) names.set(op.uuidName, randomUUID());
  const fix = (table: string, row: Record<string, unknown>): MutableRow => {
    const out: MutableRow = {};
    for (const [c, v] of Object.entries(row)) {
      const cs = schema.tables.get(table)!.columns.get(c)!;
      if (cs.type.key.type !== 'uuid') out[c] = v as Datum;
      else if (Array.isArray(v)) out[c] = v.map((x: string) => names.get(x) ?? x);
      else out[c] = (typeof v === 'string' ? (names.get(v) ?? v) : v) as Datum;
    }
    return out;
  };
  const target = (where: readonly unknown[]): string => (where[0] as [string, string, string])[2];
  for (const op of ops) {
    switch (op.op) {
      case 'insert':
        db.get(op.table)!.set(names.get(op.uuidName!) ?? randomUUID(), fix(op.table, op.row));
        break;
      case 'update': {
        const row = db.get(op.table)!.get(target(op.where));
        if (row) Object.assign(row, fix(op.table, op.row));
        break;
      }
      case 'mutate': {
        const row = db.get(op.table)!.get(target(op.where));
        for (const [c, m, v] of op.mutations) {
          if (m !== 'delete' || !row) throw new Error(`fake: unsupported mutation ${m}`);
          const drop = new Set(v as string[]);
          const cur = row[c];
          row[c] = Array.isArray(cur)
            ? (cur as string[]).filter((x) => !drop.has(x))
            : drop.has(cur as string)
              ? undefined
              : cur;
        }
        break;
      }
      case 'delete':
        db.get(op.table)!.delete(target(op.where));
        break;
      case 'wait': {
        const row = db.get(op.table)!.get(target(op.where));
        for (const c of op.columns) {
          const cs = schema.tables.get(op.table)!.columns.get(c)!;
          if (!row || !datumEqual(cs.type, row[c], (op.rows[0] as MutableRow)[c])) {
            throw Object.assign(new Error('timed out'), { code: 'OVSDB_TXN_TIMED_OUT' });
          }
        }
        break;
      }
      default:
        break;
    }
  }
  collectGarbage(cache, db);
  const contents: Record<string, Record<string, { initial: Record<string, unknown> }>> = {};
  for (const [t, rows] of db) {
    const ts = schema.tables.get(t)!;
    const out: Record<string, { initial: Record<string, unknown> }> = {};
    for (const [u, r] of rows) {
      const initial: Record<string, unknown> = {};
      for (const [c, v] of Object.entries(r)) {
        if (c === '_uuid' || v === undefined) continue;
        initial[c] = encodeDatum(ts.columns.get(c)!.type, v);
      }
      out[u] = { initial };
    }
    contents[t] = out;
  }
  await cache.replace(contents, 'update2');
}

/** Removes non-root rows no strong reference points at, until nothing changes. */
function collectGarbage(cache: DatabaseCache, db: Map<string, Map<string, MutableRow>>): void {
  const schema = cache.schema;
  for (;;) {
    const live = new Set<string>();
    for (const [t, rows] of db) {
      for (const cs of schema.tables.get(t)!.columns.values()) {
        if (cs.type.key.type !== 'uuid' || !cs.type.key.refTable || cs.type.key.refType === 'weak') continue;
        for (const r of rows.values()) {
          const v = r[cs.name];
          for (const u of Array.isArray(v) ? v : v === undefined ? [] : [v]) live.add(String(u));
        }
      }
    }
    let removed = 0;
    for (const [t, rows] of db) {
      if (schema.tables.get(t)!.isRoot) continue;
      for (const u of [...rows.keys()]) if (!live.has(u) && rows.delete(u)) removed++;
    }
    if (removed === 0) return;
  }
}

/** Inserts rows as another client would (e.g. `ovn-nbctl`): `rows` in in-memory form. */
export async function seed(
  cache: DatabaseCache,
  table: string,
  row: Record<string, unknown>,
): Promise<string> {
  const uuid = randomUUID();
  const ts = cache.schema.tables.get(table)!;
  const initial: Record<string, unknown> = {};
  for (const [c, v] of Object.entries(row)) initial[c] = encodeDatum(ts.columns.get(c)!.type, v);
  await cache.applyUpdate2({ [table]: { [uuid]: { initial } } });
  return uuid;
}

/** Small builders of desired rows. */
export function desired(...rows: DesiredRow[]): DesiredState {
  const s: DesiredState = new Map();
  for (const r of rows) addRow(s, r);
  return s;
}

export const ref = (table: string, key: string): RowRef => ({ table, key });

export function ls(
  name: string,
  opts: { ports?: string[]; acls?: string[]; other?: Record<string, string> } = {},
): DesiredRow {
  return {
    table: 'Logical_Switch',
    key: `ls/${name}`,
    resource: `Subnet/${name}`,
    columns: { name, other_config: opts.other ?? {} },
    refs: {
      ports: (opts.ports ?? []).map((p) => ref('Logical_Switch_Port', `lsp/${name}/${p}`)),
      acls: (opts.acls ?? []).map((a) => ref('ACL', `acl/${name}/${a}`)),
    },
  };
}

export function lsp(sw: string, name: string, addresses: string[] = []): DesiredRow {
  return {
    table: 'Logical_Switch_Port',
    key: `lsp/${sw}/${name}`,
    resource: `Subnet/${sw}`,
    columns: { name: `${sw}-${name}`, addresses },
  };
}

export function acl(sw: string, name: string, priority: number): DesiredRow {
  return {
    table: 'ACL',
    key: `acl/${sw}/${name}`,
    resource: `Subnet/${sw}`,
    columns: { direction: 'to-lport', priority, match: `ip4 && ${name}`, action: 'drop' },
  };
}

/** Rows of `table` in the cache, by name when they have one. */
export function rowsOf(cache: DatabaseCache, table: string): Record<string, unknown>[] {
  return [...cache.rows(table)];
}
