/**
 * The contract between the Northbound desired-state builders (`agent/nb/build/`) and the
 * reconcile engine (`agent/nb/reconcile/`).
 *
 * Builders are pure: `(resources, allocations) -> DesiredState`. The engine diffs a
 * DesiredState against the monitor cache of the rows the agent owns and sends one minimal
 * transaction. Ownership and identity live in each row's `external_ids`:
 *
 * - `vpc-agent.io/owner`    = the agent's owner id (default {@link DEFAULT_OWNER}); rows
 *                             without it (or with another owner) are never touched;
 * - `vpc-agent.io/key`      = the row's identity within its table (stable across restarts,
 *                             e.g. `lsp/vswitch1/vm1`), so non-root rows without a name
 *                             (ACLs, routes, policies, NAT) are found again;
 * - `vpc-agent.io/resource` = the resource that produced it (`Subnet/vswitch1`), for
 *                             `/debug`, metrics and humans reading `ovn-nbctl` output.
 *
 * The engine adds these three keys; builders put only their own extra external_ids (e.g.
 * an IPAM owner) into `columns.external_ids`.
 */

export { DEFAULT_OWNER, OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../ownership.js';

/** A reference from a uuid column to another desired row (resolved by the engine). */
export interface RowRef {
  table: string;
  key: string;
}

export interface DesiredRow {
  /** OVN_Northbound table name, e.g. `Logical_Switch`. */
  table: string;
  /** Identity within the table; written to `external_ids[ROW_KEY]`. */
  key: string;
  /** `Kind/name` (or `Kind/namespace/name`) of the resource that produced the row. */
  resource: string;
  /**
   * Non-reference columns in the in-memory notation of `ovsdb/notation.ts` (optional =
   * `T | undefined`, set = array, map = record). Columns not listed are left as the server
   * has them on update, or at their defaults on insert.
   */
  columns: Record<string, unknown>;
  /**
   * uuid (or uuid-set) columns that point at other desired rows, e.g.
   * `Logical_Switch.ports -> [{table: 'Logical_Switch_Port', key: ...}]`. A scalar/optional
   * uuid column takes a one-element list (or an empty one for "none").
   */
  refs?: Record<string, RowRef[]>;
}

/** All desired rows, by table then key. */
export type DesiredState = Map<string, Map<string, DesiredRow>>;

/** Adds a row to a DesiredState; a duplicate (table, key) is a builder bug and throws. */
export function addRow(state: DesiredState, row: DesiredRow): void {
  let table = state.get(row.table);
  if (!table) state.set(row.table, (table = new Map()));
  if (table.has(row.key)) throw new Error(`duplicate desired row ${row.table}/${row.key}`);
  table.set(row.key, row);
}
