/**
 * Read-your-writes: resolve a successful transaction only once the monitor cache shows it.
 *
 * ovsdb-server flushes monitor updates caused by a transaction before it sends the
 * transaction's reply (measured with OVS 3.1, standalone and clustered, leader and follower;
 * ovsdb(7) "Understanding Cluster Consistency": the results of a write "are visible at that
 * server before it replies"), and `RpcConnection` hands out a reply only after the
 * notifications ahead of it were handled. So after the reply the cache has usually applied the
 * changes already; this tracker makes that a checked guarantee: it waits until every row the
 * transaction inserted into a fully monitored table has been seen in a change batch, and
 * until the cache is idle.
 */
import type { DatabaseCache } from '../cache/index.js';
import type { Operation } from '../transaction/index.js';
import { OvsdbClientError } from './errors.js';

/** Records the rows inserted into the cache from just before a transaction is sent. */
export class WriteTracker {
  private readonly seen = new Set<string>();
  private readonly off: () => void;
  private waiting: { need: Set<string>; done: () => void } | undefined;

  /**
   * @param cache the client's cache
   * @param watchable whether inserts into `table` will show in the cache (the table is
   *   monitored without `where` conditions)
   */
  constructor(
    private readonly cache: DatabaseCache,
    private readonly watchable: (table: string) => boolean,
  ) {
    this.off = cache.onChange((batch) => {
      for (const ch of batch.changes) if (ch.kind !== 'delete') this.seen.add(ch.uuid);
      const w = this.waiting;
      if (w && [...w.need].every((u) => this.seen.has(u))) w.done();
    });
  }

  /**
   * Waits until the inserts among `ops` (whose uuids are in `results`) are visible.
   * @throws OvsdbClientError `OVSDB_WRITE_NOT_SEEN` after `timeoutMs`.
   */
  async wait(ops: readonly Operation[], results: readonly unknown[], timeoutMs: number): Promise<void> {
    try {
      await this.cache.idle();
      const need = new Set<string>();
      ops.forEach((op, i) => {
        if (op.op !== 'insert' || !this.watchable(op.table)) return;
        const uuid = results[i];
        if (typeof uuid === 'string' && !this.seen.has(uuid) && !this.cache.table(op.table).has(uuid)) {
          need.add(uuid);
        }
      });
      if (need.size === 0) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          reject(
            new OvsdbClientError(
              'OVSDB_WRITE_NOT_SEEN',
              `cache did not show inserted row(s) ${[...need].join(', ')} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        this.waiting = {
          need,
          done: () => {
            clearTimeout(timer);
            this.waiting = undefined;
            resolve();
          },
        };
      });
      await this.cache.idle();
    } finally {
      this.off();
    }
  }

  /** Stops recording (the transaction failed). */
  dispose(): void {
    this.off();
  }
}
