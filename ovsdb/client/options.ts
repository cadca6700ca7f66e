/**
 * Options, events and small shared types of {@link OvsdbClient}.
 */
import type { DatabaseCache } from '../cache/index.js';
import type { MonitorMethod, TableMonitorSpec } from '../monitor/index.js';
import type { TlsOptions } from '../rpc/index.js';
import type { DatabaseSchema } from '../schema.js';
import type { Operation } from '../transaction/index.js';
import type { RejectReason } from './cluster.js';

/** A pino-compatible logger (only these methods are used); `logger.child` is used when present. */
export interface ClientLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  child?(bindings: Record<string, unknown>): ClientLogger;
}

/** What to monitor into the cache: per table its columns and conditions, or every table. */
export type ClientMonitorConfig =
  'all' | { tables: Record<string, Pick<TableMonitorSpec, 'columns' | 'where'>> } | false;

export interface OvsdbClientOptions {
  /** One remote, several, or a comma-separated list (`unix:`, `tcp:`, `ssl:`), e.g. the cluster members. */
  remotes: string | readonly string[];
  /** Database name, e.g. `OVN_Northbound`. */
  database: string;
  /**
   * The schema the application was built for (e.g. `nb.schema()`); its version must have the
   * server's major version (a warning is logged otherwise). Default: the server's own schema
   * (from `_Server.Database.schema`, else `get_schema`, RFC 7047 §4.1.2).
   */
  schema?: DatabaseSchema;
  /** What to monitor (default `'all'`: every table and column; `false`: nothing). */
  monitor?: ClientMonitorConfig;
  /** Use only the cluster leader (default true; ovsdb(7): "A write-heavy client should connect to the leader"). */
  leaderOnly?: boolean;
  /** TLS material for `ssl:` remotes. */
  tls?: TlsOptions;
  /** Inactivity probe interval (default 5000 ms; 0 disables). */
  probeIntervalMs?: number;
  /** Reconnect backoff (defaults 1000 → 8000 ms as OVS's reconnect FSM). */
  backoff?: { minMs?: number; maxMs?: number };
  /** Try remotes in random order (spreads clients over members). Default false. */
  shuffle?: boolean;
  /** Give up opening one remote after this long (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * A remote that cannot be reached is a warning at the first failure, then at most once per
   * this interval with the count of failed attempts (default 30 s); every attempt is `debug`.
   */
  connectWarnIntervalMs?: number;
  logger?: ClientLogger;
}

/** Options of {@link OvsdbClient.transact}. */
export interface ClientTransactOptions {
  /** Resolve only once the cache shows the transaction's inserts (read-your-writes). */
  waitForCache?: boolean;
  /** How long `waitForCache` waits (default 5000 ms). */
  waitForCacheMs?: number;
  /** How long to wait for a synced connection before failing with `OVSDB_NOT_CONNECTED` (default 30 s). */
  connectTimeoutMs?: number;
  /**
   * How long to wait for the reply once sent (default: no limit; the connection's inactivity
   * probe still detects a dead server). On expiry the outcome is unknown, so the client drops
   * the connection — it reconnects and resyncs, as after any failure — and the call fails
   * with `OVSDB_TRY_AGAIN` (reason `timeout`); {@link OvsdbClient.run} then rebuilds from the
   * resynced cache.
   */
  timeoutMs?: number;
}

/** Options of {@link OvsdbClient.run}. */
export interface RunOptions extends ClientTransactOptions {
  /** Attempts before giving up with `OVSDB_RUN_EXHAUSTED` (default 10). */
  maxAttempts?: number;
  /** First retry delay (default 50 ms), doubled per retry up to `maxBackoffMs` (default 2000 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Builds a transaction from the synced cache; undefined or `[]` means "nothing to do". */
export type TxnBuilder = (cache: DatabaseCache) => readonly Operation[] | undefined;

/** Outcome of {@link OvsdbClient.run}. */
export interface RunResult {
  /** Per-operation results of the committed transaction; undefined when the builder had nothing to do. */
  results: unknown[] | undefined;
  /** The operations that committed (undefined when nothing was sent). */
  ops: readonly Operation[] | undefined;
  /** Builder calls made (1 when the first attempt settled it). */
  attempts: number;
}

export interface ConnectedInfo {
  remote: string;
  /** `_Server.Database` model (undefined for servers without `_Server`). */
  model?: string;
  leader?: boolean;
  /** The member's server id (clustered). */
  sid?: string;
  index?: number;
}

/** Events of {@link OvsdbClient}. */
export interface ClientEvents {
  /** A member was accepted and is being synced. */
  connected: [info: ConnectedInfo];
  disconnected: [info: { remote: string; reason: Error | undefined }];
  /** Opening `remote` failed (unreachable, TLS handshake, timeout) or its member was refused. */
  connectFailed: [info: { remote: string; error: Error }];
  /** The monitor (re)synced into the cache; `fast` when `monitor_cond_since` resumed from our last txn id. */
  synced: [info: { remote: string; fast: boolean; method: MonitorMethod | undefined; changes: number }];
  /**
   * Leadership moved: `remote` undefined when the member we use stopped being leader (we drop
   * it and reconnect), else the new leader we connected to after `previous`.
   */
  leaderChanged: [info: { remote: string | undefined; previous: string | undefined }];
  /** A member was skipped (not leader, not joined, disconnected, stale, or an error while vetting it). */
  memberRejected: [info: { remote: string; reason: RejectReason | 'error'; error?: Error }];
  /**
   * A {@link OvsdbClient.transact} ended: how long it took, request to reply (waiting for a
   * connection included), and its error when it failed. Emitted only while someone listens, so
   * an unobserved client pays nothing for it.
   */
  transaction: [info: { seconds: number; error?: unknown }];
}

export const NOOP_LOGGER: ClientLogger = { debug() {}, info() {}, warn() {} };
