/**
 * The build-and-retry loop behind `OvsdbClient.run` — the OVS IDL's transaction pattern
 * (a transaction is built from the replica, committed, and on `TXN_TRY_AGAIN` the
 * application waits for the replica to change and builds it again).
 *
 * Why rebuilding is safe where resending is not: ovsdb(7) "Understanding Cluster Consistency"
 * — OVSDB gives "at-least-once" semantics for a resent transaction, because a write whose
 * connection dropped may have committed. After the client has reconnected (to a member whose
 * `index` is not behind anything seen, i.e. not stale) and resynced, the cache shows whether
 * it committed, so a builder that checks the cache ("insert X unless X exists") applies its
 * change exactly once. Builders should also guard with `wait`/verify (RFC 7047 §5.2.6) so the
 * server rejects a transaction built from a cache that was behind.
 */
import type { DatabaseCache } from '../cache/index.js';
import type { Operation } from '../transaction/index.js';
import { OvsdbClientError, isTryAgain } from './errors.js';
import type { ClientTransactOptions, RunOptions, RunResult, TxnBuilder } from './options.js';

/** What the loop needs from the client. */
export interface RunHost {
  cache(): DatabaseCache;
  /** Incremented each time the client comes online (connected + synced). */
  epoch(): number;
  whenOnline(timeoutMs?: number): Promise<unknown>;
  whenEpochAfter(epoch: number, timeoutMs?: number): Promise<unknown>;
  transact(ops: readonly Operation[], opts: ClientTransactOptions): Promise<unknown[]>;
}

/** A failed `wait` operation ("timed out", RFC 7047 §5.2.6): a verify precondition no longer holds. */
export function isPreconditionFailure(err: unknown, ops: readonly Operation[]): boolean {
  const e = err as { code?: unknown; opIndex?: unknown };
  return e?.code === 'OVSDB_TXN_TIMED_OUT' && typeof e.opIndex === 'number' && ops[e.opIndex]?.op === 'wait';
}

/** Delay before retry `n` (1-based): `min·2^(n-1)` capped at `max`, jittered down by up to half. */
export function retryDelay(n: number, minMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(minMs * 2 ** Math.max(0, n - 1), maxMs);
  return Math.round(base * (0.5 + random() * 0.5));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when the cache's seqno differs from `seqno`, or after `ms`. */
function cacheChangeOrDelay(cache: DatabaseCache, seqno: number, ms: number): Promise<void> {
  if (cache.seqno !== seqno) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const off = cache.onChange(() => done());
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}

export async function runWithRetry(host: RunHost, build: TxnBuilder, opts: RunOptions): Promise<RunResult> {
  const max = opts.maxAttempts ?? 10;
  const minMs = opts.minBackoffMs ?? 50;
  const maxMs = opts.maxBackoffMs ?? 2000;
  let lastErr: unknown;
  for (let attempt = 1; attempt <= max; attempt++) {
    await host.whenOnline(opts.connectTimeoutMs);
    const cache = host.cache();
    await cache.idle();
    const epoch = host.epoch();
    const seqno = cache.seqno;
    const ops = build(cache);
    if (!ops || ops.length === 0) return { results: undefined, ops: undefined, attempts: attempt };
    try {
      return { results: await host.transact(ops, opts), ops, attempts: attempt };
    } catch (err) {
      lastErr = err;
      if (isTryAgain(err)) {
        if ((err as { reason?: unknown }).reason === 'disconnected') {
          // The cache shows the outcome only after a reconnect and resync.
          await host.whenEpochAfter(epoch, opts.connectTimeoutMs);
        } else {
          await cacheChangeOrDelay(cache, seqno, retryDelay(attempt, minMs, maxMs));
        }
      } else if (isPreconditionFailure(err, ops)) {
        // The cache was behind the server: wait for the update that caught it up.
        await cacheChangeOrDelay(cache, seqno, retryDelay(attempt, minMs, maxMs));
      } else {
        throw err;
      }
      if (attempt < max) await sleep(retryDelay(attempt, minMs, maxMs) / 4);
    }
  }
  const msg = lastErr instanceof Error ? lastErr.message : String(lastErr);
  throw new OvsdbClientError('OVSDB_RUN_EXHAUSTED', `transaction not settled after ${max} attempts: ${msg}`, {
    cause: lastErr,
  });
}
