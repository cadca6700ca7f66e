/**
 * The Northbound reconcile engine: the current {@link DesiredState}, the client's monitor cache
 * and a {@link createRunner runner} deciding when to run a pass.
 *
 * One pass = `client.run(build)`: `build` plans from the synced cache ({@link planReconcile})
 * and, when there is anything to do, returns `[assert(lock), comment, ...plan]` — one
 * transaction. `run()` rebuilds the plan after a reconnect/resync or a failed verify, so a
 * transaction whose reply was lost is never applied twice (see `ovsdb/client/run.ts`). The
 * `assert` (RFC 7047 §5.2.10) makes a writer that lost the lock fail with "not owner"
 * instead of writing.
 *
 * Triggers: a new desired state; any change in the cache to a row we own (drift: an
 * out-of-band edit or delete, debounced); becoming the writer; a periodic resync. A pass whose
 * plan is empty sends nothing. Pruning happens only while the latest desired state was set
 * with `complete` (its load was complete).
 */
import {
  assertLock,
  comment,
  type DatabaseCache,
  type Operation,
  type Row,
  type RunOptions,
  type RunResult,
  type TxnBuilder,
} from '../../../ovsdb/index.js';
import type { Logger } from '../../log.js';
import { DEFAULT_OWNER, RESOURCE_KEY, type DesiredState } from '../desired.js';
import { externalIds, isOwnedBy, ownedCounts } from './ownership.js';
import { emptyCounts, planReconcile, type OpCounts, type PlanProblem, type ReconcilePlan } from './plan.js';
import {
  createReconcileLoop,
  type ObjectStatus,
  type PassContext,
  type Reconciler,
} from '../../reconcile/reconciler.js';
import type { RunnerHealth, RunnerOptions } from '../../reconcile/runner.js';

/** What the engine needs from `OvsdbClient` (a fake in unit tests). */
export interface EngineClient {
  readonly cache: DatabaseCache;
  run(build: TxnBuilder, opts?: RunOptions): Promise<RunResult>;
}

export interface EngineDeps {
  client: EngineClient;
  /** Passes run only while this returns true (the NB writer election); default always. */
  isWriter?: () => boolean;
  log?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}

export interface EngineConfig {
  /** Owner id written to and matched in `external_ids` (default {@link DEFAULT_OWNER}). */
  owner?: string;
  /** OVSDB lock asserted in every transaction (the writer lock); none when undefined. */
  lock?: string;
  runner?: Omit<RunnerOptions, 'name' | 'log'>;
  /** Options of `client.run` (retries across failover). */
  run?: RunOptions;
  /** Owned rows never pruned (see `PlanOptions.keep`). */
  keep?: (table: string, row: Row) => boolean;
}

/** One pass, as reported in stats and logs. */
export interface PassReport {
  seq: number;
  at: string;
  durationMs: number;
  /** Time spent computing the plan (last attempt). */
  planMs: number;
  /** Builder calls `client.run` needed (more than 1 after a failover or a failed verify). */
  attempts: number;
  /** True when a transaction was committed. */
  sent: boolean;
  counts: OpCounts;
  desiredRows: number;
  problems: number;
  error?: string;
}

/** Running totals, for metrics (`vpc_agent_nb_reconcile_*`) and `/debug`. */
export interface ReconcileStats {
  passes: number;
  transactions: number;
  failures: number;
  ops: OpCounts;
  last: PassReport | undefined;
  /** The last few passes, oldest first (how long converged passes take, in `/debug`). */
  recent: PassReport[];
  lastErrors: { at: string; message: string }[];
}

/** A resource's outcome in Northbound (`ready`, `degraded`, `error`, `pending`). */
export type ResourceStatus = ObjectStatus;

export interface NbReconciler {
  start(): void;
  stop(): Promise<void>;
  /**
   * Sets the desired state; `complete` = everything is loaded, pruning may start. Given a
   * function, the state is built by it when the next pass starts (once, however many times
   * it was set meanwhile): callers that change often (port requests) then share one build.
   * A function that returns undefined leaves the current desired state as it is.
   */
  setDesired(desired: DesiredInput, opts?: { complete?: boolean }): void;
  /**
   * Asks for a pass (e.g. the writer lock was just acquired); `delayMs` brings it forward
   * (default: the runner's debounce).
   */
  trigger(reason: string, delayMs?: number): void;
  /** Runs one pass now, outside the runner (tests, the CLI's one-shot mode). */
  reconcileNow(): Promise<PassReport>;
  /** Resolves once no pass is running or pending. */
  settled(): Promise<void>;
  readonly stats: ReconcileStats;
  health(): RunnerHealth;
  status(): Map<string, ObjectStatus>;
  problems(): PlanProblem[];
  /** Desired vs owned row counts per table. */
  counts(): { desired: Record<string, number>; owned: Record<string, number> };
  /**
   * What the next pass would send now (the diff of the latest desired state against the
   * cache, without sending it); undefined before any desired state. For `/debug/state`.
   */
  pending(): { ops: OpCounts; problems: number; prune: boolean } | undefined;
}

const MAX_ERRORS = 10;
const MAX_RECENT = 5;

/** What `setDesired` takes: a state, or a function building it when the next pass starts. */
export type DesiredInput = DesiredState | (() => DesiredState | undefined);

/** The plan of one pass: the diff of the first attempt, and the cache it was made from. */
interface NbPlan {
  state: DesiredState;
  first: ReconcilePlan;
  cache: DatabaseCache;
  seqno: number;
  planMs: number;
}

/**
 * The Northbound reconciler in the one shape (agent/reconcile/reconciler.ts):
 * - desired: the {@link DesiredInput} (built by the caller from a snapshot, allocation first);
 * - plan: {@link planReconcile} of that state against the monitor cache;
 * - apply: one transaction through `client.run`, whose builder reuses the plan while the cache
 *   is the one it was made from and re-plans after a reconnect or failed verify;
 * - status: per resource (`ready`, `degraded` with the problem, `error`, `pending`).
 *
 * Contract: idempotent (a converged pass sends nothing); a row already deleted by someone else
 * is simply not deleted again; it prunes only rows marked with its owner, only while
 * `ctx.prune`, and never rows `keep` names.
 */
export function createNbReconciler(deps: EngineDeps, config: EngineConfig = {}): NbReconciler {
  const owner = config.owner ?? DEFAULT_OWNER;
  const isWriter = deps.isWriter ?? (() => true);
  const log = deps.log;
  const cache = deps.client.cache;
  /** Resources of the current desired state, computed once per desired state (not per pass). */
  let desiredResources: { state: DesiredState; set: Set<string> } | undefined;
  let complete = false;
  let seq = 0;
  let lastProblems: PlanProblem[] = [];
  let problemSig = '';
  const statusMap = new Map<string, ObjectStatus>();
  const stats: ReconcileStats = {
    passes: 0,
    transactions: 0,
    failures: 0,
    ops: emptyCounts(),
    last: undefined,
    recent: [],
    lastErrors: [],
  };

  function recordProblems(problems: PlanProblem[]): void {
    lastProblems = problems;
    const sig = problems.map((p) => `${p.code}|${p.table}|${p.key}|${p.message}`).join('\n');
    if (sig === problemSig) return;
    problemSig = sig;
    for (const p of problems) log?.warn({ problem: p }, 'desired row left out');
  }

  function resourcesIn(state: DesiredState): Set<string> {
    if (desiredResources?.state !== state) desiredResources = { state, set: resourcesOf(state) };
    return desiredResources.set;
  }

  function updateStatus(
    state: DesiredState,
    plan: ReconcilePlan | undefined,
    error: string | undefined,
  ): void {
    const at = new Date().toISOString();
    const present = resourcesIn(state);
    for (const k of statusMap.keys()) if (!present.has(k)) statusMap.delete(k);
    const degraded = new Map<string, string>();
    for (const p of plan?.problems ?? []) if (p.resource) degraded.set(p.resource, p.message);
    for (const r of present) {
      if (error !== undefined && (plan === undefined || plan.resources.has(r))) {
        statusMap.set(r, { state: 'error', at, message: error });
      } else if (degraded.has(r)) {
        statusMap.set(r, { state: 'degraded', at, message: degraded.get(r)! });
      } else if (error === undefined) {
        statusMap.set(r, { state: 'ready', at });
      } else if (!statusMap.has(r)) {
        statusMap.set(r, { state: 'pending', at });
      }
    }
  }

  function planOn(state: DesiredState, c: DatabaseCache, prune: boolean): NbPlan {
    const p0 = performance.now();
    const first = planReconcile(state, c, { owner, prune, ...(config.keep ? { keep: config.keep } : {}) });
    return { state, first, cache: c, seqno: c.seqno, planMs: performance.now() - p0 };
  }

  async function apply(p: NbPlan, ctx: PassContext): Promise<PassReport> {
    const t0 = performance.now();
    const report: PassReport = {
      seq: ++seq,
      at: new Date().toISOString(),
      durationMs: 0,
      planMs: p.planMs,
      attempts: 0,
      sent: false,
      counts: emptyCounts(),
      desiredRows: 0,
      problems: 0,
    };
    let plan: ReconcilePlan = p.first;
    const build = (c: DatabaseCache): Operation[] => {
      // The plan made a moment ago holds while the cache is unchanged; a rebuild re-plans.
      if (c !== p.cache || c.seqno !== p.seqno) {
        const again = planOn(p.state, c, ctx.prune);
        plan = again.first;
        report.planMs = again.planMs;
      }
      if (plan.ops.length === 0) return [];
      const { insert, update, delete: d, mutate } = plan.counts;
      const head: Operation[] = config.lock ? [assertLock(config.lock)] : [];
      head.push(comment(`vpc-agent reconcile: +${insert} ~${update} -${d} mutate ${mutate}`));
      return [...head, ...plan.ops];
    };
    try {
      const res = await deps.client.run(build, config.run);
      report.attempts = res.attempts;
      report.sent = res.ops !== undefined;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      report.error = message;
      stats.failures++;
      stats.lastErrors.push({ at: report.at, message });
      if (stats.lastErrors.length > MAX_ERRORS) stats.lastErrors.shift();
      updateStatus(p.state, plan, message);
      throw err;
    } finally {
      report.desiredRows = plan.desiredRows;
      report.problems = plan.problems.length;
      if (report.sent) report.counts = { ...plan.counts };
      recordProblems(plan.problems);
      report.durationMs = performance.now() - t0 + p.planMs;
      stats.passes++;
      stats.last = report;
      stats.recent.push(report);
      if (stats.recent.length > MAX_RECENT) stats.recent.shift();
    }
    if (report.sent) {
      stats.transactions++;
      for (const k of Object.keys(report.counts) as (keyof OpCounts)[]) stats.ops[k] += report.counts[k];
      log?.info({ pass: report }, 'northbound reconciled');
    } else {
      log?.debug({ pass: report }, 'northbound already converged');
    }
    updateStatus(p.state, plan, undefined);
    return report;
  }

  const reconciler: Reconciler<DesiredInput, DesiredState, NbPlan, PassReport> = {
    name: 'nb',
    desired: (input) => (typeof input === 'function' ? input() : input),
    plan: (state, ctx) => planOn(state, cache, ctx.prune),
    apply,
    status: () => statusMap,
    // Drift: any change to a row we own (before or after) asks for a pass.
    drift: (trigger) =>
      cache.onChange((batch) => {
        for (const ch of batch.changes) {
          if ((ch.old && isOwnedBy(ch.old, owner)) || (ch.new && isOwnedBy(ch.new, owner))) {
            trigger('drift');
            return;
          }
        }
      }),
  };
  const loop = createReconcileLoop(reconciler, {
    enabled: isWriter,
    runner: { ...(log ? { log } : {}), ...config.runner },
  });
  const emptyReport = (): PassReport => ({
    seq: ++seq,
    at: new Date().toISOString(),
    durationMs: 0,
    planMs: 0,
    attempts: 0,
    sent: false,
    counts: emptyCounts(),
    desiredRows: 0,
    problems: 0,
  });

  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    setDesired(d, opts = {}) {
      if (opts.complete !== undefined) complete = opts.complete;
      loop.set(d, { complete });
    },
    trigger: (reason, delayMs) => loop.trigger(reason, delayMs),
    reconcileNow: async () => (await loop.runOnce()) ?? emptyReport(),
    settled: () => loop.settled(),
    stats,
    health: () => loop.health(),
    status: () => new Map(statusMap),
    problems: () => [...lastProblems],
    counts() {
      const d: Record<string, number> = {};
      for (const [t, rows] of loop.desired() ?? []) if (rows.size > 0) d[t] = rows.size;
      return { desired: d, owned: ownedCounts(cache, owner) };
    },
    pending() {
      const state = loop.desired();
      if (!state) return undefined;
      const p = planOn(state, cache, complete).first;
      return { ops: { ...p.counts }, problems: p.problems.length, prune: complete };
    },
  };
}

function resourcesOf(state: DesiredState): Set<string> {
  const out = new Set<string>();
  for (const rows of state.values()) for (const r of rows.values()) out.add(r.resource);
  return out;
}

/** The resource that produced an owned row (for `/debug`), if recorded. */
export function resourceOf(row: Parameters<typeof externalIds>[0]): string | undefined {
  const v = externalIds(row)[RESOURCE_KEY];
  return typeof v === 'string' ? v : undefined;
}
