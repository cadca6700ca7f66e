/**
 * Joins the transactions of concurrent callers into one: a {@link TxnBatcher} sends the first
 * caller's operations at once, and every caller that arrives while that transaction is in flight
 * waits for it and then goes in the next one, together. A burst of N similar changes costs the
 * server (and, for Open_vSwitch, ovs-vswitchd's reconfiguration) about two transactions instead
 * of N.
 *
 * Each caller gives a planner over the cache, called for every attempt of the joined
 * transaction (so it sees the latest rows) with a tag unique in the batch, to keep its
 * `uuid-name`s apart from the others'. A planner that throws fails its caller alone. When the
 * server refuses the joined transaction for its content (an operation or the commit failed, or
 * an operation does not fit the schema), every caller of a batch of more than one is tried again
 * on its own, so one bad change cannot take the others down with it. Any other failure (the
 * server unreachable, `run`'s time or attempts used up) fails the whole batch at once: trying
 * each caller alone would only wait that long again, once per caller.
 */
import type { DatabaseCache } from '../cache/index.js';
import { OvsdbTransactionError, OvsdbValidationError, type Operation } from '../transaction/index.js';
import type { RunOptions, RunResult, TxnBuilder } from './options.js';

/** Builds one caller's share of a joined transaction; `tag` is unique among the batch. */
export type BatchPlanner = (cache: DatabaseCache, tag: string) => readonly Operation[] | undefined;

export interface TxnBatcher {
  /**
   * Resolves once the transaction holding this caller's operations committed (and, with
   * `waitForCache`, the cache shows it); `ops` are this caller's own (undefined: it had nothing
   * to do).
   */
  run(plan: BatchPlanner): Promise<{ ops: readonly Operation[] | undefined }>;
}

interface Waiting {
  plan: BatchPlanner;
  resolve: (v: { ops: readonly Operation[] | undefined }) => void;
  reject: (err: unknown) => void;
}

export function createTxnBatcher(
  client: { run(build: TxnBuilder, opts?: RunOptions): Promise<RunResult> },
  opts: RunOptions = {},
): TxnBatcher {
  async function runBatch(batch: Waiting[]): Promise<void> {
    const failed = new Map<Waiting, unknown>();
    const mine = new Map<Waiting, readonly Operation[]>();
    const build = (cache: DatabaseCache) => {
      failed.clear();
      mine.clear();
      const ops: Operation[] = [];
      batch.forEach((w, i) => {
        try {
          const own = w.plan(cache, `b${i}`) ?? [];
          if (own.length > 0) mine.set(w, own);
          ops.push(...own);
        } catch (err) {
          failed.set(w, err);
        }
      });
      return ops;
    };
    try {
      await client.run(build, opts);
    } catch (err) {
      if (batch.length === 1 || !refusedForContent(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      // Whose change was it? Each on its own, one after the other.
      for (const w of batch) await runBatch([w]);
      return;
    }
    for (const w of batch) {
      const err = failed.get(w);
      if (err !== undefined) w.reject(err);
      else w.resolve({ ops: mine.get(w) });
    }
  }

  const join = joinConcurrent(runBatch);
  return {
    run(plan) {
      return new Promise((resolve, reject) => join({ plan, resolve, reject }));
    },
  };
}

/** The server refused the transaction for what is in it (not for being unreachable or slow). */
function refusedForContent(err: unknown): boolean {
  return err instanceof OvsdbValidationError || (err instanceof OvsdbTransactionError && err.opIndex >= 0);
}

/**
 * Joins concurrent calls into batches: the first call's batch runs at once, and calls that arrive
 * while a batch runs wait and go together in the next. `runBatch` settles each item; if it
 * throws, every item of that batch is rejected with the error.
 */
export function joinConcurrent<T extends { reject(err: unknown): void }>(
  runBatch: (batch: T[]) => Promise<void>,
): (item: T) => void {
  let queue: T[] = [];
  let running = false;
  async function flush(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        await runBatch(batch).catch((err: unknown) => {
          for (const item of batch) item.reject(err);
        });
      }
    } finally {
      running = false;
    }
  }
  return (item) => {
    queue.push(item);
    queueMicrotask(() => void flush());
  };
}
