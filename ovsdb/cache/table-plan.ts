/**
 * The planned changes of one message to one table, with every index key already computed.
 *
 * Index key functions may be costly (a client index can do real per-row work), and a full
 * sync runs them once per row. Running them while the message is applied would block the
 * event loop for the whole message — long enough, for a large dump, that an ovsdb-server
 * inactivity probe goes unanswered and the server drops the session. So the cache runs them
 * while it *plans* the message, in slices between which it yields (see `DatabaseCache`),
 * and stores their results here; applying the message is then map insertions only.
 *
 * Also the unique-index check (RFC 7047 §3.2 <table-schema> "indexes": no two rows share a
 * key), run on the planned keys before anything is mutated.
 */
import { OvsdbCacheError } from './errors.js';
import { normalizeKeys, type CacheIndex, type IndexKeys } from './indexes.js';
import type { RowChange } from './types.js';

export class TablePlan {
  readonly changes: RowChange[] = [];
  /**
   * Key function results, flat (no allocation per change): for change `i` and index `j`,
   * the old row's keys at `2 * (i * w + j)` and the new row's at the next slot
   * (`w = indexes.length`). Undefined for an absent row.
   */
  readonly keys: IndexKeys[] = [];

  /** `indexes`: the table's indexes when planning started (the keys are for these). */
  constructor(readonly indexes: readonly CacheIndex[]) {}

  /** Adds a change and computes its keys in every planned index (the costly part). */
  add(ch: RowChange): void {
    this.changes.push(ch);
    const { indexes, keys } = this;
    for (let j = 0; j < indexes.length; j++) {
      const keyFn = (indexes[j] as CacheIndex).keyFn;
      keys.push(
        ch.old === undefined ? undefined : keyFn(ch.old),
        ch.new === undefined ? undefined : keyFn(ch.new),
      );
    }
  }
}

/**
 * Verifies that applying `plan` keeps every unique index of the plan unique, before any
 * mutation. A key may move between rows within one message: keys released by any change
 * of the message are free for the others.
 */
export function checkUnique(table: string, plan: TablePlan): void {
  const { changes, keys, indexes } = plan;
  const w = indexes.length;
  for (let j = 0; j < w; j++) {
    const index = indexes[j] as CacheIndex;
    if (!index.unique) continue;
    const oldKeys = (i: number): IndexKeys => keys[2 * (i * w + j)];
    const newKeys = (i: number): IndexKeys => keys[2 * (i * w + j) + 1];
    const released = new Set<string>();
    const claimed = new Map<string, string>();
    const claim = (k: string, uuid: string): void => {
      const before = claimed.size;
      claimed.set(k, uuid);
      // One map operation per claim; a key claimed twice is an error, found again for the message.
      if (claimed.size === before) {
        violation(table, index, k, claimant(changes, oldKeys, newKeys, k), uuid);
      }
    };
    for (let i = 0; i < changes.length; i++) {
      const uuid = (changes[i] as RowChange).uuid;
      const o = oldKeys(i);
      const n = newKeys(i);
      if (typeof o !== 'object' && typeof n !== 'object') {
        // At most one key on each side (every schema index over one scalar column).
        if (o === n) continue;
        if (o !== undefined) released.add(o);
        if (n !== undefined) claim(n, uuid);
        continue;
      }
      const os = normalizeKeys(o);
      const ns = normalizeKeys(n);
      for (const k of os) if (!ns.includes(k)) released.add(k);
      for (const k of ns) if (!os.includes(k)) claim(k, uuid);
    }
    if (index.keyCount === 0) continue; // nothing held yet (a first sync): no clash possible
    for (const [k, uuid] of claimed) {
      const owner = index.owner(k);
      if (owner !== undefined && owner !== uuid && !released.has(k)) violation(table, index, k, owner, uuid);
    }
  }
}

/** The first change whose new version newly holds `key` (error reporting only). */
function claimant(
  changes: readonly RowChange[],
  oldKeys: (i: number) => IndexKeys,
  newKeys: (i: number) => IndexKeys,
  key: string,
): string {
  for (let i = 0; i < changes.length; i++) {
    if (normalizeKeys(newKeys(i)).includes(key) && !normalizeKeys(oldKeys(i)).includes(key)) {
      return (changes[i] as RowChange).uuid;
    }
  }
  return '?';
}

export function violation(
  table: string,
  index: CacheIndex,
  key: string,
  holder: string,
  uuid: string,
): never {
  throw new OvsdbCacheError(
    'OVSDB_CACHE_INDEX_VIOLATION',
    `${table}: unique index "${index.name}" key ${JSON.stringify(key)} would be held by ` +
      `${holder} and ${uuid}`,
    table,
    uuid,
  );
}
