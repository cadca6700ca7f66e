/** SnapshotMetric and AgentRegistry: the same exposition as prom-client's own metrics, rendered from prebuilt label text. */
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  AgentRegistry,
  formatLabels,
  SnapshotMetric,
  type Series,
} from '../../../../agent/metrics/series.js';

const SERIES: Series[] = [
  { labels: { interface: 'h-vm1', port: 'vm1' }, value: 1398 },
  { labels: { interface: 'we"ird\\na\nme', port: '' }, value: 0 },
  { labels: { interface: 'big', port: 'p' }, value: 2 ** 53 },
];

describe('SnapshotMetric on an AgentRegistry', () => {
  it('renders exactly what prom-client renders for the same counter and gauge series', async () => {
    const ours = new AgentRegistry();
    const theirs = new Registry();
    new SnapshotMetric({
      name: 'x_bytes_total',
      help: 'Bytes\nseen',
      type: 'counter',
      series: () => SERIES,
      registers: [ours],
    });
    new SnapshotMetric({
      name: 'x_up',
      help: 'Up',
      type: 'gauge',
      series: () => SERIES.map((s) => ({ ...s, text: formatLabels(s.labels), value: s.value > 0 ? 1 : 0 })),
      registers: [ours],
    });
    const c = new Counter({
      name: 'x_bytes_total',
      help: 'Bytes\nseen',
      labelNames: ['interface', 'port'],
      registers: [theirs],
    });
    const g = new Gauge({ name: 'x_up', help: 'Up', labelNames: ['interface', 'port'], registers: [theirs] });
    for (const s of SERIES) {
      c.inc(s.labels, s.value);
      g.set(s.labels, s.value > 0 ? 1 : 0);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('writes NaN and infinities as the exposition format spells them', async () => {
    const r = new AgentRegistry();
    const special = [NaN, Infinity, -Infinity].map((value, i) => ({ labels: { i: String(i) }, value }));
    new SnapshotMetric({ name: 'w', help: 'w', type: 'gauge', series: () => special, registers: [r] });
    expect(await r.metrics()).toContain('w{i="0"} NaN\nw{i="1"} +Inf\nw{i="2"} -Inf\n');
  });

  it('is a regular metric to the registry: JSON, getSingleMetric, a plain Registry, and no duplicate names', async () => {
    const plain = new Registry();
    const m = new SnapshotMetric({
      name: 'y_total',
      help: 'h',
      type: 'counter',
      series: () => SERIES,
      registers: [plain],
    });
    expect(plain.getSingleMetric('y_total')).toBe(m);
    const [json] = await plain.getMetricsAsJSON();
    expect(json).toMatchObject({ name: 'y_total', type: 'counter' });
    expect((await m.get()).values.map((v) => v.value)).toEqual([1398, 0, 2 ** 53]);
    expect(await plain.metrics()).toContain('y_total{interface="h-vm1",port="vm1"} 1398');
    expect(() => new Counter({ name: 'y_total', help: 'h', registers: [plain] })).toThrow(
      /already been registered/,
    );
  });

  it('an AgentRegistry renders prom-client metrics unchanged beside snapshot ones', async () => {
    const ours = new AgentRegistry();
    const plain = new Registry();
    for (const r of [ours, plain]) {
      const h = new Counter({ name: 'z_total', help: 'z', labelNames: ['k'], registers: [r] });
      h.inc({ k: 'a' }, 3);
    }
    expect(await ours.metrics()).toBe(await plain.metrics());
  });
});
