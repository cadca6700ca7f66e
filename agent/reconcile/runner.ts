/**
 * A generic reconcile runner: it owns *when* a pass runs, never *what* a pass does.
 *
 * - `trigger(reason)` asks for a pass; triggers within `debounceMs` coalesce into one, and a
 *   trigger during a running pass runs exactly one more pass after it (never two at once).
 *   `trigger(reason, delayMs)` asks for a pass sooner (e.g. 0 for a request someone is waiting
 *   on): it brings a scheduled pass forward, never later. Requests arriving while a pass runs
 *   still share the one pass after it, so a burst batches itself without a fixed delay.
 * - A failed pass is retried with exponential backoff (`minBackoffMs`·2^n, capped, jittered);
 *   triggers during the backoff wait for it, so a flapping source cannot spin the loop.
 * - A periodic pass every `resyncMs` repairs anything a missed event left behind.
 * - `enabled()` gates passes (e.g. "we are the Northbound writer"); a disabled runner skips
 *   passes without counting them as failures. Call `trigger` when it becomes enabled.
 * - Drift: `drift(trigger)` subscribes to whatever can undo the reconciler's work (a monitor
 *   cache, netlink); the runner subscribes on start and unsubscribes on stop.
 * - Health: healthy until `unhealthyAfter` consecutive failures; last error and timestamps
 *   for `/readyz` and `/debug`.
 * - Metrics: every pass is reported to `observer` (its reconciler name, seconds, outcome), the
 *   same for every reconciler (`vpc_agent_reconcile_*{reconciler}`).
 *
 * Contract for `pass`: idempotent (running it twice converges to the same state) and throwing
 * on failure; the runner does the retrying.
 */
import type { Logger } from '../log.js';

export interface RunnerOptions {
  /** For logs. */
  name: string;
  /** Default 100 ms: bursts of cache updates and file events become one pass. */
  debounceMs?: number;
  /** Default 60 s: periodic safety pass; 0 disables. */
  resyncMs?: number;
  /** Default 200 ms: first retry after a failure. */
  minBackoffMs?: number;
  /** Default 30 s: retries never wait longer. */
  maxBackoffMs?: number;
  /** Default 3: a single transient failure does not flip health. */
  unhealthyAfter?: number;
  log?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** Subscribes to drift: call `trigger` when something may have undone the work; returns the unsubscribe. */
  drift?: (trigger: (reason: string) => void) => () => void;
  /** Told about every pass (metrics). */
  observer?: RunnerObserver;
}

/** Receives every pass of every runner it is given to. */
export interface RunnerObserver {
  pass(runner: string, seconds: number, ok: boolean): void;
  /** The runner exists (health read through `health()` at scrape time). */
  register?(runner: string, health: () => RunnerHealth): void;
}

export interface RunnerHealth {
  healthy: boolean;
  passes: number;
  failures: number;
  consecutiveFailures: number;
  lastSuccessAt: string | undefined;
  lastError: string | undefined;
  lastErrorAt: string | undefined;
  running: boolean;
}

export interface Runner {
  start(): void;
  /** Stops timers and waits for a running pass. */
  stop(): Promise<void>;
  /** Asks for a pass within `delayMs` (default: the debounce). */
  trigger(reason: string, delayMs?: number): void;
  health(): RunnerHealth;
  /** Resolves once no pass is running, pending or waiting for a retry. */
  settled(): Promise<void>;
}

/** The health of a runner that has run no pass yet. */
export function initialHealth(): RunnerHealth {
  return {
    healthy: true,
    passes: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastSuccessAt: undefined,
    lastError: undefined,
    lastErrorAt: undefined,
    running: false,
  };
}

export function createRunner(
  /** One pass; `reasons` are the triggers it answers (`start`, `resync`, `drift`, …). */
  pass: (reasons: ReadonlySet<string>) => Promise<void>,
  enabled: () => boolean,
  options: RunnerOptions,
): Runner {
  const debounceMs = options.debounceMs ?? 100;
  const resyncMs = options.resyncMs ?? 60_000;
  const minBackoff = options.minBackoffMs ?? 200;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const unhealthyAfter = options.unhealthyAfter ?? 3;
  const log = options.log;

  let started = false;
  let timer: NodeJS.Timeout | undefined;
  /** When the scheduled pass fires (`Date.now()` time), while `timer` is set. */
  let dueAt = 0;
  let resync: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let pending = false;
  let notBefore = 0;
  const reasons = new Set<string>();
  let waiters: (() => void)[] = [];
  const h = initialHealth();

  const isSettled = () => !running && !pending && timer === undefined;
  const wakeWaiters = () => {
    if (!isSettled()) return;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  function schedule(delay: number): void {
    if (!started) return;
    if (timer) clearTimeout(timer);
    const wait = Math.max(delay, notBefore - Date.now());
    dueAt = Date.now() + wait;
    timer = setTimeout(() => {
      timer = undefined;
      void runPass();
    }, wait);
  }

  async function runPass(): Promise<void> {
    if (running) {
      pending = true;
      return;
    }
    pending = false;
    if (!enabled()) {
      reasons.clear();
      wakeWaiters();
      return;
    }
    const whySet = new Set(reasons);
    const why = [...whySet].join(',');
    reasons.clear();
    h.running = true;
    const t0 = performance.now();
    running = (async () => {
      try {
        await pass(whySet);
        options.observer?.pass(options.name, (performance.now() - t0) / 1000, true);
        h.passes++;
        h.consecutiveFailures = 0;
        h.healthy = true;
        h.lastSuccessAt = new Date().toISOString();
        notBefore = 0;
      } catch (err) {
        options.observer?.pass(options.name, (performance.now() - t0) / 1000, false);
        h.failures++;
        h.consecutiveFailures++;
        h.lastError = err instanceof Error ? err.message : String(err);
        h.lastErrorAt = new Date().toISOString();
        if (h.consecutiveFailures >= unhealthyAfter) h.healthy = false;
        const base = Math.min(minBackoff * 2 ** (h.consecutiveFailures - 1), maxBackoff);
        const delay = Math.round(base * (0.5 + Math.random() * 0.5));
        notBefore = Date.now() + delay;
        log?.warn({ err, reasons: why, retryInMs: delay, runner: options.name }, 'reconcile pass failed');
        pending = true;
      }
    })();
    await running;
    running = undefined;
    h.running = false;
    if (pending && started) schedule(0);
    else pending = false;
    wakeWaiters();
  }

  let offDrift: (() => void) | undefined;
  const runner: Runner = {
    start() {
      if (started) return;
      started = true;
      offDrift = options.drift?.((reason) => runner.trigger(reason));
      if (resyncMs > 0) {
        resync = setInterval(() => this.trigger('resync'), resyncMs);
        resync.unref();
      }
      this.trigger('start');
    },
    async stop() {
      started = false;
      offDrift?.();
      offDrift = undefined;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (resync) clearInterval(resync);
      pending = false;
      await running;
      wakeWaiters();
    },
    trigger(reason, delayMs = debounceMs) {
      if (!started) return;
      reasons.add(reason);
      if (running) {
        pending = true;
        return;
      }
      if (!timer || dueAt > Date.now() + delayMs) schedule(delayMs);
    },
    health: () => ({ ...h }),
    settled() {
      if (isSettled()) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
  options.observer?.register?.(options.name, () => runner.health());
  return runner;
}
