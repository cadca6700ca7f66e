/**
 * Metrics with thousands of series (one per interface), rendered without prom-client's per-series
 * overhead. A prom-client Counter filled in `collect()` hashes every label set into its map, and
 * the registry then formats every label of every series again: about 10 µs a series here, 100+ ms
 * a scrape at 1,000 interfaces × 11 metrics. A {@link SnapshotMetric} instead reads its series
 * from a snapshot whose label text was formatted once when the snapshot was built, and the
 * {@link AgentRegistry} renders it in one pass.
 *
 * A SnapshotMetric is a prom-client metric to everything else: registered in the registry,
 * `get()` returns the usual `{name, help, type, values}` (so `getMetricsAsJSON`,
 * `getSingleMetric(...).get()` and a plain `Registry` still work, only slower), and its type is a
 * real `counter` or `gauge` in the exposition and in Prometheus' metadata.
 */
import { Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** One series: its labels, their exposition text (`{a="x",b="y"}`, built once), its value. */
export interface Series {
  labels: Record<string, string>;
  /** `labels` formatted by {@link formatLabels}; computed when absent. */
  text?: string;
  value: number;
}

/** Escapes a label value for the text exposition format (backslash, double quote, newline). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}` for `labels` in their key order; `''` when there are none. */
export function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** A sample value as the exposition format writes it. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export interface SnapshotMetricOptions {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** The series now (a counter's values are running totals kept elsewhere, never decreasing). */
  series: () => Iterable<Series> | Promise<Iterable<Series>>;
  registers: Registry[];
}

/** A metric whose series are read from a snapshot at scrape time. */
export class SnapshotMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  private readonly series: SnapshotMetricOptions['series'];

  constructor(opts: SnapshotMetricOptions) {
    this.name = opts.name;
    this.help = opts.help;
    this.type = opts.type;
    this.series = opts.series;
    for (const r of opts.registers) r.registerMetric(this as never);
  }

  /** The prom-client metric object (for `getMetricsAsJSON`, `getSingleMetric().get()`). */
  async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
    const values = [...(await this.series())].map((s) => ({ labels: s.labels, value: s.value }));
    return {
      name: this.name,
      help: this.help,
      type: this.type as unknown as MetricObjectWithValues<MetricValue<string>>['type'],
      values,
      aggregator: 'sum',
      collect: () => undefined,
    };
  }

  /** The metric's exposition text (HELP, TYPE, one line per series), without a trailing newline. */
  async render(): Promise<string> {
    const help = this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    const out = [`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of await this.series()) {
      out.push(`${this.name}${s.text ?? formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return out.join('\n');
  }
}

const isSnapshot = (m: object): m is SnapshotMetric => m instanceof SnapshotMetric;

/**
 * The agent's registry: a prom-client `Registry` whose text exposition renders
 * {@link SnapshotMetric}s in one pass and every other metric as prom-client does.
 */
export class AgentRegistry extends Registry {
  override async metrics(): Promise<string> {
    const parts = await Promise.all(
      this.getMetricsAsArray().map((m: object) =>
        isSnapshot(m) ? m.render() : this.getSingleMetricAsString((m as { name: string }).name),
      ),
    );
    return `${parts.join('\n\n')}\n`;
  }
}
