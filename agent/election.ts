/**
 * One role held by one agent at a time, elected with an OVSDB lock (RFC 7047 §4.1.8), as
 * ovn-northd elects its active instance (ovn-northd(8) "Active-Standby for High Availability").
 *
 * - Every candidate requests the lock; the server grants it to one session and queues the
 *   others. The holder has the role.
 * - When the holder's session ends (process death, network loss), the server hands the lock to
 *   the next waiter and sends it `locked` (§4.1.9): failover needs no other agent to be up.
 * - A holder deposed (lock stolen, §4.1.10, or its session replaced) is told, and loses the
 *   role at once; writes guarded by `assert` of the lock (§5.2.10) then fail instead of landing.
 * - Locks are per session and not replicated across cluster members; the client uses
 *   leader-only connections and re-requests the lock after every reconnect.
 *
 * The Northbound writer (./nb/writer.ts) and the node that runs each VPC NAT gateway
 * (./nat/placement.ts) are elections.
 */
import { EventEmitter } from 'node:events';
import type { LockHandle, OvsdbClient } from '../ovsdb/index.js';
import type { Logger } from './log.js';

export interface ElectionEvents {
  /** The role was won (true) or lost (false). */
  change: [held: boolean];
}

export interface Election extends EventEmitter<ElectionEvents> {
  readonly lockName: string;
  /** Becomes a candidate (requests the lock). */
  start(): void;
  /** Gives the role up (the next candidate takes over at once). */
  stop(): Promise<void>;
  /** True while this agent's current session owns the lock. */
  holds(): boolean;
}

export interface ElectionDeps {
  client: Pick<OvsdbClient, 'lock'>;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
}

export interface ElectionConfig {
  /** The lock name (an RFC 7047 §3.1 <id>: letters, digits, `_`). */
  lockName: string;
  /** For logs: `northbound writer`, `NAT gateway gw1`. */
  role: string;
}

export function createElection(deps: ElectionDeps, config: ElectionConfig): Election {
  const { lockName, role } = config;
  let handle: LockHandle | undefined;
  let held = false;
  const emitter = new EventEmitter<ElectionEvents>() as Election;

  const set = (v: boolean, why: string) => {
    if (held === v) return;
    held = v;
    deps.log?.info({ lock: lockName, reason: why }, v ? `became the ${role}` : `no longer the ${role}`);
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
          deps.log?.warn({ err, lock: lockName }, `${role} lock refused`);
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
    holds: () => held && (handle?.isOwner ?? false),
  });
  return emitter;
}
