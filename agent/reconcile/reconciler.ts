/**
 * The one shape of every reconciler (Northbound, node OVS, workload ports; NAT gateways and
 * nftables next), and the loop that runs one:
 *
 *   input (a Snapshot) ──desired()──► Desired ──plan(actual)──► Plan ──apply()──► Result
 *                                                                       └──► status() per object
 *
 * - `desired(input)` is pure: what the input wants, built once per new input (however many
 *   passes follow). Allocation (IPAM) happens before it, never inside it.
 * - `plan(desired, ctx)` reads the actual state (a monitor cache, netlink) and computes what to
 *   do; `ctx.prune` says whether it may remove what it owns and no longer wants.
 * - `apply(plan, ctx)` does it and throws on failure (the runner retries with backoff). A
 *   converged plan sends nothing. An OVSDB apply re-plans from the fresh cache when its
 *   transaction has to be rebuilt (see `ovsdb/client/run.ts`).
 * - `status()` is the per-object outcome of the last pass (`/debug`, later written back as
 *   each resource's `status`).
 *
 * Contract every reconciler states in its doc comment and its tests show:
 * - idempotent: a second pass on the same input changes nothing;
 * - deleting what is already gone succeeds;
 * - it prunes only what it owns, and only while `ctx.prune` (the latest load was complete).
 *
 * {@link createReconcileLoop} joins a reconciler and the generic {@link createRunner runner}
 * (triggers, debounce, retries, periodic resync, drift, health, metrics).
 */
import { createRunner, type Runner, type RunnerHealth, type RunnerOptions } from './runner.js';

export type ObjectState = 'ready' | 'pending' | 'degraded' | 'error';

/** One object's outcome (a resource, a port, a bridge), keyed by e.g. `Subnet/a` or a port name. */
export interface ObjectStatus {
  state: ObjectState;
  /** Why it is not ready. */
  message?: string;
  /** When this state was reached (ISO time). */
  at?: string;
}

/** What a pass is told. */
export interface PassContext {
  /** The triggers it answers (`start`, `desired`, `drift`, `resync`, …). */
  readonly reasons: ReadonlySet<string>;
  /** It may remove what it owns and no longer wants: the latest load was complete. */
  readonly prune: boolean;
}

export interface Reconciler<In, Desired, Plan, Result> {
  readonly name: string;
  /** Pure. `undefined` keeps the previous desired state (an input that adds nothing new). */
  desired(input: In): Desired | undefined;
  /** Reads the actual state and diffs it with `desired`. */
  plan(desired: Desired, ctx: PassContext): Plan | Promise<Plan>;
  /** Makes it so; throws on failure. */
  apply(plan: Plan, ctx: PassContext): Promise<Result>;
  /** Per object, after the last pass. */
  status(): ReadonlyMap<string, ObjectStatus>;
  /** Subscribes to whatever can undo its work (a cache, netlink); returns the unsubscribe. */
  drift?(trigger: (reason: string) => void): () => void;
}

export interface LoopOptions {
  /** Passes also wait for this (e.g. "we are the Northbound writer", "NB is online"). */
  enabled?: () => boolean;
  runner?: Omit<RunnerOptions, 'name' | 'drift'>;
  /** How soon a new input is reconciled (default: the runner's debounce). */
  setDelayMs?: number;
}

/** {@link LoopOptions} with the result type known: `onResult` sees every successful pass (logs). */
export interface TypedLoopOptions<Result> extends LoopOptions {
  onResult?: (result: Result) => void;
}

export interface ReconcileLoop<In, Desired, Result> extends Omit<Runner, 'trigger'> {
  readonly name: string;
  /** A new input; `complete` = its load was complete (pruning allowed). Triggers a pass. */
  set(input: In, opts: { complete: boolean }): void;
  trigger(reason: string, delayMs?: number): void;
  /** One pass now, outside the runner (tests, one-shot CLIs); undefined before any input. */
  runOnce(reasons?: Iterable<string>): Promise<Result | undefined>;
  /** The desired state of the latest pass. */
  desired(): Desired | undefined;
  /** The result of the latest successful pass. */
  last(): Result | undefined;
  status(): ReadonlyMap<string, ObjectStatus>;
  health(): RunnerHealth;
}

export function createReconcileLoop<In, Desired, Plan, Result>(
  reconciler: Reconciler<In, Desired, Plan, Result>,
  options: TypedLoopOptions<Result> = {},
): ReconcileLoop<In, Desired, Result> {
  let input: { value: In } | undefined;
  /** `input` not yet turned into `desired`. */
  let fresh = false;
  let complete = false;
  let desired: Desired | undefined;
  let last: Result | undefined;
  const enabled = options.enabled ?? (() => true);

  async function pass(reasons: ReadonlySet<string>): Promise<Result | undefined> {
    if (!input) return undefined;
    if (fresh) {
      fresh = false;
      const next = reconciler.desired(input.value);
      if (next !== undefined) desired = next;
    }
    if (desired === undefined) return undefined;
    const ctx: PassContext = { reasons, prune: complete };
    const plan = await reconciler.plan(desired, ctx);
    last = await reconciler.apply(plan, ctx);
    return last;
  }

  const runner = createRunner(
    async (reasons) => {
      const result = await pass(reasons);
      if (result !== undefined) options.onResult?.(result);
    },
    () => input !== undefined && enabled(),
    {
      ...options.runner,
      name: reconciler.name,
      ...(reconciler.drift ? { drift: (t: (reason: string) => void) => reconciler.drift!(t) } : {}),
    },
  );

  return {
    name: reconciler.name,
    start: () => runner.start(),
    stop: () => runner.stop(),
    settled: () => runner.settled(),
    health: () => runner.health(),
    trigger: (reason, delayMs) => runner.trigger(reason, delayMs),
    set(value, opts) {
      input = { value };
      fresh = true;
      // Pruning follows the latest load: an incomplete one (a vanished directory) prunes nothing.
      complete = opts.complete;
      runner.trigger('desired', options.setDelayMs);
    },
    runOnce: (reasons = ['once']) => pass(new Set(reasons)),
    desired: () => desired,
    last: () => last,
    status: () => reconciler.status(),
  };
}

/** Status of every object in `objects`: `degraded`/`error` where `problems` names it, else `ready`. */
export function statusOf(
  objects: Iterable<string>,
  problems: Iterable<{ resource?: string | undefined; message: string }>,
  at = new Date().toISOString(),
): Map<string, ObjectStatus> {
  const byObject = new Map<string, string>();
  for (const p of problems) if (p.resource && !byObject.has(p.resource)) byObject.set(p.resource, p.message);
  const out = new Map<string, ObjectStatus>();
  for (const o of objects) {
    const message = byObject.get(o);
    out.set(o, message === undefined ? { state: 'ready', at } : { state: 'degraded', message, at });
  }
  return out;
}
