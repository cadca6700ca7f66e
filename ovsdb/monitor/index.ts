/** OVSDB monitors feeding the cache (RFC 7047 §4.1.5-7, ovsdb-server(7) §4.1.12-16). */
export { Monitor } from './monitor.js';
export type { MonitorMethod, MonitorOptions, MonitorRpc, SyncResult } from './monitor.js';
export { buildMonitorRequests, encodeConditions, monitoredColumns, OvsdbMonitorError } from './requests.js';
export type {
  Condition,
  ConditionFunction,
  MonitorSelect,
  MonitorSpec,
  TableMonitorSpec,
} from './requests.js';
