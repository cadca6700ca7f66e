/**
 * What both sides of the `ports` benchmark share: the per-port timeline (namespace → port →
 * ping), the sequential and burst runs over a {@link PortDriver}, and percentiles.
 *
 * A port's timeline, identical for both drivers:
 * 1. `netns` — `ip netns add <ns>` (one process; in production the VM runtime does this);
 * 2. `port` — the driver's part: our agent's API call (returns once the SB Port_Binding is up)
 *    or the shell agent's commands (the last one waits for the same Port_Binding `up`);
 * 3. `ping` — `ping -c 1 -i 0.01 -w 10 <gateway>` inside the namespace: sends every 10 ms until
 *    the first echo reply (ping(8) `-w`: wait for `count` replies or the deadline), so it
 *    measures when the datapath really forwards, not just when OVN says `up`.
 * `ready` = netns + port + ping, i.e. from nothing to a namespace that reaches its gateway.
 */
import { run } from '../../agent/sandbox/process.js';

/** One benchmark port: where it goes and (for the shell driver) the address the script picks. */
export interface PortSpec {
  index: number;
  netns: string;
  /** Index into the topology's subnets. */
  subnet: number;
  gateway: string;
}

/** What a driver returns for one port: the address it got and sub-phase timings (ms). */
export interface PortOutcome {
  ip: string;
  steps: Record<string, number>;
}

export interface PortDriver {
  readonly id: 'vpc-agent' | 'shell';
  /** Attaches `spec.netns` (already created) and resolves once its Port_Binding is up. */
  addPort(spec: PortSpec): Promise<PortOutcome>;
}

export interface PortTiming {
  netnsMs: number;
  portMs: number;
  pingMs: number;
  readyMs: number;
  steps: Record<string, number>;
}

export interface RunFigures {
  ports: number;
  /** Wall time of the whole run (burst: first request → last ping). */
  seconds: number;
  /** Burst only: first request → the last port bound (driver returned). */
  boundSeconds?: number;
  timings: PortTiming[];
}

const ms = (t: number) => Math.round((performance.now() - t) * 10) / 10;

/** `ip netns add` as a process (what a VM runtime does before the CNI ADD). */
export async function createNetns(netns: string): Promise<void> {
  await run('ip', ['netns', 'add', netns]);
}

/** Resolves once one echo reply from `ip` arrived in `netns` (10 s deadline, else throws). */
export async function pingUntilReply(netns: string, ip: string): Promise<void> {
  await run('ping', ['-n', '-q', '-c', '1', '-i', '0.01', '-w', '10', ip], { netns, timeoutMs: 15_000 });
}

/** One port's whole timeline (see the module comment). */
export async function addAndPing(
  driver: PortDriver,
  spec: PortSpec,
  onBound?: () => void,
): Promise<PortTiming> {
  const t0 = performance.now();
  await createNetns(spec.netns);
  const netnsMs = ms(t0);
  const t1 = performance.now();
  const out = await driver.addPort(spec);
  const portMs = ms(t1);
  onBound?.();
  const t2 = performance.now();
  await pingUntilReply(spec.netns, spec.gateway);
  const pingMs = ms(t2);
  return { netnsMs, portMs, pingMs, readyMs: ms(t0), steps: out.steps };
}

/** Ports one at a time: each must be ready (pinged) before the next starts. */
export async function runSequential(driver: PortDriver, specs: readonly PortSpec[]): Promise<RunFigures> {
  const t0 = performance.now();
  const timings: PortTiming[] = [];
  for (const s of specs) timings.push(await addAndPing(driver, s));
  return { ports: specs.length, seconds: ms(t0) / 1000, timings };
}

/** All ports at once (each its own netns → port → ping chain, all started together). */
export async function runBurst(driver: PortDriver, specs: readonly PortSpec[]): Promise<RunFigures> {
  const t0 = performance.now();
  let bound = 0;
  let boundSeconds = 0;
  const onBound = () => {
    if (++bound === specs.length) boundSeconds = ms(t0) / 1000;
  };
  const results = await Promise.allSettled(specs.map((s) => addAndPing(driver, s, onBound)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0)
    throw new Error(
      `${driver.id} burst: ${failed.length}/${specs.length} ports failed; first: ${String(failed[0]!.reason)}`,
    );
  const timings = results.map((r) => (r as PromiseFulfilledResult<PortTiming>).value);
  return { ports: specs.length, seconds: ms(t0) / 1000, boundSeconds, timings };
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export const summarize = (values: readonly number[]): Percentiles => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  max: percentile(values, 100),
});

/** p50 of every sub-step the driver reported (the breakdown of the `port` part). */
export function stepMedians(timings: readonly PortTiming[]): Record<string, number> {
  const keys = new Set(timings.flatMap((t) => Object.keys(t.steps)));
  const out: Record<string, number> = {};
  for (const k of keys)
    out[k] = percentile(
      timings.map((t) => t.steps[k] ?? 0),
      50,
    );
  return out;
}
