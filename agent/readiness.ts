/**
 * Readiness of `vpc-agent run` (`GET /readyz`), as opposed to liveness (`/healthz`: the process
 * serves HTTP at all). Ready means the agent does its job now:
 * - every configured database — Northbound always, Open_vSwitch with `ovs`, Southbound with
 *   `ovs` and `sb` — has a synced connection;
 * - the start finished: each database synced once and the first manifest load was applied;
 * - as the Northbound writer, at least one reconcile pass succeeded and the last one did.
 *   A standby runs no passes; it is ready when connected and started (it takes over warm);
 * - the node's reconcilers (node OVS, workload ports) are healthy (not failing pass after pass).
 * Not ready carries one reason per failed condition.
 */
import type { AgentConfig } from './run.js';
import type { RunnerHealth } from './reconcile/runner.js';

/** What readiness reads of a client. */
interface Online {
  readonly isOnline: boolean;
}

export interface ReadinessInput {
  config: Pick<AgentConfig, 'ovs' | 'sb'>;
  nb: Online;
  /** The node work's clients; undefined until the node work started. */
  node: { readonly ovs: Online; readonly sb: Online | undefined } | undefined;
  /** `start()` finished. */
  started: boolean;
  writer: boolean;
  reconcile: Pick<RunnerHealth, 'passes' | 'consecutiveFailures' | 'lastError'>;
  /** The node's reconcilers (node OVS, ports) by name, once the node work started. */
  nodeReconcilers?: Record<string, Pick<RunnerHealth, 'healthy' | 'consecutiveFailures' | 'lastError'>>;
}

export interface Readiness {
  ready: boolean;
  /** Why not (empty when ready). */
  reasons: string[];
  /** Connected, per configured database. */
  databases: Record<string, boolean>;
  writer: boolean;
}

export function readiness(input: ReadinessInput): Readiness {
  const databases: Record<string, boolean> = { Northbound: input.nb.isOnline };
  if (input.config.ovs) {
    databases['Open_vSwitch'] = input.node?.ovs.isOnline ?? false;
    if (input.config.sb) databases['Southbound'] = input.node?.sb?.isOnline ?? false;
  }
  const reasons = Object.entries(databases)
    .filter(([, online]) => !online)
    .map(([db]) => `${db}: not connected`);
  if (!input.started) reasons.push('start: not finished (initial sync and manifest load)');
  const r = input.reconcile;
  if (input.started && input.writer) {
    if (r.consecutiveFailures > 0)
      reasons.push(`reconcile: the last pass failed (${r.consecutiveFailures} in a row): ${r.lastError}`);
    else if (r.passes === 0) reasons.push('reconcile: no pass has completed yet');
  }
  for (const [name, h] of Object.entries(input.nodeReconcilers ?? {}))
    if (!h.healthy) reasons.push(`${name}: ${h.consecutiveFailures} failed passes in a row: ${h.lastError}`);
  return { ready: reasons.length === 0, reasons, databases, writer: input.writer };
}
