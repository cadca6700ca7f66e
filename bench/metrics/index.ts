/**
 * The `metrics` benchmark: one scrape of a node with N interfaces (default 1,000), our
 * collection against the process-per-command peer (./peer.ts), on one fresh sandbox node
 * (ovs-vswitchd on the userspace datapath, its ovsdb-server, ovn-controller).
 *
 * The N interfaces are internal ports of a bridge `br-bench` (netdev), each with an `iface-id`,
 * so both sides read N VM-like ports plus br-int. Each side runs a warm-up, then `scrapes`
 * scrapes one after the other:
 * - `vpc-agent` — the agent's whole registry (`createMetrics`, datapath and interface
 *   collectors) rendered by `registry.metrics()`, with the datapath cache off
 *   (`minIntervalMs: 0`: every scrape reads vswitchd — the worst case);
 * - `vpc-agent-cached` — the same with the default 5 s cache (scrapes every 5 s or more often
 *   cost vswitchd at most one refresh per 5 s);
 * - `peer` — 4 + bridges processes per scrape.
 * Per scrape: p50/p99/max wall time; CPU of ovs-vswitchd and of the node's ovsdb-server (from
 * /proc/<pid>/stat, clock ticks), minus what each burns idle over the same time (measured for
 * 10 s with nobody scraping: vswitchd's statistics updates, revalidators); CPU of the collector
 * (this process, plus the processes it spawned and reaped). Nothing is asserted; figures go to the console and
 * `bench/results/metrics-<date>.json`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createDatapathCollector,
  createInterfaceCollector,
  createMetrics,
  type DatapathCollector,
} from '../../agent/metrics/index.js';
import { INTERFACE_METRICS_MONITOR } from '../../agent/metrics/interfaces.js';
import type { ChassisInfo } from '../../agent/sandbox/chassis.js';
import { run, waitUntil } from '../../agent/sandbox/process.js';
import { createSandbox, destroySandbox } from '../../agent/sandbox/sandbox.js';
import { OvsdbClient, vswitch } from '../../ovsdb/index.js';
import { percentile } from '../ports/measure.js';
import { peerProcessesPerScrape, peerScrape } from './peer.js';

export interface MetricsBenchOptions {
  interfaces: number;
  scrapes: number;
  out?: string | false;
  command: string;
}

interface SideFigures {
  id: string;
  scrapes: number;
  ms: { p50: number; p99: number; max: number };
  /** CPU milliseconds per scrape. */
  cpuMsPerScrape: { vswitchd: number; ovsdbServer: number; collector: number };
  exposition: { bytes: number; series: number };
  processesPerScrape: number;
}

const say = (s = '') => process.stdout.write(`${s}\n`);
const exec = promisify(execFile);

/** utime + stime of `pid` in clock ticks (proc(5) fields 14, 15); with `children`, cutime + cstime too. */
async function ticks(pid: number | 'self', children = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): field k is f[k - 3].
  const own = Number(f[11]) + Number(f[12]);
  return children ? own + Number(f[13]) + Number(f[14]) : own;
}

async function measure(
  id: string,
  scrape: () => Promise<string>,
  opts: { scrapes: number; node: ChassisInfo; hz: number; processesPerScrape: number; idle: IdleRates },
): Promise<SideFigures> {
  for (let i = 0; i < 5; i++) await scrape();
  const pids = opts.node.pids;
  const before = {
    vswitchd: await ticks(pids.vswitchd),
    ovsdb: await ticks(pids.ovsdb),
    self: await ticks('self', true),
  };
  const times: number[] = [];
  const start = performance.now();
  let last = '';
  for (let i = 0; i < opts.scrapes; i++) {
    const t = performance.now();
    last = await scrape();
    times.push(performance.now() - t);
  }
  const wallMs = performance.now() - start;
  /** CPU ms per scrape above what the daemon burns idle over the same wall time. */
  const per = (a: number, b: number, idlePerMs = 0) =>
    Math.max(0, ((b - a) * 1000) / opts.hz - idlePerMs * wallMs) / opts.scrapes;
  const fig: SideFigures = {
    id,
    scrapes: opts.scrapes,
    ms: { p50: percentile(times, 50), p99: percentile(times, 99), max: percentile(times, 100) },
    cpuMsPerScrape: {
      vswitchd: per(before.vswitchd, await ticks(pids.vswitchd), opts.idle.vswitchd),
      ovsdbServer: per(before.ovsdb, await ticks(pids.ovsdb), opts.idle.ovsdb),
      collector: per(before.self, await ticks('self', true)),
    },
    exposition: {
      bytes: Buffer.byteLength(last),
      series: last.split('\n').filter((l) => l && !l.startsWith('#')).length,
    },
    processesPerScrape: opts.processesPerScrape,
  };
  say(
    `  ${id.padEnd(17)} p50 ${fig.ms.p50.toFixed(1).padStart(7)} ms  p99 ${fig.ms.p99.toFixed(1).padStart(7)} ms  ` +
      `vswitchd ${fig.cpuMsPerScrape.vswitchd.toFixed(2)} ms  ovsdb-server ${fig.cpuMsPerScrape.ovsdbServer.toFixed(2)} ms  ` +
      `collector ${fig.cpuMsPerScrape.collector.toFixed(1)} ms CPU/scrape  (${fig.exposition.series} series)`,
  );
  return fig;
}

/** CPU ms per wall ms the daemons use with nobody scraping (statistics updates, revalidators). */
interface IdleRates {
  vswitchd: number;
  ovsdb: number;
}

async function idleRates(node: ChassisInfo, hz: number, ms: number): Promise<IdleRates> {
  const a = { v: await ticks(node.pids.vswitchd), o: await ticks(node.pids.ovsdb) };
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const wall = performance.now() - t;
  const rate = (x: number, y: number) => ((y - x) * 1000) / hz / wall;
  return {
    vswitchd: rate(a.v, await ticks(node.pids.vswitchd)),
    ovsdb: rate(a.o, await ticks(node.pids.ovsdb)),
  };
}

/** Adds `n` internal ports with an iface-id on a netdev bridge `br-bench`, in one transaction. */
async function addInterfaces(node: ChassisInfo, n: number): Promise<void> {
  const args = [
    `--db=${node.ovsRemote}`,
    '--timeout=300',
    'add-br',
    'br-bench',
    '--',
    'set',
    'bridge',
    'br-bench',
    'datapath_type=netdev',
  ];
  for (let i = 0; i < n; i++) {
    const name = `bb${i}`;
    args.push(
      '--',
      'add-port',
      'br-bench',
      name,
      '--',
      'set',
      'interface',
      name,
      'type=internal',
      `external_ids:iface-id=bench-${i}`,
    );
  }
  await run('ovs-vsctl', args, { timeoutMs: 310_000 });
}

export async function runMetricsBench(opts: MetricsBenchOptions): Promise<boolean> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpcb-metrics-'));
  const hz = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  let client: OvsdbClient | undefined;
  const collectors: DatapathCollector[] = [];
  try {
    const loadBefore = (await exec('uptime', [])).stdout.trim();
    say(`metrics bench: ${opts.interfaces} interfaces, ${opts.scrapes} scrapes per side (${loadBefore})`);
    const sb = await createSandbox({ stateDir: path.join(dir, 'sbx'), nodes: 1 });
    const node = sb.node();
    const t0 = performance.now();
    await addInterfaces(node, opts.interfaces);
    say(`  ${opts.interfaces} interfaces added in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const build = (minIntervalMs: number) => {
      const metrics = createMetrics({});
      collectors.push(
        createDatapathCollector(
          { registry: metrics.registry },
          { socket: node.vswitchdCtl, runDir: node.dir, minIntervalMs },
        ),
      );
      createInterfaceCollector({ registry: metrics.registry, source: client! }, {});
      return metrics.registry;
    };
    client = await OvsdbClient.connect({
      remotes: node.ovsRemote,
      database: 'Open_vSwitch',
      schema: vswitch.schema(),
      monitor: INTERFACE_METRICS_MONITOR,
    });
    await client.ready();
    await waitUntil(
      () => {
        let n = 0;
        for (const r of client!.cache.rows('Interface'))
          if (typeof r['ofport'] === 'number' && r['ofport'] > 0) n++;
        return n >= opts.interfaces;
      },
      { what: `${opts.interfaces} interfaces with an ofport`, timeoutMs: 120_000, intervalMs: 200 },
    );
    const fresh = build(0);
    const cached = build(5000);
    // Idle cost measured with both registries built (the interface client is already connected).
    const idle = await idleRates(node, hz, 10_000);
    say(
      `  idle: vswitchd ${(idle.vswitchd * 1000).toFixed(1)} ms CPU/s, ovsdb-server ${(idle.ovsdb * 1000).toFixed(1)} ms CPU/s (subtracted below)`,
    );
    const common = { scrapes: opts.scrapes, node, hz, idle };
    const sides: SideFigures[] = [];
    sides.push(await measure('vpc-agent', () => fresh.metrics(), { ...common, processesPerScrape: 0 }));
    const target = { vswitchdCtl: node.vswitchdCtl, ovsRemote: node.ovsRemote, runDir: node.dir };
    sides.push(
      await measure('peer', () => peerScrape(target), {
        ...common,
        processesPerScrape: peerProcessesPerScrape(2),
      }),
    );
    sides.push(
      await measure('vpc-agent-cached', () => cached.metrics(), { ...common, processesPerScrape: 0 }),
    );
    const [ours, peer] = [sides[0]!, sides[1]!];
    say(
      `  peer / vpc-agent: p50 ${(peer.ms.p50 / ours.ms.p50).toFixed(1)}x, p99 ${(peer.ms.p99 / ours.ms.p99).toFixed(1)}x, ` +
        `vswitchd CPU ${(peer.cpuMsPerScrape.vswitchd / Math.max(ours.cpuMsPerScrape.vswitchd, 1e-9)).toFixed(1)}x; ` +
        `goal p50 < 50 ms: ${ours.ms.p50 < 50 ? 'met' : 'NOT met'}`,
    );
    const loadAfter = (await exec('uptime', [])).stdout.trim();
    if (opts.out !== false) {
      const date = new Date().toISOString().slice(0, 10);
      const file = opts.out ?? path.resolve(import.meta.dirname, '..', 'results', `metrics-${date}.json`);
      const result = {
        bench: 'metrics',
        date: new Date().toISOString(),
        command: opts.command,
        interfaces: opts.interfaces,
        idleCpuMsPerSecond: { vswitchd: idle.vswitchd * 1000, ovsdbServer: idle.ovsdb * 1000 },
        load: { before: loadBefore, after: loadAfter },
        sides,
      };
      await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
      say(`  results: ${path.relative(process.cwd(), file)}`);
    }
    return true;
  } finally {
    for (const c of collectors) c.close();
    await client?.close();
    await destroySandbox(path.join(dir, 'sbx'));
    await rm(dir, { recursive: true, force: true });
  }
}
