/**
 * The metric names a PromQL expression selects, for checking a Grafana dashboard against a real
 * scrape: string literals, label matchers `{…}`, range and subquery brackets `[…]` and the
 * label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right` are removed, then
 * every identifier that is not a function call, a keyword or a number is a metric name.
 */

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/** Metric names selected by `expr`, in order of first use. */
export function promqlMetricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const after = s.slice(m.index + name.length);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    const before = s.slice(0, m.index);
    if (/[0-9.]$/.test(before)) continue; // the unit of a number or duration: 5m, 1e3
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** The metric family of a sample name: `x_bucket`/`x_sum`/`x_count` → `x` when `x` is a histogram or summary. */
export function metricFamily(name: string, types: ReadonlyMap<string, string>): string {
  if (types.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m && ['histogram', 'summary'].includes(types.get(m[1]!) ?? '')) return m[1]!;
  return name;
}

/** `# TYPE name type` lines of an exposition text. */
export function exposedTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) out.set(t[1]!, t[2]!);
  }
  return out;
}

/** Every PromQL expression of a Grafana dashboard (panels, rows' nested panels, query variables). */
export function dashboardExpressions(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o['expr'] === 'string') out.push(o['expr']);
    const q = o['query'];
    if (typeof q === 'object' && q !== null && typeof (q as Record<string, unknown>)['query'] === 'string')
      out.push(labelValuesMetric((q as Record<string, string>)['query']!));
    for (const [k, child] of Object.entries(o)) if (k !== 'query') walk(child);
  };
  walk(dashboard);
  return out.filter((e) => e !== '');
}

/** `label_values(metric, label)` → `metric` (a variable query is not PromQL). */
function labelValuesMetric(query: string): string {
  const m = /^label_values\(\s*([^,]+?)\s*,/.exec(query);
  return m ? m[1]! : '';
}
