/**
 * Readable text of the debug pages (`?format=text`, and `vpc-agent status`): aligned tables a
 * person reads in a terminal. Pure: documents in, text out.
 */
import type { ResourceRow, StateDoc } from './state.js';

/** Columns padded to their widest cell; `-` for an empty cell. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | undefined)[])[],
): string {
  const cells = [headers, ...rows.map((r) => headers.map((_, i) => r[i] || '-'))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? (c ?? '') : (c ?? '').padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function resourcesText(rows: readonly ResourceRow[]): string {
  if (rows.length === 0) return 'no resources\n';
  const notReady = rows.filter((r) => r.state !== 'ready').length;
  return (
    table(
      ['KIND', 'NAME', 'STATE', 'REASON'],
      rows.map((r) => [r.kind, r.name, r.state, r.reason]),
    ) + `\n\n${rows.length} resources, ${notReady} not ready\n`
  );
}

export function stateText(doc: StateDoc): string {
  const out: string[] = [];
  const s = doc.snapshot;
  out.push(
    `node ${doc.node ?? '-'}, ${doc.writer ? 'Northbound writer' : 'standby'}, ` +
      (s
        ? `load #${s.seq} ${s.complete ? 'complete' : `incomplete (${s.incomplete.join('; ')})`}`
        : 'nothing loaded yet'),
  );
  out.push('', resourcesText(doc.resources).trimEnd());
  out.push(
    '',
    table(
      ['RECONCILER', 'HEALTHY', 'PASSES', 'PENDING', 'LAST ERROR'],
      Object.entries(doc.reconcilers).map(([name, r]) => [
        name,
        r.health ? String(r.health.healthy) : undefined,
        r.health ? String(r.health.passes) : undefined,
        r.pending
          ? Object.entries(r.pending.ops)
              .filter(([, n]) => n > 0)
              .map(([op, n]) => `${op} ${n}`)
              .join(', ') || 'nothing'
          : undefined,
        r.health?.lastError,
      ]),
    ),
  );
  const objects = Object.entries(doc.reconcilers).flatMap(([name, r]) =>
    (r.objects ?? []).filter((o) => o.state !== 'ready').map((o) => [name, o.name, o.state, o.message]),
  );
  if (objects.length > 0) out.push('', table(['RECONCILER', 'OBJECT', 'STATE', 'REASON'], objects));
  out.push(
    '',
    table(
      ['SUBNET', 'USED', 'AVAILABLE'],
      doc.ipam.subnets.map((x) => [x.subnet, String(x.used), x.available]),
    ),
  );
  return out.join('\n') + '\n';
}

/** Any document as indented `key: value` lines (the pages without a table of their own). */
export function plainText(doc: unknown, indent = ''): string {
  if (doc === null || typeof doc !== 'object') return `${indent}${String(doc)}\n`;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [`- [${i}]`, v] as const) : Object.entries(doc);
  if (entries.length === 0) return `${indent}${Array.isArray(doc) ? '(none)' : '{}'}\n`;
  return entries
    .map(([k, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}${k}:\n${plainText(v, indent + '  ')}`
        : `${indent}${k}: ${String(v)}\n`,
    )
    .join('');
}
