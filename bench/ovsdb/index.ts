/**
 * The OVSDB client benchmark: every peer, in one run, on fresh standalone
 * OVN_Northbound servers (one per write phase), S switches × P ports, one transaction per
 * switch, sent sequentially and pipelined; then a fresh client of the same peer fully syncs the
 * S·(P+1)+1 rows the pipelined (else sequential) phase left. Each phase is a separate process,
 * so memory is the client's own. After every write phase the server's rows are counted.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PEERS, runPeerPhase, type PeerSpec } from './peers.js';
import type { Phase } from './protocol.js';
import {
  formatFigures,
  formatRatios,
  formatReference,
  formatPairedRatios,
  formatTargets,
  ratioStat,
  type PairedRatios,
  kibToMiB,
  type PeerReport,
  type SyncFigures,
  type WriteFigures,
} from './report.js';
import { nbSchemaPath, startBenchServer, verifyLanded, type BenchServer } from './server.js';
import { checkWorkloadSize, expectedSyncRows, type WorkloadSize } from './workload.js';

export interface OvsdbBenchOptions extends WorkloadSize {
  /** Peer ids to run (default: all). */
  peers?: string[];
  /** Where the JSON result goes (default `bench/results/ovsdb-<date>.json`); `false` = none. */
  out?: string | false;
  /**
   * Rounds of every peer's phases (default 1). Rounds alternate the peer order (forward, then
   * backward, …) so slow drift of the machine's load does not favour whoever runs first; each
   * phase reports its median run, and all run times are kept in `runs`.
   */
  repeat?: number;
}

const say = (s = '') => process.stdout.write(`${s}\n`);

async function loadAverage(): Promise<string> {
  return (await promisify(execFile)('uptime', [])).stdout.trim();
}

async function toolVersion(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(cmd, args);
    return stdout.trim().split('\n')[0] ?? '';
  } catch {
    return 'unknown';
  }
}

/** Runs all phases of one peer; failures are recorded, never thrown. */
async function benchPeer(peer: PeerSpec, size: WorkloadSize, schema: string): Promise<PeerReport> {
  const report: PeerReport = { id: peer.id, label: peer.label, notOffered: [], errors: [] };
  let filled: BenchServer | undefined;
  const args = (remote: string, phase: Phase) => ({ remote, phase, schema, ...size });
  try {
    for (const phase of ['seq', 'pipe'] as const) {
      if (!peer.phases.includes(phase)) {
        report.notOffered.push(phase);
        continue;
      }
      const server = await startBenchServer(schema);
      try {
        const out = await runPeerPhase(peer, args(server.remote, phase));
        if (out.status === 'unavailable') {
          report.unavailable = out.message;
          await server.dispose();
          return report;
        }
        const landed = await verifyLanded(server.remote, size);
        const r = out.result;
        const fig: WriteFigures = {
          txns: r.txns ?? 0,
          seconds: r.seconds,
          txnPerSec: (r.txns ?? 0) / r.seconds,
          ...(phase === 'pipe' ? { window: r.window ?? 'all' } : {}),
          rssMiB: kibToMiB(out.end.rssKiB),
          hwmMiB: kibToMiB(out.end.hwmKiB),
          ...(r.note ? { note: r.note } : {}),
        };
        report[phase] = fig;
        say(
          `  ${peer.id} ${phase}: ${fig.txnPerSec.toFixed(0)} txn/s (${fig.seconds.toFixed(3)} s), ` +
            `landed ${landed.switches} LS / ${landed.ports} LSP, client RSS ${fig.rssMiB.toFixed(1)} MiB`,
        );
        await filled?.dispose();
        filled = server;
      } catch (err) {
        await server.dispose();
        throw err;
      }
    }
    if (!filled) throw new Error('no write phase left a filled server to sync from');
    const out = await runPeerPhase(peer, args(filled.remote, 'sync'));
    if (out.status === 'unavailable') {
      report.notOffered.push('sync');
      return report;
    }
    const r = out.result;
    const expected = expectedSyncRows(size);
    if (r.rows !== undefined && r.rows !== expected) {
      throw new Error(`${peer.id} sync: ${r.rows} rows, expected ${expected}`);
    }
    const rss = out.end.rssKiB;
    const fig: SyncFigures = {
      seconds: r.seconds,
      ...(r.rows !== undefined ? { rows: r.rows } : {}),
      cache: r.cache ?? false,
      rssMiB: kibToMiB(rss),
      hwmMiB: kibToMiB(out.end.hwmKiB),
      ...(out.baseline ? { baselineMiB: kibToMiB(out.baseline.rssKiB) } : {}),
      ...(r.cache && out.baseline && r.rows
        ? { bytesPerRow: ((rss - out.baseline.rssKiB) * 1024) / r.rows }
        : {}),
      ...(r.note ? { note: r.note } : {}),
    };
    report.sync = fig;
    say(
      `  ${peer.id} sync: ${fig.seconds.toFixed(3)} s, ${fig.rows ?? '?'} rows, client RSS ${fig.rssMiB.toFixed(1)} MiB`,
    );
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    report.errors.push(msg);
    say(`  ${peer.id}: FAILED: ${msg}`);
  } finally {
    await filled?.dispose();
  }
  return report;
}

/** The figures of the run with the median time (the upper one of an even count). */
function medianRun<F extends { seconds: number }>(runs: (F | undefined)[]): F | undefined {
  const ok = runs.filter((r): r is F => r !== undefined).sort((a, b) => a.seconds - b.seconds);
  if (ok.length === 0) return undefined;
  const median = ok[Math.floor(ok.length / 2)]!;
  return ok.length === 1 ? median : { ...median, runs: runs.flatMap((r) => (r ? [r.seconds] : [])) };
}

/**
 * Paired ratios of `peerId` against `baseId`: per round, base time / peer time for the write
 * phases (the throughput ratio: both commit the same transactions) and peer time / base time
 * for the sync; then the median and quartiles over the rounds where both ran. The two runs of a
 * round are back to back (rounds alternate the order), so a drift of the shared machine's
 * speed between rounds cancels out, which the ratio of two medians does not do.
 */
function pairedRatios(
  rounds: ReadonlyMap<string, PeerReport[]>,
  baseId: string,
  peerId: string,
): PairedRatios {
  const base = rounds.get(baseId) ?? [];
  const peer = rounds.get(peerId) ?? [];
  const per = (phase: 'seq' | 'pipe' | 'sync') => {
    const values: number[] = [];
    for (let i = 0; i < Math.min(base.length, peer.length); i++) {
      const b = base[i]![phase]?.seconds;
      const p = peer[i]![phase]?.seconds;
      if (b === undefined || p === undefined || b <= 0 || p <= 0) continue;
      values.push(phase === 'sync' ? p / b : b / p);
    }
    return ratioStat(values);
  };
  const out: PairedRatios = {};
  const seq = per('seq');
  const pipe = per('pipe');
  const sync = per('sync');
  if (seq) out.seq = seq;
  if (pipe) out.pipe = pipe;
  if (sync) out.sync = sync;
  return out;
}

/** One report out of a peer's rounds: per phase the median run; errors of every round. */
function medianReport(reports: PeerReport[]): PeerReport {
  const first = reports[0]!;
  const seq = medianRun(reports.map((r) => r.seq));
  const pipe = medianRun(reports.map((r) => r.pipe));
  const sync = medianRun(reports.map((r) => r.sync));
  return {
    ...first,
    ...(seq ? { seq } : {}),
    ...(pipe ? { pipe } : {}),
    ...(sync ? { sync } : {}),
    errors: reports.flatMap((r) => r.errors),
  };
}

/** Runs the benchmark, prints the tables and writes the JSON file; resolves to false if a peer failed. */
export async function runOvsdbBench(opts: OvsdbBenchOptions): Promise<boolean> {
  const size: WorkloadSize = { switches: opts.switches, ports: opts.ports };
  checkWorkloadSize(size);
  const schema = await nbSchemaPath();
  const wanted = opts.peers ?? PEERS.map((p) => p.id);
  const unknown = wanted.filter((id) => !PEERS.some((p) => p.id === id));
  if (unknown.length)
    throw new Error(`unknown peer(s) ${unknown.join(', ')}; known: ${PEERS.map((p) => p.id).join(', ')}`);

  const loadBefore = await loadAverage();
  say(`ovsdb bench: ${size.switches} switches x ${size.ports} ports, one transaction per switch`);
  say(`schema ${schema}; ${os.cpus().length} CPUs; ${loadBefore}`);
  const peers = PEERS.filter((p) => wanted.includes(p.id));
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  const rounds = new Map<string, PeerReport[]>(peers.map((p) => [p.id, []]));
  for (let round = 0; round < repeat; round++) {
    if (repeat > 1) say(`round ${round + 1} of ${repeat}:`);
    for (const peer of round % 2 === 0 ? peers : [...peers].reverse()) {
      say(`${peer.label}:`);
      const report = await benchPeer(peer, size, schema);
      if (report.unavailable) {
        say(`  ${peer.id}: not available: ${report.unavailable}`);
      }
      if (round === 0) {
        for (const phase of report.notOffered) say(`  ${peer.id} ${phase}: n/a (not offered by this client)`);
      }
      rounds.get(peer.id)!.push(report);
    }
  }
  const reports = peers.map((p) => medianReport(rounds.get(p.id)!));
  const loadAfter = await loadAverage();

  say();
  say(formatFigures(reports));
  say();
  say(formatRatios(reports, 'raw'));
  say();
  say(formatRatios(reports, 'python-idl'));
  let paired: Map<string, PairedRatios> | undefined;
  if (repeat > 1 && rounds.has('raw')) {
    paired = new Map(
      peers.filter((p) => p.id !== 'raw').map((p) => [p.id, pairedRatios(rounds, 'raw', p.id)]),
    );
    say();
    say(formatPairedRatios(reports, paired, 'raw client (Node)'));
  }
  const targets = formatTargets(reports, paired);
  if (targets) say(`\nvpc-agent targets:\n${targets}`);
  say(`\nreference figures (ratios above are what matters):\n${formatReference(reports)}`);
  say(`\nload: before ${loadBefore}\n      after  ${loadAfter}`);

  if (opts.out !== false) {
    const date = new Date().toISOString().slice(0, 10);
    const file = opts.out ?? path.resolve(import.meta.dirname, '..', 'results', `ovsdb-${date}.json`);
    await mkdir(path.dirname(file), { recursive: true });
    const meta = {
      date: new Date().toISOString(),
      workload: { ...size, transactions: size.switches, rowsPerTransaction: size.ports + 1 },
      repeat,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadBefore, loadAfter },
      versions: {
        node: process.version,
        ovsdbServer: await toolVersion('ovsdb-server', ['--version']),
        ovnNbctl: await toolVersion('ovn-nbctl', ['--version']),
      },
      schema,
    };
    const pairedOut = paired ? Object.fromEntries(paired) : undefined;
    await writeFile(file, `${JSON.stringify({ meta, peers: reports, pairedVsRaw: pairedOut }, null, 2)}\n`);
    say(`\nwrote ${path.relative(process.cwd(), file)}`);
  }
  return reports.every((r) => r.errors.length === 0);
}
