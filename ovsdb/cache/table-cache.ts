/**
 * The replica of one monitored table: rows keyed by uuid plus their indexes.
 *
 * Changes are applied in two steps so that a message is atomic: the `plan*`
 * methods decode and validate one row update against the current contents without
 * touching them and return a {@link RowChange}; {@link TableCache.checkUnique} and
 * {@link TableCache.commit} then verify and apply a whole list of planned changes.
 * Row update forms: RFC 7047 §4.1.6 <row-update> (old/new) and ovsdb-server(7)
 * §4.1.14 <row-update2> (initial/insert/delete/modify).
 */
import { datumEqual, OvsdbNotationError, type Datum } from '../notation.js';
import type { ColumnSchema, TableSchema } from '../schema.js';
import { columnCodec, type ColumnCodec } from './codec.js';
import { OvsdbCacheError } from './errors.js';
import { compileRowBuilder, type RowBuilder } from './row-builder.js';
import { CacheIndex, schemaIndexKeyFn, type IndexKeyFn, type IndexOptions } from './indexes.js';
import type { Row, RowChange } from './types.js';

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
  private readonly data = new Map<string, Row>();
  private readonly indexMap = new Map<string, CacheIndex>();
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
  }

  /** Rows under `key` in index `name`. */
  lookup(name: string, key: string): Row[] {
    const index = this.indexMap.get(name);
    if (!index) throw new OvsdbCacheError('OVSDB_CACHE_BAD_UPDATE', `${this.name}: no index "${name}"`);
    const out: Row[] = [];
    for (const u of index.get(key)) {
      const r = this.data.get(u);
      if (r) out.push(r);
    }
    return out;
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

  /**
   * Verifies that applying `changes` keeps every unique index unique (before any mutation).
   * A key may move between rows within one message: keys released by any change of the
   * message are free for the others.
   */
  checkUnique(changes: readonly RowChange[]): void {
    for (const index of this.indexMap.values()) {
      if (!index.unique) continue;
      const released = new Set<string>();
      const claimed = new Map<string, string>();
      const claim = (k: string, uuid: string): void => {
        const before = claimed.size;
        claimed.set(k, uuid);
        // One map operation per claim; a key claimed twice is an error, found again for the message.
        if (claimed.size === before) this.indexViolation(index, k, this.claimant(index, changes, k), uuid);
      };
      for (const ch of changes) {
        const o = ch.old === undefined ? undefined : index.keyFn(ch.old);
        const n = ch.new === undefined ? undefined : index.keyFn(ch.new);
        if (typeof o !== 'object' && typeof n !== 'object') {
          // At most one key on each side (every schema index over one scalar column).
          if (o === n) continue;
          if (o !== undefined) released.add(o);
          if (n !== undefined) claim(n, ch.uuid);
          continue;
        }
        const oldKeys = index.keysOf(ch.old);
        const newKeys = index.keysOf(ch.new);
        for (const k of oldKeys) if (!newKeys.includes(k)) released.add(k);
        for (const k of newKeys) if (!oldKeys.includes(k)) claim(k, ch.uuid);
      }
      if (index.keyCount === 0) continue; // nothing held yet (a first sync): no clash possible
      for (const [k, uuid] of claimed) {
        const owner = index.owner(k);
        if (owner !== undefined && owner !== uuid && !released.has(k)) {
          this.indexViolation(index, k, owner, uuid);
        }
      }
    }
  }

  /** The first row of `changes` whose new version holds `key` in `index` (error reporting only). */
  private claimant(index: CacheIndex, changes: readonly RowChange[], key: string): string {
    for (const ch of changes) {
      if (index.keysOf(ch.new).includes(key) && !index.keysOf(ch.old).includes(key)) return ch.uuid;
    }
    return '?';
  }

  private indexViolation(index: CacheIndex, key: string, holder: string, uuid: string): never {
    throw new OvsdbCacheError(
      'OVSDB_CACHE_INDEX_VIOLATION',
      `${this.name}: unique index "${index.name}" key ${JSON.stringify(key)} would be held by ` +
        `${holder} and ${uuid}`,
      this.name,
      uuid,
    );
  }

  /** Applies planned changes (already validated) to the rows and every index. */
  commit(changes: readonly RowChange[]): void {
    const indexes = [...this.indexMap.values()];
    for (const ch of changes) {
      if (ch.new) this.data.set(ch.uuid, ch.new);
      else this.data.delete(ch.uuid);
      for (const index of indexes) index.move(ch.uuid, ch.old, ch.new);
    }
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
