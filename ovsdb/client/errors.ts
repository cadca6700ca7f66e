/**
 * Errors of the high-level client. Codes are stable strings (see `ovsdb/errors.ts`).
 */
import { OvsdbError } from '../errors.js';

/** Why a transaction must be retried (its outcome is unknown, or its preconditions no longer hold). */
export type TryAgainReason =
  /** The connection dropped before the reply: the transaction may or may not have committed. */
  | 'disconnected'
  /**
   * The server answered "cluster error": the RAFT commit failed (e.g. leadership moved while it
   * was pending), so the entry may still be committed by the next leader — outcome unknown.
   */
  | 'cluster-error'
  /** No reply within the caller's `timeoutMs`; the client dropped the connection to resync. */
  | 'timeout';

/**
 * `OVSDB_TRY_AGAIN`: the outcome of a transaction is unknown (the OVS IDL's `TXN_TRY_AGAIN`).
 * ovsdb(7) "Understanding Cluster Consistency": OVSDB has no session mechanism to drop duplicate
 * transactions, so a write whose reply was lost must not be blindly resent. Re-read the state
 * (after the client has resynced) and decide again — {@link OvsdbClient.run} does exactly that.
 */
export class OvsdbTryAgainError extends OvsdbError {
  constructor(
    readonly reason: TryAgainReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('OVSDB_TRY_AGAIN', message, options);
  }
}

/**
 * Client-level failures:
 * - `OVSDB_CLIENT_CLOSED`: the client was closed (pending waits reject with it);
 * - `OVSDB_NOT_CONNECTED`: no synced connection became available in time;
 * - `OVSDB_RUN_EXHAUSTED`: `run()` gave up after its retries (`cause` is the last error);
 * - `OVSDB_WRITE_NOT_SEEN`: `waitForCache` timed out before the cache showed the write;
 * - `OVSDB_LOCK_RELEASED`: a lock was unlocked before it was ever acquired.
 */
export class OvsdbClientError extends OvsdbError {}

/** True for the errors {@link OvsdbClient.run} retries after a resync. */
export function isTryAgain(err: unknown): err is OvsdbTryAgainError {
  return err instanceof OvsdbTryAgainError || (err as { code?: unknown })?.code === 'OVSDB_TRY_AGAIN';
}

/**
 * Maps the failure of a sent transaction whose outcome is unknown to `OVSDB_TRY_AGAIN`: the
 * connection dropped (or its probe timed out) before the reply, or the server reported a RAFT
 * "cluster error". Returns undefined for every other error (those are definite).
 */
export function toTryAgain(err: unknown): OvsdbTryAgainError | undefined {
  const code = (err as { code?: unknown })?.code;
  const msg = (err as Error)?.message ?? String(err);
  if (code === 'OVSDB_DISCONNECTED' || code === 'OVSDB_PROBE_TIMEOUT') {
    return new OvsdbTryAgainError('disconnected', `transaction outcome unknown: ${msg}`, { cause: err });
  }
  if (code === 'OVSDB_TIMEOUT') {
    return new OvsdbTryAgainError('timeout', `transaction outcome unknown: ${msg}`, { cause: err });
  }
  if (code === 'OVSDB_TXN_CLUSTER_ERROR') {
    return new OvsdbTryAgainError('cluster-error', `transaction outcome unknown: ${msg}`, { cause: err });
  }
  return undefined;
}
