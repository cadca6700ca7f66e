/**
 * The Northbound writer flow: the writer election (./writer.ts) and the NB reconciler
 * (./reconcile/engine.ts) fed from snapshots. Each snapshot becomes the next desired state when
 * the next pass starts — allocation first (./from-snapshot.ts), then the pure build — so a
 * burst of snapshots costs one build, the latest winning. Passes run only while this agent
 * holds the writer lock; winning it asks for a pass at once, from the NB cache as it is then
 * (never from a view taken at start).
 */
import type { OvsdbClient } from '../../ovsdb/index.js';
import type { Ipam } from '../ipam/index.js';
import type { Logger } from '../log.js';
import type { RunnerObserver } from '../reconcile/runner.js';
import { isLegacyPort } from '../node/ports/adopt.js';
import type { Snapshot } from '../pipeline/snapshot.js';
import { writerDesired, type WriterDesired } from './from-snapshot.js';
import { createNbReconciler, type NbReconciler } from './reconcile/index.js';
import { createNbWriter, type NbWriter } from './writer.js';

export interface NbFlowDeps {
  client: OvsdbClient;
  ipam: Ipam;
  log: Logger;
  observer?: RunnerObserver;
}

export interface NbFlowConfig {
  owner: string;
  lockName: string;
  debounceMs: number;
  resyncMs: number;
  gatewayChassis: string[];
}

export interface NbFlow {
  readonly engine: NbReconciler;
  readonly writer: NbWriter;
  /** The next snapshot (built when the next pass starts; prunes only if `snapshot.complete`). */
  set(snapshot: Snapshot): void;
  /** What the last build could not do (a natOutgoing gateway without an address, …). */
  warnings(): WriterDesired['warnings'];
  start(): void;
  /** Stops passes, then gives the lock up (a standby takes over at once). */
  stop(): Promise<void>;
}

export function createNbFlow(deps: NbFlowDeps, config: NbFlowConfig): NbFlow {
  const { client, ipam, log } = deps;
  const writer = createNbWriter({ client, log }, { lockName: config.lockName });
  const engine = createNbReconciler(
    { client, isWriter: () => writer.isWriter(), log: log.child({ module: 'reconcile' }) },
    {
      owner: config.owner,
      lock: config.lockName,
      runner: {
        debounceMs: config.debounceMs,
        resyncMs: config.resyncMs,
        ...(deps.observer ? { observer: deps.observer } : {}),
      },
      // Workload ports of an earlier release are left for their node's agent to adopt.
      keep: (table, row) => isLegacyPort(table, row, config.owner),
    },
  );
  writer.on('change', (w) => {
    if (w) engine.trigger('writer');
  });
  let warnings: WriterDesired['warnings'] = [];
  return {
    engine,
    writer,
    set(snapshot) {
      engine.setDesired(
        () => {
          const d = writerDesired(snapshot, ipam, { gatewayChassis: config.gatewayChassis });
          warnings = d.warnings;
          return d.state;
        },
        { complete: snapshot.complete },
      );
    },
    warnings: () => warnings,
    start() {
      engine.start();
      writer.start();
    },
    async stop() {
      await engine.stop();
      await writer.stop().catch(() => undefined);
    },
  };
}
