/**
 * Ownership of Northbound rows, read from the monitor cache.
 *
 * A row is owned by this agent when `external_ids[OWNER_KEY]` equals the agent's owner id
 * (see `agent/nb/desired.ts`); its identity within its table is `external_ids[ROW_KEY]`.
 * Rows without the owner key, or with another owner, are foreign: the engine never updates
 * or deletes them (it only removes a reference to one of *its own* rows from a foreign
 * parent, see `plan.ts`).
 *
 * Two client-side cache indexes per table that has an `external_ids` column keep lookups
 * O(1) per desired row and make the owned rows enumerable without scanning foreign ones:
 * - `vpc-agent.key:<owner>` — ROW_KEY → uuid(s) of owned rows;
 * - `vpc-agent.owned:<owner>` — one key (`owned`) → every owned row.
 */
import type { DatabaseCache, Row } from '../../../ovsdb/index.js';
import { externalIds, OWNER_KEY, ROW_KEY } from '../../ownership.js';

/** Name of the ROW_KEY index for `owner`. */
export function keyIndexName(owner: string): string {
  return `vpc-agent.key:${owner}`;
}

/** Name of the "all owned rows" index for `owner`. */
export function ownedIndexName(owner: string): string {
  return `vpc-agent.owned:${owner}`;
}

const OWNED = 'owned';

export { externalIds };

/** True when `row` carries `owner` in its owner key. */
export function isOwnedBy(row: Row, owner: string): boolean {
  return externalIds(row)[OWNER_KEY] === owner;
}

/** Monitored tables that can carry ownership (they have an `external_ids` map column). */
export function ownableTables(cache: DatabaseCache): string[] {
  return cache.tableNames().filter((t) => {
    const col = cache.schema.tables.get(t)?.columns.get('external_ids');
    return col !== undefined && col.type.kind === 'map';
  });
}

/** Adds the two ownership indexes to every ownable table (idempotent). */
export function ensureOwnershipIndexes(cache: DatabaseCache, owner: string): void {
  const keyName = keyIndexName(owner);
  const ownedName = ownedIndexName(owner);
  for (const t of ownableTables(cache)) {
    const table = cache.table(t);
    if (!table.index(keyName)) {
      table.addIndex(keyName, (row) => {
        const ids = externalIds(row);
        const key = ids[ROW_KEY];
        return ids[OWNER_KEY] === owner && typeof key === 'string' ? key : undefined;
      });
    }
    if (!table.index(ownedName)) {
      table.addIndex(ownedName, (row) => (isOwnedBy(row, owner) ? OWNED : undefined));
    }
  }
}

/** Owned rows of `table` (indexes added on first use) with identity `key` (normally zero or one; more is a duplicate to prune). */
export function ownedByKey(cache: DatabaseCache, table: string, key: string, owner: string): Row[] {
  if (!cache.table(table).index(keyIndexName(owner))) ensureOwnershipIndexes(cache, owner);
  return cache.lookup(table, keyIndexName(owner), key);
}

/** Every owned row of `table`. */
export function ownedRows(cache: DatabaseCache, table: string, owner: string): Row[] {
  if (!cache.table(table).index(ownedIndexName(owner))) ensureOwnershipIndexes(cache, owner);
  return cache.lookup(table, ownedIndexName(owner), OWNED);
}

/** Number of owned rows per table (tables with none left out), for `/debug`. */
export function ownedCounts(cache: DatabaseCache, owner: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ownableTables(cache)) {
    if (!cache.table(t).index(ownedIndexName(owner))) ensureOwnershipIndexes(cache, owner);
    const n = cache.lookupCount(t, ownedIndexName(owner), OWNED);
    if (n > 0) out[t] = n;
  }
  return out;
}
