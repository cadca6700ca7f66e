/**
 * The stateful end of the pipeline: holds the latest {@link Snapshot}, turns each source
 * snapshot into the next one ({@link nextSnapshot}), and reports what changed in the errors,
 * held edits and blocked deletes (logged once each, not on every load; counted in metrics).
 * It is the single owner of the current snapshot; everyone else receives it immutable.
 */
import type { Logger } from '../log.js';
import type { AgentMetrics, LoadSummary } from '../metrics/index.js';
import { countByKind, errorKind } from '../run-state.js';
import type { SourceSnapshot } from '../sources/types.js';
import { nextSnapshot, type PipelineContext, type Snapshot } from './snapshot.js';

export interface Pipeline {
  /** The next snapshot from `input` (becomes the current one). */
  apply(input: SourceSnapshot): Snapshot;
  /** The last source snapshot again (the data-plane context changed); undefined before any. */
  reapply(): Snapshot | undefined;
  current(): Snapshot | undefined;
  /** Counts by kind of the current snapshot, for metrics. */
  summary(): LoadSummary | undefined;
}

export function createPipeline(deps: {
  log: Logger;
  metrics?: AgentMetrics;
  context?: () => PipelineContext;
}): Pipeline {
  let current: Snapshot | undefined;
  let lastInput: SourceSnapshot | undefined;
  let summary: LoadSummary | undefined;
  const seen = { errors: '', held: '', blocked: '', incomplete: '' };
  const changed = (k: keyof typeof seen, lines: readonly string[]) => {
    const sig = lines.join('\n');
    if (sig === seen[k]) return false;
    seen[k] = sig;
    return true;
  };

  const pipeline: Pipeline = {
    reapply: () => (lastInput ? pipeline.apply(lastInput) : undefined),
    apply(input) {
      lastInput = input;
      const s = nextSnapshot(current, input, deps.context?.() ?? {});
      current = s;
      const { log } = deps;
      if (
        changed(
          'errors',
          s.errors.map((e) => e.message),
        )
      )
        for (const e of s.errors) log.warn({ err: e.toJSON() }, `resource skipped: ${e.message}`);
      if (
        changed(
          'held',
          s.held.map((h) => h.message),
        )
      )
        for (const h of s.held) log.warn({ kind: h.kind, name: h.name }, `edit not applied: ${h.message}`);
      if (
        changed(
          'blocked',
          s.blocked.map((b) => b.message),
        )
      )
        for (const b of s.blocked)
          log.warn({ kind: b.kind, name: b.name, dependents: b.dependents }, `delete blocked: ${b.message}`);
      if (changed('incomplete', s.incomplete))
        for (const why of s.incomplete)
          log.warn({ reason: why }, 'resources incomplete: nothing is pruned until this is fixed');
      const errs = s.errors.map((e) => ({ kind: errorKind(e), message: e.message }));
      deps.metrics?.recordLoadErrors(errs);
      summary = { valid: countByKind(s.resources), errors: {} };
      for (const e of errs) summary.errors[e.kind] = (summary.errors[e.kind] ?? 0) + 1;
      return s;
    },
    current: () => current,
    summary: () => summary,
  };
  return pipeline;
}
