/**
 * Building blocks of the collectors that read a daemon at scrape time (./datapath.ts):
 * - {@link createSampler}: a value refreshed at most once per interval, with concurrent callers
 *   sharing the one refresh in flight, so any number of scrapes (several Prometheus servers,
 *   every metric's `collect()` of one scrape) costs the daemon one refresh per interval;
 * - {@link setCounter}: a Counter set to a running total kept elsewhere;
 * - {@link collectorMetrics}: the per-collector error and refresh-duration series shared by
 *   every collector of a registry.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface SamplerOptions {
  /** A value younger than this is served from the cache (ms). */
  minIntervalMs: number;
  /** Clock (ms); default `Date.now`. */
  now?: () => number;
}

export interface Sampler<T> {
  /** The cached value when fresh, else the refresh in flight, else a new refresh. */
  get(): Promise<T>;
  /** Refreshes run so far (tests and the benchmark read it). */
  readonly refreshes: number;
}

/**
 * A cached `refresh()`. A refresh that throws is not cached (the next `get` retries); a
 * collector that must not hammer a failing daemon returns its failures inside `T` instead.
 */
export function createSampler<T>(refresh: () => Promise<T>, options: SamplerOptions): Sampler<T> {
  const now = options.now ?? Date.now;
  let last: { at: number; value: T } | undefined;
  let inflight: Promise<T> | undefined;
  let refreshes = 0;
  return {
    get() {
      if (last && now() - last.at < options.minIntervalMs) return Promise.resolve(last.value);
      if (inflight) return inflight;
      refreshes++;
      const started = now();
      inflight = refresh()
        .then((value) => {
          last = { at: started, value };
          return value;
        })
        .finally(() => {
          inflight = undefined;
        });
      return inflight;
    },
    get refreshes() {
      return refreshes;
    },
  };
}

/**
 * Sets a counter to an absolute running total kept elsewhere (an OVS counter, an engine's
 * total). prom-client's Counter has no `set`: call `this.reset()` once at the top of
 * `collect()`, then this per series. The exposition keeps `# TYPE … counter`, so `rate()`
 * and promtool treat it as one, and a series whose source vanished disappears with the reset.
 */
export function setCounter<L extends string>(
  c: Counter<L>,
  value: number,
  labels?: Partial<Record<L, string | number>>,
): void {
  if (labels) c.inc(labels, value);
  else c.inc(value);
}

/** Series every scrape-time collector shares. */
export interface CollectorMetrics {
  /** `vpc_agent_collector_errors_total{collector}`: failed reads of a source. */
  errors: Counter<'collector'>;
  /** `vpc_agent_collector_refresh_seconds{collector}`: duration of the last refresh. */
  refreshSeconds: Gauge<'collector'>;
  /** Makes a scrape of these two series wait for `sampler`, so they show its current refresh. */
  track(sampler: Pick<Sampler<unknown>, 'get'>): void;
}

const shared = new WeakMap<Registry, CollectorMetrics>();

/** The shared collector series of `registry`, created by the first collector that asks. */
export function collectorMetrics(registry: Registry): CollectorMetrics {
  const existing = shared.get(registry);
  if (existing) return existing;
  const samplers: Pick<Sampler<unknown>, 'get'>[] = [];
  // Registered before the collectors' own series, so collected first: wait for their refreshes.
  const settle = () => Promise.all(samplers.map((s) => s.get().catch(() => undefined)));
  const made: CollectorMetrics = {
    errors: new Counter({
      name: 'vpc_agent_collector_errors_total',
      help: 'Failed reads of a scrape-time source (a command, socket or reply that could not be read), by collector',
      labelNames: ['collector'],
      registers: [registry],
      async collect() {
        await settle();
      },
    }),
    refreshSeconds: new Gauge({
      name: 'vpc_agent_collector_refresh_seconds',
      help: 'Duration of the last refresh of a scrape-time collector, by collector',
      labelNames: ['collector'],
      registers: [registry],
      async collect() {
        await settle();
      },
    }),
    track(sampler) {
      samplers.push(sampler);
    },
  };
  shared.set(registry, made);
  return made;
}
