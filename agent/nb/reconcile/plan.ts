/**
 * The reconcile diff: a {@link DesiredState} against the monitor cache → ONE minimal list of
 * RFC 7047 §5.2 operations. Pure (reads the cache, writes nothing but the cache's ownership
 * indexes), so it is unit-tested against a hand-filled cache and re-run by `OvsdbClient.run`
 * after a failover (the rebuilt plan sees whether the earlier attempt committed).
 *
 * Rules (design.md principle 2, issue 4 "Reconcile contract"):
 * - A desired row without an owned counterpart (same ROW_KEY) is inserted; references between
 *   new rows use uuid-names (RFC 7047 §5.2.1), references to existing rows their uuid.
 * - An owned row that is desired gets one `update` with only the columns whose value differs
 *   (`datumEqual` per column type). Owned rows are ours entirely: `external_ids` is compared and
 *   written as a whole (the builder's keys plus the three ownership keys). Columns the builder
 *   does not list are left as they are.
 * - Reference *set* columns keep elements that point at rows we do not own (a foreign LSP in our
 *   switch is not collected by the server because of us); such an update is guarded by a
 *   verify (`wait` with timeout 0, RFC 7047 §5.2.6) on that column, so a concurrent change
 *   fails the transaction and `run()` rebuilds it from the newer cache.
 * - With `prune`: owned rows that are not desired (or duplicates of a desired key) go away.
 *   Rows of root tables are deleted (§5.2.5); rows of non-root tables (LSP, LRP, ACL, routes,
 *   policies, NAT) are collected by the server once unreferenced (RFC 7047 §3.2 "isRoot"), so
 *   every strong reference to them is removed: by the parent's own update when the parent is
 *   a desired owned row managing that column, by the parent's deletion, or else by a
 *   `mutate … delete` on the parent (also on a foreign parent — the only write to a foreign
 *   row, and only to drop our own row from it).
 * - Rows not owned (owner key absent or different) are never updated or deleted.
 * - Nothing to do → no operations (the caller then sends no transaction at all).
 */
import {
  datumEqual,
  del,
  insert,
  mutate,
  schemaIndexKeyOf,
  update,
  verify,
  type ColumnType,
  type DatabaseCache,
  type Datum,
  type Operation,
  type Row,
  type TableSchema,
} from '../../../ovsdb/index.js';
import {
  DEFAULT_OWNER,
  OWNER_KEY,
  RESOURCE_KEY,
  ROW_KEY,
  type DesiredRow,
  type DesiredState,
  type RowRef,
} from '../desired.js';
import {
  ensureOwnershipIndexes,
  externalIds,
  isOwnedBy,
  ownableTables,
  ownedByKey,
  ownedRows,
} from './ownership.js';

export interface PlanOptions {
  /** Value of the owner key (default {@link DEFAULT_OWNER}). */
  owner?: string;
  /**
   * Remove owned rows that are not desired (default true). Pass false until the desired state
   * is fully loaded, or a half-read manifest directory would delete the other half.
   */
  prune?: boolean;
}

export type OpKind = 'insert' | 'update' | 'delete' | 'mutate' | 'wait';
export type OpCounts = Record<OpKind, number>;

export type PlanProblemCode =
  'unknown-table' | 'unknown-column' | 'dangling-ref' | 'unreferenced' | 'conflict' | 'bad-value';

/** Something in the desired state the plan had to leave out (a builder bug or a name clash). */
export interface PlanProblem {
  code: PlanProblemCode;
  table: string;
  key?: string;
  resource?: string;
  message: string;
}

export interface ReconcilePlan {
  /** The operations, in the order waits, inserts, updates, mutates, deletes; empty = converged. */
  ops: Operation[];
  counts: OpCounts;
  /** Resources whose rows the operations write or remove. */
  resources: Set<string>;
  problems: PlanProblem[];
  /** Desired rows considered. */
  desiredRows: number;
}

export function emptyCounts(): OpCounts {
  return { insert: 0, update: 0, delete: 0, mutate: 0, wait: 0 };
}

interface Item {
  row: DesiredRow;
  ts: TableSchema;
  actual: Row | undefined;
  /** uuid-name when inserted. */
  name: string | undefined;
  skip: boolean;
}

const idOf = (table: string, key: string) => `${table}\u0000${key}`;
const byUuid = (uuid: string) => [['_uuid', '==', uuid] as const];

/** The in-memory form `datumEqual`/`encodeDatum` expect for a column of `type`. */
function normalize(type: ColumnType, v: unknown): Datum {
  if (type.kind === 'set') return (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]) as Datum;
  if (type.kind === 'optional' && Array.isArray(v)) return v[0] as Datum;
  if (type.kind === 'optional' && v === null) return undefined;
  return v as Datum;
}

function asArray(v: Datum): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]) as string[];
}

const isStrongRef = (type: ColumnType) =>
  type.key.type === 'uuid' && type.key.refTable !== undefined && type.key.refType !== 'weak';

/** Computes the one transaction that converges the cache's owned rows to `desired`. */
export function planReconcile(
  desired: DesiredState,
  cache: DatabaseCache,
  options: PlanOptions = {},
): ReconcilePlan {
  const owner = options.owner ?? DEFAULT_OWNER;
  const prune = options.prune ?? true;
  ensureOwnershipIndexes(cache, owner);
  const ownable = new Set(ownableTables(cache));
  const problems: PlanProblem[] = [];
  const items = new Map<string, Item>();
  const matched = new Set<string>();
  let desiredRows = 0;
  let names = 0;

  // 1. Match desired rows with owned rows by ROW_KEY.
  for (const [table, rows] of desired) {
    const ts = cache.schema.tables.get(table);
    if (!ts || !ownable.has(table)) {
      problems.push({
        code: 'unknown-table',
        table,
        message: `table ${table} is not a monitored table with external_ids`,
      });
      continue;
    }
    for (const row of rows.values()) {
      desiredRows++;
      const found = ownedByKey(cache, table, row.key, owner);
      // Duplicates (two rows claiming one key) keep the smallest uuid; the rest are pruned.
      const actual =
        found.length <= 1 ? found[0] : [...found].sort((a, b) => (a._uuid < b._uuid ? -1 : 1))[0];
      if (actual) matched.add(actual._uuid);
      items.set(idOf(table, row.key), { row, ts, actual, name: undefined, skip: false });
    }
  }

  // 2. Rows to insert: non-root rows nobody refers to would be collected at once (never
  //    converging), and rows clashing with a foreign row's unique index would fail the whole
  //    transaction — both are left out and reported.
  const referenced = new Set<string>();
  for (const it of items.values())
    for (const refs of Object.values(it.row.refs ?? {}))
      for (const r of refs) referenced.add(idOf(r.table, r.key));
  for (const [id, it] of items) {
    if (it.actual) continue;
    const { row, ts } = it;
    if (!ts.isRoot && !referenced.has(id)) {
      problems.push({
        ...who(row),
        code: 'unreferenced',
        message: 'non-root row that no desired row refers to',
      });
      it.skip = true;
      continue;
    }
    const clash = uniqueClash(cache, ts, row, owner, prune);
    if (clash) {
      problems.push({ ...who(row), code: 'conflict', message: clash });
      it.skip = true;
      continue;
    }
    it.name = `row${names++}`;
  }

  const resolve = (ref: RowRef): string | undefined => {
    const it = items.get(idOf(ref.table, ref.key));
    if (!it || it.skip) return undefined;
    return it.actual ? it.actual._uuid : it.name;
  };

  // 3. Values, inserts and updates.
  const waits: Operation[] = [];
  const inserts: Operation[] = [];
  const updates: Operation[] = [];
  const resources = new Set<string>();
  /** Owned parents whose reference column is rewritten by this plan: `table\0uuid\0column`. */
  const managed = new Set<string>();
  for (const it of items.values()) {
    if (it.skip) continue;
    const { row, ts, actual } = it;
    const values = new Map<string, Datum>();
    for (const [col, v] of Object.entries(row.columns)) {
      if (col === 'external_ids') continue;
      const cs = ts.columns.get(col);
      if (!cs) {
        problems.push({ ...who(row), code: 'unknown-column', message: `no column ${col}` });
        continue;
      }
      values.set(col, normalize(cs.type, v));
    }
    const extra = row.columns['external_ids'];
    values.set('external_ids', {
      ...(typeof extra === 'object' && extra !== null ? (extra as Record<string, string>) : {}),
      [OWNER_KEY]: owner,
      [ROW_KEY]: row.key,
      [RESOURCE_KEY]: row.resource,
    });
    const guarded: string[] = [];
    for (const [col, refs] of Object.entries(row.refs ?? {})) {
      const cs = ts.columns.get(col);
      if (!cs || cs.type.key.type !== 'uuid') {
        problems.push({ ...who(row), code: 'unknown-column', message: `no uuid column ${col}` });
        continue;
      }
      const uuids: string[] = [];
      for (const ref of refs) {
        const u = resolve(ref);
        if (u === undefined) {
          problems.push({
            ...who(row),
            code: 'dangling-ref',
            message: `${col} -> ${ref.table}/${ref.key} is not available`,
          });
        } else if (!uuids.includes(u)) uuids.push(u);
      }
      if (cs.type.kind !== 'set') {
        if (cs.type.kind === 'scalar' && uuids.length === 0) continue;
        values.set(col, uuids[0]);
        continue;
      }
      if (actual) {
        managed.add(`${ts.name}\u0000${actual._uuid}\u0000${col}`);
        const refTable = cs.type.key.refTable;
        for (const e of asArray(actual[col])) {
          if (uuids.includes(e)) continue;
          const target = refTable ? cache.get(refTable, e) : undefined;
          // Keep foreign members always, and everything while not pruning.
          if (!prune || !target || !isOwnedBy(target, owner)) uuids.push(e);
        }
        guarded.push(col);
      }
      values.set(col, uuids);
    }

    if (!actual) {
      const out: Record<string, unknown> = {};
      for (const [col, v] of values) {
        const cs = ts.columns.get(col)!;
        if (v === undefined || (cs.type.kind === 'set' && (v as unknown[]).length === 0)) continue;
        out[col] = v;
      }
      inserts.push(insert(ts.name, out, { uuidName: it.name! }));
      resources.add(row.resource);
      continue;
    }
    const changed: Record<string, unknown> = {};
    let any = false;
    for (const [col, v] of values) {
      const cs = ts.columns.get(col)!;
      if (datumEqual(cs.type, actual[col], v)) continue;
      // An unset scalar reference (no target available) cannot be written: leave it.
      changed[col] = v === undefined && cs.type.kind === 'optional' ? [] : v;
      any = true;
      if (guarded.includes(col)) waits.push(verify(ts.name, byUuid(actual._uuid), { [col]: actual[col] }));
    }
    if (any) {
      updates.push(update(ts.name, byUuid(actual._uuid), changed));
      resources.add(row.resource);
    }
  }

  // 4. Prune owned rows that are not desired.
  const mutates: Operation[] = [];
  const deletes: Operation[] = [];
  if (prune) {
    const orphans = new Map<string, Set<string>>();
    for (const t of ownable) {
      for (const r of ownedRows(cache, t, owner)) {
        if (matched.has(r._uuid)) continue;
        let s = orphans.get(t);
        if (!s) orphans.set(t, (s = new Set()));
        s.add(r._uuid);
        const res = externalIds(r)[RESOURCE_KEY];
        if (typeof res === 'string') resources.add(res);
        if (cache.schema.tables.get(t)?.isRoot) deletes.push(del(t, byUuid(r._uuid)));
      }
    }
    if (orphans.size > 0) mutates.push(...unreference(cache, orphans, managed, owner));
  }

  const ops = [...waits, ...inserts, ...updates, ...mutates, ...deletes];
  const counts = emptyCounts();
  for (const op of ops) if (op.op in counts) counts[op.op as OpKind]++;
  return { ops, counts, resources, problems, desiredRows };
}

function who(row: DesiredRow): { table: string; key: string; resource: string } {
  return { table: row.table, key: row.key, resource: row.resource };
}

/**
 * A foreign (or, without pruning, an owned) row holding a value a unique schema index
 * (RFC 7047 §3.2 "indexes") requires `row` to have, or undefined.
 */
function uniqueClash(
  cache: DatabaseCache,
  ts: TableSchema,
  row: DesiredRow,
  owner: string,
  prune: boolean,
): string | undefined {
  for (const idx of ts.indexes) {
    if (!idx.every((c) => row.columns[c] !== undefined)) continue;
    const cols = idx.map((c) => ts.columns.get(c)!);
    const key = schemaIndexKeyOf(
      cols,
      cols.map((c) => normalize(c.type, row.columns[c.name])),
    );
    for (const other of cache.lookup(ts.name, idx.join(','), key)) {
      // An owned row under another key is pruned in this same transaction (uniqueness is
      // checked at commit, after deletions and garbage collection).
      if (prune && isOwnedBy(other, owner)) continue;
      const ids = externalIds(other);
      const by =
        ids[OWNER_KEY] === undefined
          ? 'a row not managed by vpc-agent'
          : `a row owned by ${String(ids[OWNER_KEY])}`;
      return `${idx.join(',')} ${key} is already used by ${by} (${other._uuid})`;
    }
  }
  return undefined;
}

/**
 * `mutate … delete` operations removing every strong reference to the orphan rows that is not
 * already removed by this plan: parents that are orphans themselves (deleted or collected),
 * and owned desired parents whose column the plan rewrites, need nothing.
 */
function unreference(
  cache: DatabaseCache,
  orphans: Map<string, Set<string>>,
  managed: Set<string>,
  owner: string,
): Operation[] {
  const out: Operation[] = [];
  for (const parent of cache.tableNames()) {
    const ts = cache.schema.tables.get(parent)!;
    const cols = [...ts.columns.values()].filter(
      (c) => isStrongRef(c.type) && orphans.has(c.type.key.refTable!) && c.type.kind !== 'scalar',
    );
    if (cols.length === 0) continue;
    const parentOrphans = orphans.get(parent);
    for (const p of cache.rows(parent)) {
      if (parentOrphans?.has(p._uuid) && isOwnedBy(p, owner)) continue;
      for (const c of cols) {
        const gone = orphans.get(c.type.key.refTable!)!;
        const hits = asArray(p[c.name]).filter((u) => gone.has(u));
        if (hits.length === 0 || managed.has(`${parent}\u0000${p._uuid}\u0000${c.name}`)) continue;
        out.push(mutate(parent, byUuid(p._uuid), [[c.name, 'delete', hits]]));
      }
    }
  }
  return out;
}
