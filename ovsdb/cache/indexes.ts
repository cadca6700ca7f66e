/**
 * Secondary indexes of a table cache: the table's schema indexes (RFC 7047 §3.2
 * <table-schema> "indexes": sets of columns whose values are unique across rows)
 * and indexes defined by the client (by name, by an `external_ids` key, ...).
 *
 * An index maps string keys to row uuids. A key function may return several keys
 * (a multi-valued index, e.g. one key per element of a set column) or none. Indexes
 * are maintained incrementally from the cache's change list; unique indexes are
 * checked before a message is applied so a violation leaves the cache unchanged.
 */
import type { Datum } from '../notation.js';
import type { ColumnSchema } from '../schema.js';
import type { Row } from './types.js';

/** What a key function returns for one row: one key, several, or none (undefined). */
export type IndexKeys = string | readonly string[] | undefined;

/** Returns the key(s) of a row in an index, or undefined to leave it out. */
export type IndexKeyFn = (row: Row) => IndexKeys;

export interface IndexOptions {
  /** At most one row per key; a message that would break this is rejected whole. */
  unique?: boolean;
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/** Key function output as a (possibly empty) array without duplicates. */
export function normalizeKeys(k: IndexKeys): readonly string[] {
  if (k === undefined) return NO_KEYS;
  if (typeof k === 'string') return [k];
  return k.length > 1 ? [...new Set(k)] : k;
}

/** A value in canonical form for index keys: sets sorted, maps sorted by key. */
function canonical(kind: ColumnSchema['type']['kind'], v: Datum): unknown {
  if (kind === 'set') return [...(v as unknown[])].sort();
  if (kind === 'map') {
    return Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return v === undefined ? null : v;
}

/**
 * The key of a row in a schema index over `columns`. A single scalar column's key
 * is its value as a string (so `lookup('Logical_Switch_Port', 'name', 'lsp1')` works);
 * any other index's key is the JSON of the canonical values, see {@link schemaIndexKeyOf}.
 */
export function schemaIndexKeyFn(columns: readonly ColumnSchema[]): IndexKeyFn {
  const only = columns[0];
  if (columns.length === 1 && only && only.type.kind === 'scalar') {
    const name = only.name;
    return (row) => String(row[name]);
  }
  return (row) =>
    schemaIndexKeyOf(
      columns,
      columns.map((c) => row[c.name]),
    );
}

/** The lookup key for values (in-memory form) of a schema index's columns, in index order. */
export function schemaIndexKeyOf(columns: readonly ColumnSchema[], values: readonly Datum[]): string {
  const only = columns[0];
  if (columns.length === 1 && only && only.type.kind === 'scalar') return String(values[0]);
  return JSON.stringify(columns.map((c, i) => canonical(c.type.kind, values[i])));
}

/** One index over one table: key → uuid (unique) or key → set of uuids. */
export class CacheIndex {
  private one = new Map<string, string>();
  private many = new Map<string, Set<string>>();

  constructor(
    readonly name: string,
    readonly keyFn: IndexKeyFn,
    readonly unique: boolean,
    /** The schema columns when this is a schema index. */
    readonly columns?: readonly ColumnSchema[],
  ) {}

  /** The row's keys as a (possibly empty) array. */
  keysOf(row: Row | undefined): readonly string[] {
    return row === undefined ? NO_KEYS : normalizeKeys(this.keyFn(row));
  }

  /** Uuids under `key` (a new array; see {@link first}, {@link count}, {@link forEach} to avoid it). */
  get(key: string): string[] {
    if (this.unique) {
      const u = this.one.get(key);
      return u === undefined ? [] : [u];
    }
    const s = this.many.get(key);
    return s ? [...s] : [];
  }

  /** One uuid under `key` (the first added of a non-unique index), without allocating. */
  first(key: string): string | undefined {
    if (this.unique) return this.one.get(key);
    const s = this.many.get(key);
    if (s === undefined) return undefined;
    for (const u of s) return u;
    return undefined;
  }

  /** Number of uuids under `key`, without allocating. */
  count(key: string): number {
    if (this.unique) return this.one.has(key) ? 1 : 0;
    return this.many.get(key)?.size ?? 0;
  }

  /**
   * Calls `fn` for each uuid under `key`, without copying. `fn` must not change the cache
   * (the cache only changes when an update is applied, never from within a lookup).
   */
  forEach(key: string, fn: (uuid: string) => void): void {
    if (this.unique) {
      const u = this.one.get(key);
      if (u !== undefined) fn(u);
      return;
    }
    const s = this.many.get(key);
    if (s !== undefined) for (const u of s) fn(u);
  }

  /** The uuid that owns `key` in a unique index. */
  owner(key: string): string | undefined {
    return this.one.get(key);
  }

  /** Number of distinct keys. */
  get keyCount(): number {
    return this.unique ? this.one.size : this.many.size;
  }

  add(key: string, uuid: string): void {
    if (this.unique) {
      this.one.set(key, uuid);
      return;
    }
    let s = this.many.get(key);
    if (!s) this.many.set(key, (s = new Set()));
    s.add(uuid);
  }

  remove(key: string, uuid: string): void {
    if (this.unique) {
      if (this.one.get(key) === uuid) this.one.delete(key);
      return;
    }
    const s = this.many.get(key);
    if (s && s.delete(uuid) && s.size === 0) this.many.delete(key);
  }

  /**
   * Re-indexes one row that changed from `oldRow` to `newRow` (either may be undefined for an
   * insert or delete). Single-key rows, the common case, take a path with no arrays.
   */
  move(uuid: string, oldRow: Row | undefined, newRow: Row | undefined): void {
    this.moveKeys(
      uuid,
      oldRow === undefined ? undefined : this.keyFn(oldRow),
      newRow === undefined ? undefined : this.keyFn(newRow),
    );
  }

  /**
   * Re-indexes one row from the keys its old version had to those of its new version, both
   * as the key function returned them (computed earlier, see `TableCache` planning).
   */
  moveKeys(uuid: string, o: IndexKeys, n: IndexKeys): void {
    if (typeof o !== 'object' && typeof n !== 'object') {
      if (o === n) return;
      if (o !== undefined) this.remove(o, uuid);
      if (n !== undefined) this.add(n, uuid);
      return;
    }
    this.update(uuid, normalizeKeys(o), normalizeKeys(n));
  }

  /** An empty index with the same definition, to be filled off to the side and {@link adopt}ed. */
  emptyCopy(): CacheIndex {
    return new CacheIndex(this.name, this.keyFn, this.unique, this.columns);
  }

  /** Takes over the contents of `other` (an {@link emptyCopy} filled since): one O(1) swap. */
  adopt(other: CacheIndex): void {
    this.one = other.one;
    this.many = other.many;
  }

  /** Moves `uuid` from `oldKeys` to `newKeys` (both as from {@link keysOf}). */
  update(uuid: string, oldKeys: readonly string[], newKeys: readonly string[]): void {
    if (oldKeys.length === 1 && newKeys.length === 1 && oldKeys[0] === newKeys[0]) return;
    for (const k of oldKeys) if (!newKeys.includes(k)) this.remove(k, uuid);
    for (const k of newKeys) if (!oldKeys.includes(k)) this.add(k, uuid);
  }

  clear(): void {
    this.one.clear();
    this.many.clear();
  }
}
