/**
 * The `/debug` document of `vpc-agent run`: desired vs actual, per-resource status, the last
 * errors, what the pipeline held or kept, IPAM and the node's reconcilers. Read-only: it is
 * assembled from the parts' own read functions at request time.
 */
import type { OvsdbClient } from '../../ovsdb/index.js';
import type { Ipam } from '../ipam/index.js';
import type { NbFlow } from '../nb/flow.js';
import type { Snapshot } from '../pipeline/snapshot.js';
import type { NodeWork } from '../run-node.js';

export interface DebugParts {
  node: string | undefined;
  nb: OvsdbClient;
  flow: NbFlow;
  ipam: Ipam;
  snapshot: Snapshot | undefined;
  nodeWork: NodeWork | undefined;
}

export function debugDocument(p: DebugParts): Record<string, unknown> {
  const { flow, ipam, snapshot: s, nodeWork } = p;
  const counts = flow.engine.counts();
  return {
    node: p.node,
    writer: flow.writer.isWriter(),
    nbRemote: p.nb.remote,
    online: p.nb.isOnline,
    desired: counts.desired,
    actual: counts.owned,
    reconcile: { ...flow.engine.stats, health: flow.engine.health() },
    problems: flow.engine.problems(),
    resources: Object.fromEntries(flow.engine.status()),
    snapshot: s && { seq: s.seq, complete: s.complete, incomplete: s.incomplete },
    validationErrors: s?.errors.map((e) => e.toJSON()) ?? [],
    blockedDeletes: s?.blocked ?? [],
    heldEdits: s?.held ?? [],
    buildWarnings: flow.warnings(),
    ipam: ipam.stats().map((x) => ({
      ...x,
      size: String(x.size),
      allocatable: String(x.allocatable),
      available: String(x.available),
    })),
    ipamHoldProblems: ipam.holdProblems(),
    valid: s ? { vpcs: s.resources.vpcs.size, subnets: s.resources.subnets.size } : undefined,
    ports: nodeWork?.portCount() ?? 0,
    nodeWork: nodeWork?.debug(),
  };
}
