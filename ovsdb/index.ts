/**
 * `ovsdb` — a general OVSDB client (RFC 7047 plus ovsdb-server(7) extensions), knowing
 * nothing of OVN. The public API:
 * - {@link OvsdbClient}: reconnecting, leader-only, cache-synced client with `transact`,
 *   `run` (build-and-retry) and locks — what applications use;
 * - transaction operation builders (`insert`, `update`, `wait`, `verify`, `assertLock`, typed
 *   via `ops<nb.Tables>()`), `transact` for a raw connection, and typed errors;
 * - schema parsing and RFC 7047 notation helpers; generated models (`nb`, `sb`, `vswitch`,
 *   `server`); the cache and monitor types; the wire layer; unixctl.
 */
export * from './client/index.js';
export * from './transaction/index.js';
export { OvsdbError } from './errors.js';
export * from './schema.js';
export * from './notation.js';
export * from './models/index.js';
export * from './cache/index.js';
export {
  Monitor,
  OvsdbMonitorError,
  buildMonitorRequests,
  encodeConditions,
  monitoredColumns,
  type Condition as MonitorCondition,
  type ConditionFunction as MonitorConditionFunction,
  type MonitorMethod,
  type MonitorOptions,
  type MonitorRpc,
  type MonitorSelect,
  type MonitorSpec,
  type SyncResult,
  type TableMonitorSpec,
} from './monitor/index.js';
export * from './rpc/index.js';
export * from './unixctl.js';
