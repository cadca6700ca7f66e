/**
 * Result shapes of the OVSDB benchmark, the printed tables (absolute figures, then ratios
 * against the raw client and against the Python IDL) and the reference figures.
 */
import type { Phase } from './protocol.js';

const MiB = 1024;

export interface WriteFigures {
  txns: number;
  seconds: number;
  txnPerSec: number;
  window?: number | 'all';
  rssMiB: number;
  hwmMiB: number;
  note?: string;
  /** With `--repeat`: the seconds of every run; the figures above are those of the median run. */
  runs?: number[];
}

export interface SyncFigures {
  seconds: number;
  rows?: number;
  cache: boolean;
  rssMiB: number;
  hwmMiB: number;
  /** RSS before connecting (after imports); absent when the client is another process. */
  baselineMiB?: number;
  /** (RSS after sync − baseline) / rows, for clients that keep a replica. */
  bytesPerRow?: number;
  note?: string;
  /** With `--repeat`: the seconds of every run; the figures above are those of the median run. */
  runs?: number[];
}

export interface PeerReport {
  id: string;
  label: string;
  /** Why the peer did not run at all. */
  unavailable?: string;
  seq?: WriteFigures;
  pipe?: WriteFigures;
  sync?: SyncFigures;
  /** Phases the peer does not offer, with the reason printed as n/a. */
  notOffered: Phase[];
  errors: string[];
}

/** Figures measured on this machine when the targets were set. */
export const REFERENCE = {
  raw: { seq: 3700, pipe: 5500, sync: 0.35 },
  'python-idl': { seq: 760, sync: 0.78 },
  ovsdbapp: { seq: 280 },
  'ovn-nbctl': { seq: 27 },
} as const;

/** Targets for our client: seq ≥ 90 % of raw, pipe ≥ 85 % of raw, sync ≤ 1.5 × raw. */
export const TARGETS = { seqOfRaw: 0.9, pipeOfRaw: 0.85, syncOverRaw: 1.5 } as const;

export const kibToMiB = (kib: number) => kib / MiB;

const fmt = (v: number | undefined, digits: number) => (v === undefined ? 'n/a' : v.toFixed(digits));
const pad = (s: string, n: number) => s.padStart(n);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : pad(cell, widths[c]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Absolute figures, one row per peer. `base` = RSS after imports, before connecting; `RSS` =
 * after the full sync with the replica loaded; `peak` = highest VmHWM over the phases;
 * `B/row` = (RSS − base) / rows for clients that keep a replica.
 */
export function formatFigures(reports: readonly PeerReport[]): string {
  const rows = reports.map((p) => {
    if (p.unavailable) return [p.label, 'skipped', '', '', '', '', '', '', ''];
    const hwm = Math.max(p.seq?.hwmMiB ?? 0, p.pipe?.hwmMiB ?? 0, p.sync?.hwmMiB ?? 0);
    return [
      p.label,
      fmt(p.seq?.txnPerSec, 0),
      fmt(p.pipe?.txnPerSec, 0),
      fmt(p.sync?.seconds, 3),
      p.sync?.rows === undefined ? 'n/a' : String(p.sync.rows),
      fmt(p.sync?.baselineMiB, 1),
      fmt(p.sync?.rssMiB, 1),
      hwm ? hwm.toFixed(1) : 'n/a',
      p.sync?.bytesPerRow === undefined
        ? p.sync && !p.sync.cache
          ? 'no cache'
          : 'n/a'
        : p.sync.bytesPerRow.toFixed(0),
    ];
  });
  return table(
    ['peer', 'seq txn/s', 'pipe txn/s', 'sync s', 'rows', 'base MiB', 'RSS MiB', 'peak MiB', 'B/row'],
    rows,
  );
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`;

/** Throughput ratios (higher is better) and sync-time ratios (lower is better) against one peer. */
export function formatRatios(reports: readonly PeerReport[], baseId: string): string {
  const base = reports.find((p) => p.id === baseId);
  if (!base || base.unavailable) return `(no ${baseId} figures to compare with)`;
  const rows = reports
    .filter((p) => !p.unavailable)
    .map((p) => [
      p.label,
      ratio(p.seq?.txnPerSec, base.seq?.txnPerSec),
      ratio(p.pipe?.txnPerSec, base.pipe?.txnPerSec),
      ratio(p.sync?.seconds, base.sync?.seconds),
      ratio(p.sync?.rssMiB, base.sync?.rssMiB),
    ]);
  return table([`vs ${base.label}`, 'seq', 'pipe', 'sync time', 'RSS'], rows);
}

/** Our client peers: `OvsdbClient` (what the agent uses) and its layers without it. */
const OURS = ['vpc-agent', 'vpc-agent-layers'] as const;

/** Spread of per-round ratios: median and quartiles over `n` rounds. */
export interface RatioStat {
  median: number;
  q1: number;
  q3: number;
  n: number;
}

/** Per phase, a peer's paired ratios against the base peer (see `pairedRatios` in index.ts). */
export interface PairedRatios {
  seq?: RatioStat;
  pipe?: RatioStat;
  sync?: RatioStat;
}

/** Median and quartiles of `values` (nearest rank); undefined when empty. */
export function ratioStat(values: readonly number[]): RatioStat | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
  return { median: at(0.5), q1: at(0.25), q3: at(0.75), n: v.length };
}

const statText = (s: RatioStat | undefined) =>
  s === undefined ? 'n/a' : `${s.median.toFixed(2)}x (${s.q1.toFixed(2)}–${s.q3.toFixed(2)})`;

/** The paired-ratio table: per peer and phase, the median of the per-round ratios and their quartiles. */
export function formatPairedRatios(
  reports: readonly PeerReport[],
  paired: ReadonlyMap<string, PairedRatios>,
  baseLabel: string,
): string {
  const rows = reports
    .filter((p) => paired.has(p.id))
    .map((p) => {
      const r = paired.get(p.id)!;
      return [p.label, statText(r.seq), statText(r.pipe), statText(r.sync)];
    });
  return table([`paired vs ${baseLabel}`, 'seq', 'pipe', 'sync time'], rows);
}

/**
 * Our client peers against the targets, for those that ran. With `paired` (several
 * rounds) the paired medians are judged, else the ratios of the median runs.
 */
export function formatTargets(
  reports: readonly PeerReport[],
  paired?: ReadonlyMap<string, PairedRatios>,
): string | undefined {
  const raw = reports.find((p) => p.id === 'raw');
  if (!raw || raw.unavailable) return undefined;
  const check = (name: string, r: number | undefined, ok: (r: number) => boolean, goal: string) =>
    r === undefined
      ? `  ${name}: n/a`
      : `  ${name}: ${r.toFixed(2)} of raw (target ${goal}) ${ok(r) ? 'MET' : 'NOT MET'}`;
  const of = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  const blocks: string[] = [];
  for (const id of OURS) {
    const ours = reports.find((p) => p.id === id);
    if (!ours || ours.unavailable) continue;
    const pr = paired?.get(id);
    const seq = pr ? pr.seq?.median : of(ours.seq?.txnPerSec, raw.seq?.txnPerSec);
    const pipe = pr ? pr.pipe?.median : of(ours.pipe?.txnPerSec, raw.pipe?.txnPerSec);
    const sync = pr ? pr.sync?.median : of(ours.sync?.seconds, raw.sync?.seconds);
    blocks.push(
      [
        `${ours.label}${pr ? ' (paired medians)' : ''}:`,
        check('sequential', seq, (r) => r >= TARGETS.seqOfRaw, '>= 0.90'),
        check('pipelined', pipe, (r) => r >= TARGETS.pipeOfRaw, '>= 0.85'),
        check('full sync time', sync, (r) => r <= TARGETS.syncOverRaw, '<= 1.5'),
      ].join('\n'),
    );
  }
  return blocks.length > 0 ? blocks.join('\n') : undefined;
}

/** Our figures next to the reference figures (same machine class, one run each). */
export function formatReference(reports: readonly PeerReport[]): string {
  const lines: string[] = [];
  for (const [id, ref] of Object.entries(REFERENCE)) {
    const p = reports.find((r) => r.id === id);
    if (!p || p.unavailable) continue;
    const parts: string[] = [];
    if ('seq' in ref) parts.push(`seq ${fmt(p.seq?.txnPerSec, 0)} (ref ${ref.seq})`);
    if ('pipe' in ref) parts.push(`pipe ${fmt(p.pipe?.txnPerSec, 0)} (ref ${ref.pipe})`);
    if ('sync' in ref) parts.push(`sync ${fmt(p.sync?.seconds, 3)} s (ref ${ref.sync} s)`);
    lines.push(`${p.label}: ${parts.join(', ')}`);
  }
  return lines.join('\n');
}
