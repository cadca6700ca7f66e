/**
 * Figures of one side of the `ports` benchmark (from the raw timings) and the printed table:
 * both sides' p50/p99 per part and burst throughput, with the ratio ours / shell.
 */
import {
  percentile,
  stepMedians,
  summarize,
  type Percentiles,
  type PortTiming,
  type RunFigures,
} from './measure.js';

export interface SequentialSummary {
  ports: number;
  seconds: number;
  netnsMs: Percentiles;
  portMs: Percentiles;
  pingMs: Percentiles;
  readyMs: Percentiles;
  /** p50 of each sub-step of the `port` part (agent: its own timings; shell: per command group). */
  stepP50Ms: Record<string, number>;
  /** Sequential only: every port's `port` and `ping` ms in order (does it slow down as ports grow?). */
  series?: { portMs: number[]; pingMs: number[] };
}

export interface BurstSummary extends SequentialSummary {
  /** First request → every port bound (driver returned). */
  boundSeconds: number;
  boundPortsPerSecond: number;
  /** First request → every port pinged its gateway. */
  readyPortsPerSecond: number;
}

export interface SideReport {
  id: 'vpc-agent' | 'shell';
  /** The first port (not counted): agent start-up, JIT, first flows. */
  warmup: PortTiming;
  sequential: SequentialSummary;
  burst: BurstSummary;
  extra: Record<string, unknown>;
}

const parts = (t: readonly PortTiming[]) => ({
  netnsMs: summarize(t.map((x) => x.netnsMs)),
  portMs: summarize(t.map((x) => x.portMs)),
  pingMs: summarize(t.map((x) => x.pingMs)),
  readyMs: summarize(t.map((x) => x.readyMs)),
  stepP50Ms: stepMedians(t),
});

export function summarizeSequential(f: RunFigures): SequentialSummary {
  const series = { portMs: f.timings.map((t) => t.portMs), pingMs: f.timings.map((t) => t.pingMs) };
  return { ports: f.ports, seconds: f.seconds, ...parts(f.timings), series };
}

export function summarizeBurst(f: RunFigures): BurstSummary {
  const bound = f.boundSeconds ?? f.seconds;
  return {
    ports: f.ports,
    seconds: f.seconds,
    ...parts(f.timings),
    boundSeconds: bound,
    boundPortsPerSecond: f.ports / bound,
    readyPortsPerSecond: f.ports / f.seconds,
  };
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const n = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : 'n/a');

/** The comparison: one row per figure, columns ours / shell / ours÷shell. */
export function formatComparison(ours: SideReport, shell: SideReport): string {
  const rows: string[][] = [];
  const lat = (label: string, pick: (s: SideReport) => Percentiles) => {
    for (const p of ['p50', 'p99'] as const) {
      const a = pick(ours)[p];
      const b = pick(shell)[p];
      rows.push([`${label} ${p} ms`, n(a), n(b), ratio(a, b)]);
    }
  };
  lat('seq ready (netns+port+ping)', (s) => s.sequential.readyMs);
  lat('seq port (API | commands)', (s) => s.sequential.portMs);
  lat('seq ping to gateway', (s) => s.sequential.pingMs);
  lat('seq netns add', (s) => s.sequential.netnsMs);
  lat('burst ready per port', (s) => s.burst.readyMs);
  const thr = (label: string, pick: (s: SideReport) => number) =>
    rows.push([label, n(pick(ours)), n(pick(shell)), ratio(pick(ours), pick(shell))]);
  thr('burst ports/s bound', (s) => s.burst.boundPortsPerSecond);
  thr('burst ports/s ready (pinged)', (s) => s.burst.readyPortsPerSecond);
  thr('seq ports/s ready', (s) => s.sequential.ports / s.sequential.seconds);
  return table(['', 'vpc-agent', 'shell', 'ours/shell'], rows);
}

/** One line per side: p50 of each sub-step of the `port` part. */
export function formatSteps(side: SideReport): string {
  const steps = Object.entries(side.sequential.stepP50Ms)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  const port = side.sequential.series?.portMs ?? [];
  const tenth = Math.max(1, Math.floor(port.length / 10));
  const first = percentile(port.slice(0, tenth), 50);
  const last = percentile(port.slice(-tenth), 50);
  return (
    `  ${side.id} seq port p50 by step (ms): ${steps}\n` +
    `    port p50 over the first tenth of the ports ${n(first)} ms, over the last tenth ${n(last)} ms`
  );
}
