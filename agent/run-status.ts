/**
 * Status write-back wiring of `vpc-agent run` (only with the Kubernetes source): the status
 * writer (./sources/kubernetes/status.ts) reads what the agent already knows — the current
 * snapshot, the Northbound reconciler's per-resource status, IPAM's counts, the NAT gateways
 * this node runs — and is asked to check after each snapshot, each Northbound change and each
 * writer election change (and periodically). It never feeds anything back: status is output.
 */
import type { OvsdbClient } from '../ovsdb/index.js';
import type { Ipam } from './ipam/index.js';
import type { Logger } from './log.js';
import type { AgentMetrics } from './metrics/index.js';
import type { NbFlow } from './nb/flow.js';
import type { Snapshot } from './pipeline/snapshot.js';
import type { NodeWork } from './run-node.js';
import type { KubeStatusTarget } from './sources/kubernetes/source.js';
import type { StatusWriter, StatusWriterConfig } from './sources/kubernetes/status.js';
import type { ResourceSource } from './sources/types.js';

/** How often the NAT reconciler's status is glanced at (an identity compare). */
const NAT_GLANCE_MS = 500;

/** A source whose objects can have their status written back (the Kubernetes source). */
export function statusTargetOf(source: ResourceSource): KubeStatusTarget | undefined {
  const s = source as ResourceSource & { statusTarget?: () => KubeStatusTarget };
  return typeof s.statusTarget === 'function' ? s.statusTarget() : undefined;
}

export interface StatusWorkDeps {
  target: KubeStatusTarget;
  log: Logger;
  metrics: AgentMetrics;
  nb: OvsdbClient;
  flow: NbFlow;
  ipam: Ipam;
  snapshot(): Snapshot | undefined;
  nodeWork(): NodeWork | undefined;
}

export interface StatusWork {
  readonly writer: StatusWriter;
  /** A new snapshot was delivered. */
  schedule(): void;
  close(): Promise<void>;
}

export async function startStatusWork(
  deps: StatusWorkDeps,
  config: { node: string; statusWriter?: Partial<StatusWriterConfig> },
): Promise<StatusWork> {
  // Loaded with the Kubernetes source only (it is that source's module).
  const { createStatusWriter } = await import('./sources/kubernetes/status.js');
  const writer = createStatusWriter(
    {
      target: deps.target,
      log: deps.log.child({ module: 'kube-status' }),
      registry: deps.metrics.registry,
      inputs: () => ({
        node: config.node,
        writer: deps.flow.writer.isWriter(),
        snapshot: deps.snapshot(),
        nb: deps.flow.engine.status(),
        ipam: { stats: deps.ipam.stats(), allocations: deps.ipam.allocations() },
        nat: deps.nodeWork()?.statuses().nat,
      }),
    },
    config.statusWriter ?? {},
  );
  const offNb = deps.nb.cache.onChange(() => writer.schedule('nb'));
  // A NAT pass leaves a new status map: check after each (a glance at its identity).
  let lastNat = deps.nodeWork()?.statuses().nat;
  const natTimer = setInterval(() => {
    const nat = deps.nodeWork()?.statuses().nat;
    if (nat !== lastNat && (nat?.size ?? 0) + (lastNat?.size ?? 0) > 0) writer.schedule('nat');
    lastNat = nat;
  }, NAT_GLANCE_MS);
  natTimer.unref();
  const onWriter = () => writer.schedule('writer');
  deps.flow.writer.on('change', onWriter);
  writer.start();
  return {
    writer,
    schedule: () => writer.schedule('snapshot'),
    async close() {
      offNb();
      clearInterval(natTimer);
      deps.flow.writer.off('change', onWriter);
      await writer.stop();
    },
  };
}
