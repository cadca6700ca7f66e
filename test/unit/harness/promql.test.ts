/** The PromQL metric-name extractor the dashboard check relies on. */
import { describe, expect, it } from 'vitest';
import { dashboardExpressions, metricFamily, promqlMetricNames } from '../../harness/promql.js';

describe('promqlMetricNames', () => {
  it('finds the metrics of aggregations, ratios and histograms, not functions, labels or keywords', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (reconciler, le) (rate(vpc_agent_reconcile_pass_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(['vpc_agent_reconcile_pass_seconds_bucket']);
    expect(
      promqlMetricNames(
        'sum by (instance) (rate(a_total{result="missed"}[5m])) / on(instance) group_left(node) sum(rate(b_total[1m] offset 5m)) > bool 0.5',
      ),
    ).toEqual(['a_total', 'b_total']);
    expect(promqlMetricNames('count(up == 0 or x_up == 0) or vector(0)')).toEqual(['up', 'x_up']);
    expect(promqlMetricNames('topk(10, rate(if_bytes_total{name="sum(x)"}[1e3s]))')).toEqual([
      'if_bytes_total',
    ]);
  });

  it('maps histogram samples to their family only when the family is a histogram', () => {
    const types = new Map([
      ['h_seconds', 'histogram'],
      ['c_count', 'gauge'],
    ]);
    expect(metricFamily('h_seconds_bucket', types)).toBe('h_seconds');
    expect(metricFamily('h_seconds_count', types)).toBe('h_seconds');
    expect(metricFamily('c_count', types)).toBe('c_count');
    expect(metricFamily('missing_sum', types)).toBe('missing_sum');
  });

  it('collects the expressions of panels, nested row panels and variable queries', () => {
    const dash = {
      templating: { list: [{ query: { query: 'label_values(m_total, instance)' } }] },
      panels: [{ targets: [{ expr: 'a' }] }, { type: 'row', panels: [{ targets: [{ expr: 'b' }] }] }],
    };
    expect(dashboardExpressions(dash)).toEqual(['m_total', 'a', 'b']);
  });
});
