/**
 * Northbound writer election: one agent writes cluster-wide NB state at a time — an
 * {@link createElection election} on the NB database's `vpc_agent_nb_writer` lock.
 *
 * Standby agents keep their NB monitor warm (the client monitors regardless), so a takeover
 * needs no initial dump: the standby that is handed the lock reconciles from its already-synced
 * cache. Every write carries `assert` of the lock (added by the engine), so an agent that was
 * deposed fails with "not owner" rather than writing.
 */
import type { EventEmitter } from 'node:events';
import { createElection, type ElectionDeps, type ElectionEvents } from '../election.js';

/** The lock name (an RFC 7047 §3.1 <id>: no `-`). */
export const NB_WRITER_LOCK = 'vpc_agent_nb_writer';

export type NbWriterEvents = ElectionEvents;

export interface NbWriter extends EventEmitter<NbWriterEvents> {
  readonly lockName: string;
  start(): void;
  /** Gives the lock up (a standby takes over at once). */
  stop(): Promise<void>;
  /** True while this agent's current NB session owns the lock. */
  isWriter(): boolean;
}

export interface NbWriterConfig {
  /** Default {@link NB_WRITER_LOCK}; tests use their own names to run several elections. */
  lockName?: string;
}

export function createNbWriter(deps: ElectionDeps, config: NbWriterConfig = {}): NbWriter {
  const election = createElection(deps, {
    lockName: config.lockName ?? NB_WRITER_LOCK,
    role: 'northbound writer',
  });
  return Object.assign(election, { isWriter: () => election.holds() });
}
