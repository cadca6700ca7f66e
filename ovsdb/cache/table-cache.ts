/**
 * The replica of one monitored table: rows keyed by uuid plus their indexes.
 *
 * Changes are applied in two steps so that a message is atomic: the `plan*`
 * methods decode and validate one row update against the current contents without
 * touching them and return a {@link RowChange}, which goes into a {@link TablePlan} with
 * its index keys; {@link TableCache.checkUnique} and {@link TableCache.commit} (or
 * {@link TableCache.buildAside} + {@link TableCache.swapIn}) then verify and apply a
 * whole plan.
 * Row update forms: RFC 7047 §4.1.6 <row-update> (old/new) and ovsdb-server(7)
 * §4.1.14 <row-update2> (initial/insert/delete/modify).
 */
import { datumEqual, OvsdbNotationError, type Datum } from '../notation.js';
import type { ColumnSchema, TableSchema } from '../schema.js';
import { columnCodec, type ColumnCodec } from './codec.js';
import { OvsdbCacheError } from './errors.js';
import { compileRowBuilder, type RowBuilder } from './row-builder.js';
import {
  CacheIndex,
  normalizeKeys,
  schemaIndexKeyFn,
  type IndexKeyFn,
  type IndexOptions,
} from './indexes.js';
import type { Slicer } from './slicer.js';
import { checkUnique, TablePlan, violation } from './table-plan.js';
import type { Row, RowChange } from './types.js';

/** Rows built off to the side by {@link TableCache.buildAside}, not yet visible. */
export interface AsideBuild {
  readonly plan: TablePlan;
  readonly data: Map<string, Row>;
  /** Empty copies of `plan.indexes`, filled. */
  readonly indexes: readonly CacheIndex[];
}

type WireRow = Record<string, unknown>;
type MutableRow = { _uuid: string; [column: string]: Datum };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class TableCache {
  readonly name: string;
  readonly schema: TableSchema;
  /** Monitored columns, in schema order. */
  readonly columns: readonly ColumnCodec[];
  private readonly byName = new Map<string, ColumnCodec>();
  private data = new Map<string, Row>();
  private readonly indexMap = new Map<string, CacheIndex>();
  /** The values of `indexMap`; a new array whenever an index is added (plans keep the old one). */
  private indexList: readonly CacheIndex[] = [];
  private readonly buildRow: RowBuilder;

  constructor(schema: TableSchema, columns?: readonly string[]) {
    this.name = schema.name;
    this.schema = schema;
    const wanted = columns ?? [...schema.columns.keys()];
    const codecs: ColumnCodec[] = [];
    for (const c of wanted) {
      const col = schema.columns.get(c);
      if (!col) throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `${schema.name} has no column "${c}"`);
      const codec = columnCodec(col);
      codecs.push(codec);
      this.byName.set(c, codec);
    }
    this.columns = codecs;
    this.buildRow = compileRowBuilder(codecs);
    // Schema indexes whose columns are all monitored (RFC 7047 §3.2 "indexes").
    for (const idx of schema.indexes) {
      if (!idx.every((c) => this.byName.has(c))) continue;
      const cols = idx.map((c) => schema.columns.get(c) as ColumnSchema);
      this.indexMap.set(idx.join(','), new CacheIndex(idx.join(','), schemaIndexKeyFn(cols), true, cols));
    }
    this.indexList = [...this.indexMap.values()];
  }

  get size(): number {
    return this.data.size;
  }

  get(uuid: string): Row | undefined {
    return this.data.get(uuid);
  }

  has(uuid: string): boolean {
    return this.data.has(uuid);
  }

  /** Iterates the rows (live view; do not apply updates while iterating). */
  rows(): IterableIterator<Row> {
    return this.data.values();
  }

  /** True if the column is monitored. */
  hasColumn(name: string): boolean {
    return this.byName.has(name);
  }

  column(name: string): ColumnCodec | undefined {
    return this.byName.get(name);
  }

  /** Index names: schema indexes are named by their columns joined with ",". */
  indexNames(): string[] {
    return [...this.indexMap.keys()];
  }

  index(name: string): CacheIndex | undefined {
    return this.indexMap.get(name);
  }

  /** Registers a client index and fills it from the current rows (throws on a unique clash). */
  addIndex(name: string, keyFn: IndexKeyFn, opts: IndexOptions = {}): void {
    if (this.indexMap.has(name)) {
      throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `${this.name}: index "${name}" already exists`);
    }
    const index = new CacheIndex(name, keyFn, opts.unique === true);
    for (const row of this.data.values()) {
      for (const k of index.keysOf(row)) {
        const owner = index.unique ? index.owner(k) : undefined;
        if (owner !== undefined && owner !== row._uuid) {
          throw new OvsdbCacheError(
            'OVSDB_CACHE_INDEX_VIOLATION',
            `${this.name}: unique index "${name}" key ${JSON.stringify(k)} held by ${owner} and ${row._uuid}`,
            this.name,
            row._uuid,
          );
        }
        index.add(k, row._uuid);
      }
    }
    this.indexMap.set(name, index);
    this.indexList = [...this.indexMap.values()];
  }

  private mustIndex(name: string): CacheIndex {
    const index = this.indexMap.get(name);
    if (!index) throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `${this.name}: no index "${name}"`);
    return index;
  }

  /** Rows under `key` in index `name` (a new array). */
  lookup(name: string, key: string): Row[] {
    const out: Row[] = [];
    this.mustIndex(name).forEach(key, (u) => {
      const r = this.data.get(u);
      if (r) out.push(r);
    });
    return out;
  }

  /**
   * One row under `key` in index `name` (for a unique index, the row), allocating nothing:
   * for the hot "find the row with this key" lookup.
   */
  lookupFirst(name: string, key: string): Row | undefined {
    const u = this.mustIndex(name).first(key);
    return u === undefined ? undefined : this.data.get(u);
  }

  /** Number of rows under `key` in index `name`, allocating nothing. */
  lookupCount(name: string, key: string): number {
    return this.mustIndex(name).count(key);
  }

  /** Calls `fn` for each row under `key` in index `name`, allocating nothing. */
  lookupEach(name: string, key: string, fn: (row: Row) => void): void {
    this.mustIndex(name).forEach(key, (u) => {
      const r = this.data.get(u);
      if (r) fn(r);
    });
  }

  private fail(uuid: string, message: string, cause?: unknown): never {
    throw new OvsdbCacheError(
      'OVSDB_CACHE_BAD_UPDATE',
      `${this.name} row ${uuid}: ${message}`,
      this.name,
      uuid,
      cause === undefined ? undefined : { cause },
    );
  }

  /** Decodes a full row (initial/insert/new): absent columns take their default (ovsdb-server(7) §4.1.14). */
  decodeRow(uuid: string, wire: unknown): Row {
    if (!isObject(wire)) this.fail(uuid, `row must be an object, got ${JSON.stringify(wire)}`);
    let row: Row | undefined;
    try {
      row = this.buildRow(uuid, wire);
    } catch (err) {
      if (!(err instanceof OvsdbNotationError)) throw err;
      this.badColumn(uuid, wire);
    }
    if (row === undefined) this.unknownColumn(uuid, wire);
    return row;
  }

  /** Throws the decoding error of the first malformed column of `wire`, naming the column. */
  private badColumn(uuid: string, wire: WireRow): never {
    for (const k in wire) {
      try {
        this.byName.get(k)?.decode(wire[k]);
      } catch (err) {
        if (err instanceof OvsdbNotationError) this.fail(uuid, `column ${k}: ${err.message}`, err);
        throw err;
      }
    }
    return this.fail(uuid, 'malformed row');
  }

  private unknownColumn(uuid: string, wire: WireRow): never {
    const extra = Object.keys(wire).filter((k) => !this.byName.has(k));
    this.fail(uuid, `unknown or unmonitored column(s) ${extra.join(', ')}`);
  }

  /** Applies a partial row over `base`: diffs (update2 modify) or new values (RFC 7047 modify "new"). */
  private patchRow(uuid: string, base: Row, wire: unknown, diff: boolean): Row {
    if (!isObject(wire)) this.fail(uuid, `row must be an object, got ${JSON.stringify(wire)}`);
    const row: MutableRow = { ...base };
    for (const k in wire) {
      const c = this.byName.get(k);
      if (!c) this.unknownColumn(uuid, wire);
      try {
        row[k] = diff ? c.applyDiff(base[k], wire[k]) : c.decode(wire[k]);
      } catch (err) {
        if (!(err instanceof OvsdbNotationError)) throw err;
        this.fail(uuid, `column ${k}: ${err.message}`, err);
      }
    }
    return row;
  }

  /** Plans one <row-update2> (ovsdb-server(7) §4.1.14). */
  planUpdate2(uuid: string, ru: unknown): RowChange {
    if (!isObject(ru)) this.fail(uuid, 'row-update2 must be an object');
    let kind: string | undefined;
    for (const k in ru) {
      if (kind !== undefined) this.fail(uuid, 'row-update2 must have exactly one member');
      kind = k;
    }
    const old = this.data.get(uuid);
    switch (kind) {
      case 'initial':
      case 'insert':
        if (old) this.fail(uuid, `${kind} of a row already in the cache`);
        return { table: this.name, kind: 'insert', uuid, new: this.decodeRow(uuid, ru[kind]) };
      case 'modify':
        if (!old) this.fail(uuid, 'modify of a row not in the cache');
        return { table: this.name, kind: 'update', uuid, old, new: this.patchRow(uuid, old, ru[kind], true) };
      case 'delete':
        if (!old) this.fail(uuid, 'delete of a row not in the cache');
        return { table: this.name, kind: 'delete', uuid, old };
      default:
        return this.fail(uuid, `unknown row-update2 member ${JSON.stringify(kind)}`);
    }
  }

  /** Plans one RFC 7047 §4.1.6 <row-update>: "old" and/or "new". */
  planUpdate(uuid: string, ru: unknown): RowChange {
    if (!isObject(ru)) this.fail(uuid, 'row-update must be an object');
    const hasOld = ru['old'] !== undefined;
    const hasNew = ru['new'] !== undefined;
    const old = this.data.get(uuid);
    if (hasNew && !hasOld) {
      if (old) this.fail(uuid, 'insert of a row already in the cache');
      return { table: this.name, kind: 'insert', uuid, new: this.decodeRow(uuid, ru['new']) };
    }
    if (!old) this.fail(uuid, `${hasNew ? 'modify' : 'delete'} of a row not in the cache`);
    if (!hasNew) {
      if (!hasOld) this.fail(uuid, 'row-update has neither "old" nor "new"');
      return { table: this.name, kind: 'delete', uuid, old };
    }
    // "new" holds the row's monitored columns after the change; patching keeps any it omits.
    return { table: this.name, kind: 'update', uuid, old, new: this.patchRow(uuid, old, ru['new'], false) };
  }

  /** True when two versions of a row hold equal values in every monitored column. */
  rowEqual(a: Row, b: Row): boolean {
    for (const c of this.columns) {
      const x = a[c.name];
      const y = b[c.name];
      if (x !== y && !datumEqual(c.type, x, y)) return false;
    }
    return true;
  }

  /** A plan for the next message, over the indexes the table has now. */
  newPlan(): TablePlan {
    return new TablePlan(this.indexList);
  }

  /**
   * `plan`, or when an index was added while it was being made (its keys are for the old
   * index list), the same changes planned again over the current indexes — synchronously,
   * but rare (an index added while a message is in flight). Key functions run here, before
   * any mutation, so one that throws fails the message and changes nothing.
   */
  current(plan: TablePlan): TablePlan {
    if (plan.indexes === this.indexList) return plan;
    const again = this.newPlan();
    for (const ch of plan.changes) again.add(ch);
    return again;
  }

  /** Verifies that applying a {@link current} plan keeps every unique index unique (before any mutation). */
  checkUnique(plan: TablePlan): void {
    checkUnique(this.name, plan);
  }

  /**
   * Applies a {@link current} plan, already validated by {@link checkUnique}, to the rows and
   * every index, in place: map operations only, no key function runs.
   */
  commit(plan: TablePlan): void {
    const { changes, keys, indexes } = plan;
    if (indexes !== this.indexList) throw new Error(`${this.name}: stale plan`); // a caller bug
    const w = indexes.length;
    for (let i = 0; i < changes.length; i++) {
      const ch = changes[i] as RowChange;
      if (ch.new) this.data.set(ch.uuid, ch.new);
      else this.data.delete(ch.uuid);
      for (let j = 0; j < w; j++) {
        const at = 2 * (i * w + j);
        (indexes[j] as CacheIndex).moveKeys(ch.uuid, keys[at], keys[at + 1]);
      }
    }
  }

  /**
   * Builds the table's next contents from `plan` off to the side — new row and index maps
   * that nobody can see — in slices (`s`) between which the event loop runs
   * (RPC echoes are answered) meanwhile. Only for a table that is empty, where the plan
   * holds inserts only: the next state is then just the plan's rows, and building it aside
   * costs no more than building it in place. Throws, changing nothing, if the plan puts two
   * rows under one key of a unique index. {@link swapIn} then makes it visible.
   */
  async buildAside(plan: TablePlan, s: Slicer): Promise<AsideBuild> {
    const { changes, keys, indexes } = plan;
    const w = indexes.length;
    const data = new Map<string, Row>();
    const fresh = indexes.map((x) => x.emptyCopy());
    for (let i = 0; i < changes.length; i++) {
      const ch = changes[i] as RowChange;
      if (ch.new === undefined || ch.old !== undefined) {
        throw new Error(`${this.name}: buildAside takes inserts only`); // a caller bug
      }
      data.set(ch.uuid, ch.new);
      for (let j = 0; j < w; j++) {
        const index = fresh[j] as CacheIndex;
        const n = keys[2 * (i * w + j) + 1];
        if (index.unique) {
          if (typeof n === 'string') this.claimAside(index, n, ch.uuid);
          else for (const k of normalizeKeys(n)) this.claimAside(index, k, ch.uuid);
        }
        index.moveKeys(ch.uuid, undefined, n);
      }
      if (s.due()) await s.pause();
    }
    return { plan, data, indexes: fresh };
  }

  private claimAside(index: CacheIndex, key: string, uuid: string): void {
    const holder = index.owner(key);
    if (holder !== undefined && holder !== uuid) violation(this.name, index, key, holder, uuid);
  }

  /**
   * True when a {@link buildAside} result can still be swapped in: the table is still empty
   * and no index was added meanwhile (else apply its plan with {@link current} + {@link commit}).
   */
  canSwapIn(built: AsideBuild): boolean {
    return this.data.size === 0 && this.indexList === built.plan.indexes;
  }

  /** Makes a {@link buildAside} result (that {@link canSwapIn}) the table's contents: O(1). */
  swapIn(built: AsideBuild): void {
    if (!this.canSwapIn(built)) throw new Error(`${this.name}: stale aside build`); // a caller bug
    this.data = built.data;
    built.plan.indexes.forEach((index, j) => index.adopt(built.indexes[j] as CacheIndex));
  }

  /** Removes every row; returns them as delete changes. */
  clear(): RowChange[] {
    const out: RowChange[] = [];
    for (const [uuid, old] of this.data) out.push({ table: this.name, kind: 'delete', uuid, old });
    this.data.clear();
    for (const index of this.indexMap.values()) index.clear();
    return out;
  }
}
