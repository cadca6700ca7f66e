/**
 * Northbound writer election: one agent writes cluster-wide NB state at
 * a time, elected with an OVSDB lock on the NB database, as ovn-northd elects its active
 * instance (ovn-northd(8) "Active-Standby for High Availability").
 *
 * - Every agent requests the lock (RFC 7047 §4.1.8 "lock"); the server grants it to one session
 *   and queues the others. The holder is the writer.
 * - Standby agents keep their NB monitor warm (the client monitors regardless), so a takeover
 *   needs no initial dump: when the writer's session ends (process death, network loss), the
 *   server hands the lock to the next waiter and sends it `locked` (§4.1.9) — the standby then
 *   reconciles from its already-synced cache.
 * - Every write carries `assert` of the lock (§5.2.10, added by the engine), so an agent that
 *   was deposed (lock stolen, §4.1.10, or its session silently replaced) fails with "not owner"
 *   rather than writing.
 * - Locks are per session and not replicated across cluster members; the client uses
 *   leader-only connections and re-requests the lock after every reconnect.
 */
import { EventEmitter } from 'node:events';
import type { LockHandle, OvsdbClient } from '../../ovsdb/index.js';
import type { Logger } from '../log.js';

/** The lock name (an RFC 7047 §3.1 <id>: no `-`). */
export const NB_WRITER_LOCK = 'vpc_agent_nb_writer';

export interface NbWriterEvents {
  /** Writer status changed. */
  change: [writer: boolean];
}

export interface NbWriter extends EventEmitter<NbWriterEvents> {
  readonly lockName: string;
  start(): void;
  /** Gives the lock up (a standby takes over at once). */
  stop(): Promise<void>;
  /** True while this agent's current NB session owns the lock. */
  isWriter(): boolean;
}

export interface NbWriterDeps {
  client: Pick<OvsdbClient, 'lock'>;
  log?: Pick<Logger, 'info' | 'warn'>;
}

export interface NbWriterConfig {
  /** Default {@link NB_WRITER_LOCK}; tests use their own names to run several elections. */
  lockName?: string;
}

export function createNbWriter(deps: NbWriterDeps, config: NbWriterConfig = {}): NbWriter {
  const lockName = config.lockName ?? NB_WRITER_LOCK;
  let handle: LockHandle | undefined;
  let writer = false;
  const emitter = new EventEmitter<NbWriterEvents>() as NbWriter;

  const set = (v: boolean, why: string) => {
    if (writer === v) return;
    writer = v;
    deps.log?.info(
      { lock: lockName, reason: why },
      v ? 'became the northbound writer' : 'northbound standby',
    );
    emitter.emit('change', v);
  };

  Object.assign(emitter, {
    lockName,
    start() {
      if (handle) return;
      handle = deps.client.lock(lockName);
      handle.on('locked', () => set(true, 'locked'));
      handle.on('stolen', () => set(false, 'stolen'));
      handle.on('released', (reason) => set(false, reason));
      if (handle.isOwner) set(true, 'locked');
      handle.acquired.catch((err: unknown) => {
        if ((err as { code?: unknown }).code === 'OVSDB_RPC_ERROR') {
          deps.log?.warn({ err, lock: lockName }, 'writer lock refused');
        }
      });
    },
    async stop() {
      const h = handle;
      handle = undefined;
      if (!h) return;
      h.removeAllListeners();
      await h.unlock();
      set(false, 'stopped');
    },
    isWriter: () => writer && (handle?.isOwner ?? false),
  });
  return emitter;
}
