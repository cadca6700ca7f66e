/**
 * An always-consistent in-memory replica of the monitored part of one OVSDB database.
 *
 * Each message is applied atomically: the whole message is decoded and validated
 * into a change list first, with every index key of every changed row computed
 * (yielding to the event loop between slices of a large message), then the change
 * list is committed in one synchronous step, the change counter
 * {@link DatabaseCache.seqno} is bumped (like the Open vSwitch C IDL's seqno) and one
 * {@link ChangeBatch} is emitted. If anything in the message is wrong an
 * {@link OvsdbCacheError} is thrown and nothing changes. Applications are serialized:
 * a message starts only after the previous one finished.
 *
 * Why yield at all: the event loop must keep running while a large message is
 * processed, or the connection cannot answer ovsdb-server's `echo` probes and the
 * server drops the session ("answer the server's echo at once, even while a
 * large update is being processed"). Why the commit stays one synchronous step: a
 * reader must never see half a message. The costly per-row work — decoding, and the
 * index key functions, which a client may make arbitrarily expensive — is all done
 * in the sliced planning phase, so the commit is map insertions only (well under a
 * microsecond per row and index). For the one case where even that is large — a big
 * message into an empty table, i.e. every initial dump — the table's row and index
 * maps are built off to the side in slices too and swapped in at commit, O(1); since
 * the table is empty, that costs nothing over building in place. A large message to a
 * non-empty table is applied in place (copying the table to build aside would cost
 * more than it saves); such messages are bounded by what one server transaction or
 * resync changes, and their commit is the cheap map work only. A slice ends after
 * `sliceRows` rows or `sliceMs` ms, whichever first (see `slicer.ts`). Measured here
 * (in process, 2 busy cores): a 330k-row initial dump used to stall the loop 640 ms in
 * its commit, now at most ~100 ms (GC pauses included); with a 30 µs-per-row client
 * index, 110k rows stalled it 3.5 s, now 50 ms. Listeners of the one batch still run
 * synchronously, after it is applied.
 *
 * Message forms: RFC 7047 §4.1.6 <table-updates> (`update`), ovsdb-server(7)
 * §4.1.14 <table-updates2> (`update2`) and §4.1.16 `update3` (update2 plus the
 * last transaction id, used by `monitor_cond_since` for fast resync).
 */
import type { DatabaseSchema } from '../schema.js';
import { ZERO_UUID } from './codec.js';
import { OvsdbCacheError } from './errors.js';
import type { IndexKeyFn, IndexOptions } from './indexes.js';
import { TableCache, type AsideBuild } from './table-cache.js';
import { Slicer } from './slicer.js';
import { TablePlan } from './table-plan.js';
import type { ChangeBatch, ChangeCause, Row, RowChange } from './types.js';

export interface DatabaseCacheOptions {
  /**
   * The monitored tables and, per table, its monitored columns (`undefined` = all).
   * Default: every table of the schema with all its columns.
   */
  tables?: Record<string, readonly string[] | undefined>;
  /** At most this many rows are processed between two yields to the event loop (default 4096). */
  sliceRows?: number;
  /**
   * At most about this many milliseconds of processing between two yields (default 20), however
   * costly each row is (e.g. a client index key function doing real work per row).
   */
  sliceMs?: number;
  /** Called when a change listener throws (default: `process.emitWarning`). */
  onListenerError?: (err: unknown) => void;
}

export type ChangeListener = (batch: ChangeBatch) => void;

/** The wire forms {@link DatabaseCache.replace} accepts as a database's full contents. */
export type ContentsFormat = 'update' | 'update2';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A decoded message: per table (in message order) its changes with their index keys. A
 * message lists each table once, so the concatenation is the message's change order.
 */
interface Plan {
  tables: Map<TableCache, TablePlan>;
}

/** Every change of a plan in message order (the planned array itself for a one-table message). */
function allChanges(plan: Plan): RowChange[] {
  if (plan.tables.size === 1) for (const tp of plan.tables.values()) return tp.changes;
  let n = 0;
  for (const tp of plan.tables.values()) n += tp.changes.length;
  const out = new Array<RowChange>(n);
  let i = 0;
  for (const tp of plan.tables.values()) for (const ch of tp.changes) out[i++] = ch;
  return out;
}

export class DatabaseCache {
  readonly schema: DatabaseSchema;
  private readonly tableMap = new Map<string, TableCache>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly sliceRows: number;
  private readonly sliceMs: number;
  private readonly onListenerError: (err: unknown) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  /** The last transaction id seen in an update3 or `monitor_cond_since` reply (ovsdb-server(7) §4.1.15). */
  lastTxnId: string | undefined;

  constructor(schema: DatabaseSchema, opts: DatabaseCacheOptions = {}) {
    this.schema = schema;
    this.sliceRows = opts.sliceRows ?? 4096;
    this.sliceMs = opts.sliceMs ?? 20;
    this.onListenerError =
      opts.onListenerError ?? ((err) => process.emitWarning(`cache change listener threw: ${String(err)}`));
    const tables = opts.tables ?? Object.fromEntries([...schema.tables.keys()].map((t) => [t, undefined]));
    for (const [name, columns] of Object.entries(tables)) {
      const ts = schema.tables.get(name);
      if (!ts)
        throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `schema ${schema.name} has no table ${name}`);
      this.tableMap.set(name, new TableCache(ts, columns));
    }
  }

  /** Change counter: incremented once per applied message that changed something. */
  get seqno(): number {
    return this.seq;
  }

  /** Total number of cached rows. */
  get size(): number {
    let n = 0;
    for (const t of this.tableMap.values()) n += t.size;
    return n;
  }

  /** Names of the monitored tables. */
  tableNames(): string[] {
    return [...this.tableMap.keys()];
  }

  /** The cache of one table (throws for a table that is not monitored). */
  table(name: string): TableCache {
    const t = this.tableMap.get(name);
    if (!t) throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `table ${name} is not monitored`, name);
    return t;
  }

  get(table: string, uuid: string): Row | undefined {
    return this.table(table).get(uuid);
  }

  rows(table: string): IterableIterator<Row> {
    return this.table(table).rows();
  }

  /** Adds a client-defined index, filled from the current rows and kept up to date. */
  addIndex(table: string, name: string, keyFn: IndexKeyFn, opts?: IndexOptions): void {
    this.table(table).addIndex(name, keyFn, opts);
  }

  /** Rows of `table` under `key` in index `index` (schema indexes are named by their columns, e.g. "name"). */
  lookup(table: string, index: string, key: string): Row[] {
    return this.table(table).lookup(index, key);
  }

  /** One row of `table` under `key` in index `index` (the row, for a unique index); allocates nothing. */
  lookupFirst(table: string, index: string, key: string): Row | undefined {
    return this.table(table).lookupFirst(index, key);
  }

  /** Number of rows of `table` under `key` in index `index`; allocates nothing. */
  lookupCount(table: string, index: string, key: string): number {
    return this.table(table).lookupCount(index, key);
  }

  /** Calls `fn` for each row of `table` under `key` in index `index`; allocates nothing. */
  lookupEach(table: string, index: string, key: string, fn: (row: Row) => void): void {
    this.table(table).lookupEach(index, key, fn);
  }

  /** Subscribes to change batches; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies an RFC 7047 §4.1.6 `update` notification's <table-updates>. */
  applyUpdate(tableUpdates: unknown): Promise<RowChange[]> {
    return this.serialize(async () => {
      const s = this.slicer();
      return this.commit('update', await this.plan(s, tableUpdates, false), s);
    });
  }

  /** Applies an ovsdb-server(7) §4.1.14 `update2` <table-updates2> (also a `monitor_cond` reply). */
  applyUpdate2(tableUpdates2: unknown): Promise<RowChange[]> {
    return this.serialize(async () => {
      const s = this.slicer();
      return this.commit('update2', await this.plan(s, tableUpdates2, true), s);
    });
  }

  /** Applies an ovsdb-server(7) §4.1.16 `update3` and records its last-txn-id (only on success). */
  applyUpdate3(lastTxnId: string, tableUpdates2: unknown): Promise<RowChange[]> {
    return this.serialize(async () => {
      if (typeof lastTxnId !== 'string') {
        throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `update3 last-txn-id must be a uuid string`);
      }
      const s = this.slicer();
      const plan = await this.plan(s, tableUpdates2, true);
      // A server without transaction history (standalone) sends the zero uuid: "no id".
      return this.commit('update3', plan, s, { id: lastTxnId === ZERO_UUID ? undefined : lastTxnId });
    });
  }

  /**
   * Replaces the whole contents with `contents` (a full initial dump, e.g. after a
   * reconnect that could not resume) and emits only the net changes: rows that are
   * unchanged keep their object identity and produce no event. `lastTxnId` is set
   * to the given value (undefined clears it).
   */
  replace(contents: unknown, format: ContentsFormat, lastTxnId?: string): Promise<RowChange[]> {
    return this.serialize(async () => {
      const s = this.slicer();
      // First sync (the usual case): every incoming row is an insert, nothing to compare.
      const first = this.size === 0;
      // Else index keys are computed below for the changed rows only (resyncs change few).
      const incoming = await this.plan(s, contents, format === 'update2', true, first);
      if (first) return this.commit('resync', incoming, s, { id: lastTxnId });
      const net: Plan = { tables: new Map() };
      for (const t of this.tableMap.values()) {
        const inc = incoming.tables.get(t);
        const tp = t.newPlan();
        net.tables.set(t, tp);
        const seen = new Set<string>();
        for (let i = 0; inc && i < inc.changes.length; i++) {
          const ch = inc.changes[i] as RowChange;
          seen.add(ch.uuid);
          const old = t.get(ch.uuid);
          const change: RowChange | undefined = !old
            ? ch
            : t.rowEqual(old, ch.new as Row)
              ? undefined
              : { ...ch, kind: 'update', old };
          if (change) tp.add(change);
          if (s.due()) await s.pause();
        }
        // The rows are not changed while we yield: applications are serialized.
        for (const old of t.rows()) {
          if (!seen.has(old._uuid)) {
            tp.add({ table: t.name, kind: 'delete', uuid: old._uuid, old });
          }
          if (s.due()) await s.pause();
        }
      }
      return this.commit('resync', net, s, { id: lastTxnId });
    });
  }

  /** Removes every row (emitting deletes) and forgets the last transaction id. */
  clear(): Promise<RowChange[]> {
    return this.serialize(async () => {
      const changes: RowChange[] = [];
      for (const t of this.tableMap.values()) changes.push(...t.clear());
      this.lastTxnId = undefined;
      return this.emit('clear', changes);
    });
  }

  /** A snapshot of every row, `{table: {uuid: row}}`, for tests and debugging. */
  dump(): Record<string, Record<string, Row>> {
    const out: Record<string, Record<string, Row>> = {};
    for (const [name, t] of this.tableMap) {
      const rows: Record<string, Row> = {};
      for (const r of t.rows()) rows[r._uuid] = r;
      out[name] = rows;
    }
    return out;
  }

  /** Resolves when every queued application has finished. */
  async idle(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  private slicer(): Slicer {
    return new Slicer(this.sliceRows, this.sliceMs);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Decodes a <table-updates> / <table-updates2> into planned changes without
   * touching the cache. With `asInitial`, every row is read as a full row
   * (RFC 7047 "new" / update2 "initial"), whatever the cache holds. With `withKeys`
   * (default), every index key of every change is computed too, in the slices.
   */
  private async plan(
    s: Slicer,
    tableUpdates: unknown,
    v2: boolean,
    asInitial = false,
    withKeys = true,
  ): Promise<Plan> {
    if (!isObject(tableUpdates)) {
      throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', 'table-updates must be an object');
    }
    const plan: Plan = { tables: new Map() };
    for (const name in tableUpdates) {
      const t = this.tableMap.get(name);
      if (!t)
        throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `update for unmonitored table ${name}`, name);
      const rows = tableUpdates[name];
      if (!isObject(rows)) {
        throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `${name}: table-update must be an object`, name);
      }
      const tp = withKeys ? t.newPlan() : new TablePlan([]);
      plan.tables.set(t, tp);
      for (const uuid in rows) {
        const ru = rows[uuid];
        let change: RowChange;
        if (asInitial) {
          const body = isObject(ru) ? (v2 ? (ru['initial'] ?? ru['insert']) : ru['new']) : undefined;
          if (body === undefined) {
            throw new OvsdbCacheError(
              'OVSDB_CACHE_BAD_UPDATE',
              `${name} row ${uuid}: not a full row`,
              name,
              uuid,
            );
          }
          change = { table: name, kind: 'insert', uuid, new: t.decodeRow(uuid, body) };
        } else {
          change = v2 ? t.planUpdate2(uuid, ru) : t.planUpdate(uuid, ru);
        }
        tp.add(change); // runs the index key functions: in the slice, not in the commit
        if (s.due()) await s.pause();
      }
    }
    return plan;
  }

  /**
   * Applies a plan: tables that are empty and get more than a slice of rows are first built
   * off to the side (sliced, see the file comment); then, in one synchronous step, unique
   * indexes are checked, `lastTxnId` is set (`txn`), the builds are swapped in, the other
   * tables are changed in place, and the batch is emitted.
   */
  private async commit(
    cause: ChangeCause,
    plan: Plan,
    s: Slicer,
    txn?: { id: string | undefined },
  ): Promise<RowChange[]> {
    const aside: [TableCache, AsideBuild][] = [];
    for (const [t, tp] of plan.tables) {
      if (t.size === 0 && tp.changes.length > this.sliceRows) {
        aside.push([t, await t.buildAside(tp, s)]);
      }
    }
    // Synchronous from here on: no reader sees a state between the old and the new one.
    const swap = aside.filter(([t, built]) => t.canSwapIn(built));
    const swapped = new Set(swap.map(([, built]) => built.plan));
    const inPlace = [...plan.tables]
      .filter(([, tp]) => !swapped.has(tp))
      .map(([t, tp]) => [t, t.current(tp)] as const);
    for (const [t, tp] of inPlace) t.checkUnique(tp);
    if (txn) this.lastTxnId = txn.id;
    for (const [t, built] of swap) t.swapIn(built);
    for (const [t, tp] of inPlace) t.commit(tp);
    return this.emit(cause, allChanges(plan));
  }

  private emit(cause: ChangeCause, changes: RowChange[]): RowChange[] {
    if (changes.length === 0) return changes;
    this.seq++;
    const batch: ChangeBatch = { seqno: this.seq, cause, changes };
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    return changes;
  }

  /**
   * A rough estimate of the memory held per cached row (object slots, strings,
   * arrays, records), from a sample of up to 200 rows per table. For reports only.
   */
  estimateBytesPerRow(): number {
    let bytes = 0;
    let rows = 0;
    const sizeOf = (v: unknown): number => {
      if (typeof v === 'string') return 16 + v.length;
      if (Array.isArray(v)) return 16 + 8 * v.length + v.reduce((s: number, x) => s + sizeOf(x), 0);
      if (isObject(v)) {
        return 32 + Object.entries(v).reduce((s, [k, x]) => s + 16 + sizeOf(k) + sizeOf(x), 0);
      }
      return 0;
    };
    for (const t of this.tableMap.values()) {
      let i = 0;
      for (const r of t.rows()) {
        if (i++ >= 200) break;
        bytes += 24 + 8 * (t.columns.length + 1) + 60; // object + slots + Map entry
        for (const c of t.columns) bytes += sizeOf(r[c.name]);
        bytes += sizeOf(r._uuid);
        rows++;
      }
    }
    return rows === 0 ? 0 : Math.round(bytes / rows);
  }
}
