/**
 * The reconcile diff: a {@link DesiredState} against the monitor cache → ONE minimal list of
 * RFC 7047 §5.2 operations. Pure (reads the cache, writes nothing but the cache's ownership
 * indexes), so it is unit-tested against a hand-filled cache and re-run by `OvsdbClient.run`
 * after a failover (the rebuilt plan sees whether the earlier attempt committed).
 *
 * Rules:
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
import { columnEqual, sameExternalIds, sameSet } from './compare.js';
import {
  ensureOwnershipIndexes,
  externalIds,
  isOwnedBy,
  keyIndexName,
  ownableTables,
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
  /**
   * Owned rows that are never pruned although not desired (rows being handed over to another
   * owner, e.g. workload ports of an earlier release, adopted by their node's agent).
   */
  keep?: (table: string, row: Row) => boolean;
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
  /** Some desired row refers to this one (computed only when something is inserted). */
  referenced: boolean;
}

const byUuid = (uuid: string) => [['_uuid', '==', uuid] as const];

/** The in-memory form `datumEqual`/`encodeDatum` expect for a column of `type`. */
function normalize(type: ColumnType, v: unknown): Datum {
  if (type.kind === 'set') return (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]) as Datum;
  if (type.kind === 'optional' && Array.isArray(v)) return v[0] as Datum;
  if (type.kind === 'optional' && v === null) return undefined;
  return v as Datum;
}

const EMPTY: readonly string[] = Object.freeze([]);

function asArray(v: Datum): readonly string[] {
  if (v === undefined) return EMPTY;
  return (Array.isArray(v) ? v : [v]) as string[];
}

/** Above this many elements, membership tests go through a `Set`. */
const SMALL_LIST = 16;

/**
 * Records `v` for `col` in `out` when an insert needs it (not empty) or an update changes it;
 * true when it is a change of the existing row `actual`. (A function, not a per-row closure.)
 */
function put(out: Record<string, unknown>, actual: Row | undefined, col: string, type: ColumnType, v: Datum) {
  if (!actual) {
    if (v !== undefined && !(type.kind === 'set' && (v as unknown[]).length === 0)) out[col] = v;
    return false;
  }
  if (columnEqual(type, actual[col], v)) return false;
  // An optional column becoming empty is written as the empty set.
  out[col] = v === undefined && type.kind === 'optional' ? [] : v;
  return true;
}

const isStrongRef = (type: ColumnType) =>
  type.key.type === 'uuid' && type.key.refTable !== undefined && type.key.refType !== 'weak';

/**
 * Computes the one transaction that converges the cache's owned rows to `desired`.
 *
 * Cost: one index lookup per desired row and, for a converged row, one allocation-free
 * comparison per listed column (`compare.ts`); objects are built only for rows that are
 * inserted or changed. Desired rows are found by table then key (no composite string keys).
 */
export function planReconcile(
  desired: DesiredState,
  cache: DatabaseCache,
  options: PlanOptions = {},
): ReconcilePlan {
  const owner = options.owner ?? DEFAULT_OWNER;
  const prune = options.prune ?? true;
  ensureOwnershipIndexes(cache, owner);
  const keyIndex = keyIndexName(owner);
  const ownable = new Set(ownableTables(cache));
  const problems: PlanProblem[] = [];
  /** Items by table, then ROW_KEY; `list` keeps the desired state's order. */
  const byTable = new Map<string, Map<string, Item>>();
  const list: Item[] = [];
  /** Desired rows with an owned counterpart, per table. */
  const matchedIn = new Map<string, number>();
  let missing = 0;
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
    const tc = cache.table(table);
    const index = tc.index(keyIndex)!;
    let items = byTable.get(table);
    if (!items) byTable.set(table, (items = new Map()));
    let matched = matchedIn.get(table) ?? 0;
    for (const row of rows.values()) {
      desiredRows++;
      const uuids = index.get(row.key);
      let actual: Row | undefined;
      // Duplicates (two rows claiming one key) keep the smallest uuid; the rest are pruned.
      for (const u of uuids) {
        const r = tc.get(u);
        if (r && (actual === undefined || r._uuid < actual._uuid)) actual = r;
      }
      if (!actual) missing++;
      else matched++;
      const it: Item = { row, ts, actual, name: undefined, skip: false, referenced: false };
      items.set(row.key, it);
      list.push(it);
    }
    matchedIn.set(table, matched);
  }
  const itemOf = (ref: RowRef): Item | undefined => byTable.get(ref.table)?.get(ref.key);

  // 2. Rows to insert: non-root rows nobody refers to would be collected at once (never
  //    converging), and rows clashing with a foreign row's unique index would fail the whole
  //    transaction — both are left out and reported.
  if (missing > 0) {
    for (const it of list) {
      const refs = it.row.refs;
      if (!refs) continue;
      for (const col in refs) {
        for (const r of refs[col]!) {
          const target = itemOf(r);
          if (target) target.referenced = true;
        }
      }
    }
    for (const it of list) {
      if (it.actual) continue;
      const { row, ts } = it;
      if (!ts.isRoot && !it.referenced) {
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
  }

  const resolve = (ref: RowRef): string | undefined => {
    const it = itemOf(ref);
    if (!it || it.skip) return undefined;
    return it.actual ? it.actual._uuid : it.name;
  };

  // 3. Inserts and updates. A desired row's columns are written in the order: listed columns,
  //    external_ids, references; an insert leaves out empty values, an update unchanged ones.
  const waits: Operation[] = [];
  const inserts: Operation[] = [];
  const updates: Operation[] = [];
  const resources = new Set<string>();
  for (const it of list) {
    if (it.skip) continue;
    const { row, ts, actual } = it;
    const out: Record<string, unknown> = {};
    let any = false;
    const columns = row.columns;
    for (const col in columns) {
      if (col === 'external_ids') continue;
      const cs = ts.columns.get(col);
      if (!cs) {
        problems.push({ ...who(row), code: 'unknown-column', message: `no column ${col}` });
        continue;
      }
      if (put(out, actual, col, cs.type, normalize(cs.type, columns[col]))) any = true;
    }
    const extra = columns['external_ids'];
    const extraIds =
      typeof extra === 'object' && extra !== null ? (extra as Record<string, string>) : undefined;
    if (!actual || !sameExternalIds(externalIds(actual), extraIds, owner, row.key, row.resource)) {
      out['external_ids'] = {
        ...extraIds,
        [OWNER_KEY]: owner,
        [ROW_KEY]: row.key,
        [RESOURCE_KEY]: row.resource,
      };
      if (actual) any = true;
    }
    const refs = row.refs;
    if (refs) {
      for (const col in refs) {
        const cs = ts.columns.get(col);
        if (!cs || cs.type.key.type !== 'uuid') {
          problems.push({ ...who(row), code: 'unknown-column', message: `no uuid column ${col}` });
          continue;
        }
        const uuids: string[] = [];
        for (const ref of refs[col]!) {
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
          if (put(out, actual, col, cs.type, uuids[0])) any = true;
          continue;
        }
        if (!actual) {
          if (uuids.length > 0) out[col] = uuids;
          continue;
        }
        const current = asArray(actual[col]);
        const want = uuids.length > SMALL_LIST ? new Set(uuids) : undefined;
        const refTable = cs.type.key.refTable;
        for (const e of current) {
          if (want ? want.has(e) : uuids.includes(e)) continue;
          const target = refTable ? cache.get(refTable, e) : undefined;
          // Keep foreign members always, kept rows, and everything while not pruning.
          if (!prune || !target || !isOwnedBy(target, owner) || options.keep?.(refTable!, target))
            uuids.push(e);
        }
        if (sameSet(current, uuids)) continue;
        out[col] = uuids;
        any = true;
        waits.push(verify(ts.name, byUuid(actual._uuid), { [col]: actual[col] }));
      }
    }

    if (!actual) {
      inserts.push(insert(ts.name, out, { uuidName: it.name! }));
      resources.add(row.resource);
    } else if (any) {
      updates.push(update(ts.name, byUuid(actual._uuid), out));
      resources.add(row.resource);
    }
  }

  // 4. Prune owned rows that are not desired (or not the chosen one of duplicates).
  const mutates: Operation[] = [];
  const deletes: Operation[] = [];
  if (prune) {
    const orphans = new Map<string, Set<string>>();
    for (const t of ownable) {
      const items = byTable.get(t);
      const owned = ownedRows(cache, t, owner);
      // Matched rows are distinct owned rows: as many as owned means no orphan in this table.
      if (owned.length === (matchedIn.get(t) ?? 0)) continue;
      for (const r of owned) {
        const ids = externalIds(r);
        const key = ids[ROW_KEY];
        if (items && typeof key === 'string' && items.get(key)?.actual?._uuid === r._uuid) continue;
        if (options.keep?.(t, r)) continue;
        let s = orphans.get(t);
        if (!s) orphans.set(t, (s = new Set()));
        s.add(r._uuid);
        const res = ids[RESOURCE_KEY];
        if (typeof res === 'string') resources.add(res);
        if (cache.schema.tables.get(t)?.isRoot) deletes.push(del(t, byUuid(r._uuid)));
      }
    }
    if (orphans.size > 0) mutates.push(...unreference(cache, orphans, managedColumns(list), owner));
  }

  const ops = [...waits, ...inserts, ...updates, ...mutates, ...deletes];
  const counts = emptyCounts();
  for (const op of ops) if (op.op in counts) counts[op.op as OpKind]++;
  return { ops, counts, resources, problems, desiredRows };
}

/**
 * Owned parents whose reference set columns this plan rewrites (every desired row that has an
 * owned counterpart and lists the column in `refs`): uuid → column names.
 */
function managedColumns(list: readonly Item[]): Map<string, ReadonlySet<string>> {
  const out = new Map<string, ReadonlySet<string>>();
  for (const it of list) {
    if (!it.actual || !it.row.refs) continue;
    const cols = new Set<string>();
    for (const col in it.row.refs) {
      const cs = it.ts.columns.get(col);
      if (cs && cs.type.key.type === 'uuid' && cs.type.kind === 'set') cols.add(col);
    }
    if (cols.size > 0) out.set(it.actual._uuid, cols);
  }
  return out;
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
  managed: Map<string, ReadonlySet<string>>,
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
        if (hits.length === 0 || managed.get(p._uuid)?.has(c.name)) continue;
        out.push(mutate(parent, byUuid(p._uuid), [[c.name, 'delete', hits]]));
      }
    }
  }
  return out;
}
