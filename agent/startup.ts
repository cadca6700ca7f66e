/**
 * A start that cleans up after itself. A daemon whose start failed halfway must not keep what
 * it opened: a Northbound session holding the writer lock would keep every standby waiting, a
 * bound port or unix socket would make the restart fail too, and open handles would keep the
 * process from exiting.
 */
import type { Logger } from './log.js';

/**
 * `start`, and when it rejects, `undo` (the agent's `stop`, which closes whatever is open and
 * skips the rest) before the same rejection. A failure of `undo` is logged, never thrown over
 * the original error.
 */
export function startOrUndo(
  deps: { log: Pick<Logger, 'error' | 'warn' | 'info'>; undo: () => Promise<void> },
  start: () => Promise<void>,
): () => Promise<void> {
  const { log, undo } = deps;
  return async () => {
    try {
      await start();
    } catch (err) {
      // Clients are closed only by a stop: then the start was interrupted, it did not fail.
      if ((err as { code?: unknown })?.code === 'OVSDB_CLIENT_CLOSED')
        log.info({ err }, 'stopped while starting');
      else log.error({ err }, `start failed: ${err instanceof Error ? err.message : String(err)}`);
      await undo().catch((e: unknown) => log.warn({ err: e }, 'cleanup after the failed start failed'));
      throw err;
    }
  };
}
