/**
 * Shapes shared by the cache modules: rows in their in-memory form and the change
 * records the cache emits after each applied message.
 */
import type { Datum } from '../notation.js';

/**
 * A cached row: its `_uuid` plus every monitored column in the in-memory form of
 * `../notation.ts`. Rows are immutable snapshots: a change replaces the object, so
 * a reference taken earlier keeps showing the old version. Do not mutate them
 * (empty sets and maps are shared frozen values).
 */
export interface Row {
  readonly _uuid: string;
  readonly [column: string]: Datum;
}

export type ChangeKind = 'insert' | 'update' | 'delete';

/** One row's change within an applied message. */
export interface RowChange {
  table: string;
  kind: ChangeKind;
  uuid: string;
  /** The row before (update, delete). */
  old?: Row;
  /** The row after (insert, update). */
  new?: Row;
}

/** Why a batch of changes happened. */
export type ChangeCause = 'update' | 'update2' | 'update3' | 'resync' | 'clear';

/** Everything one message changed, emitted once the whole message is applied. */
export interface ChangeBatch {
  /** The cache's change counter after this batch. */
  seqno: number;
  cause: ChangeCause;
  changes: RowChange[];
}
