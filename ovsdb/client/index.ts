/** The high-level OVSDB client: clustered failover, cache resync, safe retries, locks. */
export { OvsdbClient } from './client.js';
export type {
  ClientEvents,
  ClientLogger,
  ClientMonitorConfig,
  ClientTransactOptions,
  ConnectedInfo,
  OvsdbClientOptions,
  RunOptions,
  RunResult,
  TxnBuilder,
} from './options.js';
export { OvsdbClientError, OvsdbTryAgainError, isTryAgain, type TryAgainReason } from './errors.js';
export { LockHandle, type LockEvents, type ReleaseReason } from './lock.js';
export {
  judgeMember,
  mustLeave,
  nextMinIndex,
  schemaVersionWarning,
  type JudgeOptions,
  type MemberVerdict,
  type RejectReason,
  type ServerDatabaseRow,
} from './cluster.js';
export { isPreconditionFailure, retryDelay } from './run.js';
export { createTxnBatcher, joinConcurrent, type BatchPlanner, type TxnBatcher } from './batch.js';
