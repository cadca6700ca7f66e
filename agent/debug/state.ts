/**
 * `/debug/state` and `/debug/errors`: what the agent holds, built at request time from the
 * parts' own read functions (nothing is copied or cached for it).
 *
 * - state: every resource with one state and the reason when it is not `ready`; desired vs
 *   actual per reconciler; what the next Northbound pass would send (pending); IPAM.
 * - errors: validation errors (kind, name, field), edits held back, deletes blocked, build
 *   warnings, plan problems, and the last error of every reconciler and object.
 */
import { formatIssue, ValidationError } from '../errors.js';
import type { Ipam } from '../ipam/index.js';
import type { NbFlow } from '../nb/flow.js';
import type { Snapshot } from '../pipeline/snapshot.js';
import type { ObjectStatus } from '../reconcile/reconciler.js';
import type { RunnerHealth } from '../reconcile/runner.js';
import { allResources, resourceId, resourceKey } from '../resources/types.js';
import type { NodeWork } from '../run-node.js';

export interface DebugSources {
  node: string | undefined;
  flow: NbFlow;
  ipam: Ipam;
  snapshot: Snapshot | undefined;
  nodeWork: NodeWork | undefined;
}

/**
 * A resource's state, worst first: `invalid` (its latest version was refused and none is in
 * effect), `error`, `degraded`, `held` (an edit refused, the last valid version in effect),
 * `deleting` (removed, kept while others refer to it), `pending`, `standby` (another agent
 * writes Northbound), `ready`.
 */
export type ResourceState =
  'invalid' | 'error' | 'degraded' | 'held' | 'deleting' | 'pending' | 'standby' | 'ready';

const SEVERITY: readonly ResourceState[] = [
  'invalid',
  'error',
  'degraded',
  'held',
  'deleting',
  'pending',
  'standby',
  'ready',
];

export interface ResourceRow {
  kind: string;
  /** `name`, or `namespace/name` for NetworkAttachmentDefinitions. */
  name: string;
  state: ResourceState;
  /** Why it is not ready (the first reason of its worst state). */
  reason?: string;
}

/** Every resource in effect or refused, with its state. */
export function resourceTable(src: DebugSources): ResourceRow[] {
  const s = src.snapshot;
  if (!s) return [];
  const rows = new Map<string, ResourceRow>();
  const note = (id: string, kind: string, name: string, state: ResourceState, reason?: string) => {
    const cur = rows.get(id);
    if (cur && SEVERITY.indexOf(cur.state) <= SEVERITY.indexOf(state)) return;
    rows.set(id, { kind, name, state, ...(reason !== undefined ? { reason } : {}) });
  };
  const writer = src.flow.writer.isWriter();
  const nb = src.flow.engine.status();
  const h = src.flow.engine.health();
  const converged = h.lastSuccessAt !== undefined && h.consecutiveFailures === 0 && !h.running;
  const statuses = src.nodeWork?.statuses();
  const node = statuses?.providers;
  for (const r of allResources(s.resources)) {
    if (r.kind === 'Vpc' && r.implicit) continue;
    const id = resourceId(r);
    const name = resourceKey(r);
    const st = nb.get(id) ?? node?.get(id);
    if (st) note(id, r.kind, name, st.state, st.message);
    else if (!writer)
      note(id, r.kind, name, 'standby', 'the Northbound writer (another agent) reconciles it');
    // No row of its own (a NAD): ready once a pass over the current resources succeeded.
    else if (converged) note(id, r.kind, name, 'ready');
    else note(id, r.kind, name, 'pending', 'not reconciled yet');
    // What this node does for it (a provider network's bridge, a NAT gateway it runs).
    for (const onNode of [node?.get(id), statuses?.nat.get(id)])
      if (onNode) note(id, r.kind, name, onNode.state, onNode.message);
  }
  const idOf = (kind: string, name: string, namespace?: string) =>
    `${kind}/${kind === 'NetworkAttachmentDefinition' ? `${namespace ?? 'default'}/${name}` : name}`;
  for (const h of s.held) note(idOf(h.kind, h.name, h.namespace), h.kind, h.name, 'held', h.message);
  for (const b of s.blocked) note(idOf(b.kind, b.name, b.namespace), b.kind, b.name, 'deleting', b.message);
  for (const e of s.errors) {
    if (!(e instanceof ValidationError)) continue;
    const i = e.issue;
    const id = idOf(i.kind, i.name, i.namespace);
    // A refused edit of a resource still in effect is `held` (noted above), not `invalid`.
    if (!rows.has(id))
      note(id, i.kind, i.namespace ? `${i.namespace}/${i.name}` : i.name, 'invalid', formatIssue(i));
  }
  return [...rows.values()].sort((a, b) => (a.kind + '/' + a.name < b.kind + '/' + b.name ? -1 : 1));
}

const statusList = (m: ReadonlyMap<string, ObjectStatus> | undefined) =>
  [...(m ?? new Map<string, ObjectStatus>())].map(([name, st]) => ({ name, ...st }));

/** One reconciler in `/debug/state`. */
export interface ReconcilerState {
  health: RunnerHealth | undefined;
  /** Northbound: desired vs owned rows per table, and what the next pass would send. */
  desired?: Record<string, number>;
  actual?: Record<string, number>;
  pending?: { ops: Record<string, number>; problems: number; prune: boolean } | undefined;
  /** Node reconcilers: their objects' states. */
  objects?: ({ name: string } & ObjectStatus)[];
}

export interface StateDoc {
  node: string | undefined;
  writer: boolean;
  snapshot: { seq: number; complete: boolean; incomplete: readonly string[] } | undefined;
  resources: ResourceRow[];
  reconcilers: Record<string, ReconcilerState>;
  ipam: {
    subnets: { subnet: string; used: number; size: string; allocatable: string; available: string }[];
    allocations: { subnet: string; owner: string; ip: string; mac: string }[];
    holdProblems: { subnet: string; owner: string; message: string }[];
  };
}

export function debugState(src: DebugSources): StateDoc {
  const { flow, ipam, snapshot: s, nodeWork } = src;
  const counts = flow.engine.counts();
  const health: Record<string, RunnerHealth> = { nb: flow.engine.health(), ...(nodeWork?.health() ?? {}) };
  const node = nodeWork?.statuses();
  return {
    node: src.node,
    writer: flow.writer.isWriter(),
    snapshot: s && { seq: s.seq, complete: s.complete, incomplete: s.incomplete },
    resources: resourceTable(src),
    reconcilers: {
      nb: {
        health: health.nb,
        desired: counts.desired,
        actual: counts.owned,
        // Only the writer reconciles: a standby's diff is the writer's business.
        pending: flow.writer.isWriter() ? flow.engine.pending() : undefined,
      },
      ...(nodeWork
        ? {
            'node-ovs': { health: health['node-ovs'], objects: statusList(node?.providers) },
            ports: { health: health['ports'], objects: statusList(node?.ports) },
            'nat-gateways': { health: health['nat-gateways'], objects: statusList(node?.nat) },
          }
        : {}),
    },
    ipam: {
      subnets: ipam.stats().map((x) => ({
        ...x,
        size: String(x.size),
        allocatable: String(x.allocatable),
        available: String(x.available),
      })),
      allocations: ipam
        .allocations()
        .map((a) => ({ subnet: a.subnet, owner: a.owner, ip: a.ip, mac: a.mac })),
      holdProblems: ipam.holdProblems(),
    },
  };
}

export function debugErrors(src: DebugSources): Record<string, unknown> {
  const { flow, snapshot: s, nodeWork } = src;
  const health: Record<string, RunnerHealth> = { nb: flow.engine.health(), ...(nodeWork?.health() ?? {}) };
  const failing = (m: ReadonlyMap<string, ObjectStatus> | undefined) =>
    statusList(m).filter((o) => o.state === 'error' || o.state === 'degraded');
  const node = nodeWork?.statuses();
  return {
    validation: s?.errors.map((e) => e.toJSON()) ?? [],
    held: s?.held ?? [],
    blockedDeletes: s?.blocked ?? [],
    incomplete: s?.incomplete ?? [],
    buildWarnings: flow.warnings(),
    planProblems: flow.engine.problems(),
    reconcilers: Object.fromEntries(
      Object.entries(health)
        .filter(([, h]) => h.lastError !== undefined)
        .map(([name, h]) => [name, { lastError: h.lastError, at: h.lastErrorAt, healthy: h.healthy }]),
    ),
    nbRecent: flow.engine.stats.lastErrors,
    objects: [
      ...failing(flow.engine.status()),
      ...failing(node?.providers),
      ...failing(node?.ports),
      ...failing(node?.nat),
    ],
  };
}
