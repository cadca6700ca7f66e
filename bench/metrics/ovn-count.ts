/**
 * The `ovn-count` benchmark: what counting the Southbound's logical flows costs the SB
 * ovsdb-server, at N flows (default 100,000) on a fresh standalone server. Sides, each run
 * `rounds` times one after the other:
 * - `vpc-agent` — `readSbCounts` (agent/metrics/ovn-sb.ts): an `update` with an empty row on
 *   `Logical_Flow` and `Chassis`, then `abort`, on a short connection: the counts, nothing
 *   committed;
 * - `select-uuid` — a `select` of `_uuid` over the same kind of connection (the cheapest select
 *   that keeps every row: a select with no columns answers one row, duplicates removed);
 * - `peer` — `ovn-sbctl --bare --columns=_uuid list Logical_Flow` as a process, counting lines
 *   (how per-scrape exporters count).
 * Per count: p50/p99 wall time, ovsdb-server CPU (/proc/<pid>/stat) and reply bytes. Nothing is
 * asserted; figures go to the console and `bench/results/ovn-count-<date>.json`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readSbCounts } from '../../agent/metrics/ovn-sb.js';
import { SCHEMAS } from '../../agent/sandbox/central.js';
import { startOvsdbServer } from '../../agent/sandbox/ovsdb-server.js';
import { run } from '../../agent/sandbox/process.js';
import { insert, OvsdbClient, RpcConnection, sb as sbModel } from '../../ovsdb/index.js';
import { percentile } from '../ports/measure.js';

export interface OvnCountBenchOptions {
  flows: number;
  rounds: number;
  /** JSON result file; false: none; default bench/results/ovn-count-<date>.json. */
  out?: string | false;
}

interface Side {
  id: string;
  ms: { p50: number; p99: number };
  serverCpuMsPerCount: number;
  replyBytes: number;
  count: number;
}

const exec = promisify(execFile);
const say = (s = '') => process.stdout.write(`${s}\n`);

async function ticks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export async function runOvnCountBench(opts: OvnCountBenchOptions): Promise<boolean> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpca-ovncount-'));
  const hz = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const server = await startOvsdbServer({ dir, name: 'sb', schema: SCHEMAS.sb });
  try {
    const writer = await OvsdbClient.connect({
      remotes: server.unixRemote,
      database: 'OVN_Southbound',
      schema: sbModel.schema(),
      monitor: false,
    });
    await run('ovn-sbctl', [`--db=${server.unixRemote}`, 'chassis-add', 'node1', 'geneve', '127.0.0.1']);
    const [dp] = await writer.transact([insert('Datapath_Binding', { tunnel_key: 1 })]);
    for (let done = 0; done < opts.flows;) {
      const n = Math.min(5000, opts.flows - done);
      await writer.transact(
        Array.from({ length: n }, (_, i) =>
          insert('Logical_Flow', {
            logical_datapath: dp,
            pipeline: 'ingress',
            table_id: (done + i) % 30,
            priority: Math.floor((done + i) / 30) % 65536,
            match: `reg0 == ${done + i}`,
            actions: 'next;',
          }),
        ),
      );
      done += n;
    }
    await writer.close();
    say(
      `ovn-count: ${opts.flows} logical flows on a standalone SB ovsdb-server, ${opts.rounds} counts per side`,
    );

    /** A transaction over a fresh connection: its reply and the reply's size on the wire (JSON). */
    const raw = async (ops: unknown[]): Promise<{ reply: unknown; bytes: number }> => {
      const conn = await RpcConnection.connect(server.unixRemote, { probeIntervalMs: 0 });
      try {
        const reply = await conn
          .request<unknown>('transact', ['OVN_Southbound', ...ops], { timeoutMs: 120_000 })
          .catch((err: unknown) => err);
        return { reply, bytes: JSON.stringify(reply).length };
      } finally {
        await conn.close();
      }
    };
    const rawCount = async (ops: unknown[]) => {
      const { reply, bytes } = await raw(ops);
      return { count: (reply as { rows: unknown[] }[])[0]!.rows.length, bytes };
    };
    // The size of our reply (the counts and the abort error), with the operations readSbCounts sends.
    const ourBytes = (
      await raw([
        { op: 'update', table: 'Logical_Flow', where: [], row: {} },
        { op: 'update', table: 'Chassis', where: [], row: {} },
        { op: 'abort' },
      ])
    ).bytes;
    const sides: [string, () => Promise<{ count: number; bytes: number }>][] = [
      [
        'vpc-agent',
        async () => {
          const c = await readSbCounts(server.unixRemote, { timeoutMs: 120_000 });
          return { count: c.logicalFlows, bytes: ourBytes };
        },
      ],
      [
        'select-uuid',
        () => rawCount([{ op: 'select', table: 'Logical_Flow', where: [], columns: ['_uuid'] }]),
      ],
      [
        'peer',
        async () => {
          const r = await run('ovn-sbctl', [
            `--db=${server.unixRemote}`,
            '--bare',
            '--columns=_uuid',
            'list',
            'Logical_Flow',
          ]);
          return {
            count: r.stdout.split('\n').filter((l) => l.trim() !== '').length,
            bytes: r.stdout.length,
          };
        },
      ],
    ];
    const results: Side[] = [];
    for (const [id, count] of sides) {
      await count(); // warm-up
      const times: number[] = [];
      const t0 = await ticks(server.pid);
      let last = { count: 0, bytes: 0 };
      for (let i = 0; i < opts.rounds; i++) {
        const t = performance.now();
        last = await count();
        times.push(performance.now() - t);
      }
      const side: Side = {
        id,
        ms: { p50: percentile(times, 50), p99: percentile(times, 99) },
        serverCpuMsPerCount: (((await ticks(server.pid)) - t0) * 1000) / hz / opts.rounds,
        replyBytes: last.bytes,
        count: last.count,
      };
      results.push(side);
      say(
        `  ${id.padEnd(12)} p50 ${side.ms.p50.toFixed(1).padStart(8)} ms  p99 ${side.ms.p99.toFixed(1).padStart(8)} ms  ` +
          `ovsdb-server ${side.serverCpuMsPerCount.toFixed(1).padStart(7)} ms CPU/count  reply ${side.replyBytes} bytes  (count ${side.count})`,
      );
    }
    const ours = results[0]!;
    const ok = results.every((r) => r.count === opts.flows);
    if (!ok) say('  counts disagree with the flows inserted');
    for (const r of results.slice(1))
      say(
        `  vs ${r.id}: ${(r.ms.p50 / Math.max(ours.ms.p50, 1e-9)).toFixed(1)}x faster, ` +
          `${(r.serverCpuMsPerCount / Math.max(ours.serverCpuMsPerCount, 1e-9)).toFixed(1)}x less server CPU`,
      );
    if (opts.out !== false) {
      const date = new Date().toISOString().slice(0, 10);
      const file = opts.out ?? path.resolve(import.meta.dirname, '..', 'results', `ovn-count-${date}.json`);
      await writeFile(
        file,
        `${JSON.stringify({ bench: 'ovn-count', date, flows: opts.flows, rounds: opts.rounds, sides: results }, null, 2)}\n`,
      );
      say(`  results: ${path.relative(process.cwd(), file)}`);
    }
    return ok;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
