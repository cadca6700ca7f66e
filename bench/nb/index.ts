/**
 * The Northbound benchmark: 1,000 subnets in 100 VPCs with 10,000 VM
 * ports (`--quick`: a tenth), against a fresh standalone NB ovsdb-server + SB + ovn-northd
 * (`startCentral`), with the agent as its own process (`agent.ts`):
 *
 * 1. first start: time to converged, transactions and ops sent, agent RSS; then the time
 *    ovn-northd needs to catch up (`ovn-nbctl --wait=sb sync`), reported separately;
 * 2. a no-op resync in the same process: 0 transactions, or the run FAILS;
 * 3. a restart (fresh process, same NB): time to converged, transactions (0 expected), every
 *    port's IPAM ip/mac and NB address compared with the first run's; ratio restart / first.
 *
 * Results go to the console and `bench/results/nb-<date>.json`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { formatLspAddress } from '../../agent/ownership.js';
import { startCentral, type CentralHandle } from '../../agent/sandbox/central.js';
import { run } from '../../agent/sandbox/process.js';
import { startAgent, type AgentProcess, type Converged, type Resync } from './process.js';
import {
  expectedRows,
  FULL_TOPOLOGY,
  QUICK_TOPOLOGY,
  topologyPorts,
  writeTopology,
  type NbTopologySize,
} from './topology.js';

export interface NbBenchOptions {
  quick?: boolean;
  /** VPCs (10 subnets of 10 ports each); overrides the full size, not `quick`. */
  vpcs?: number;
  /** JSON result file (default `bench/results/nb-<date>.json`); `false` = none. */
  out?: string | false;
}

const say = (s = '') => process.stdout.write(`${s}\n`);
const uptime = async () => (await promisify(execFile)('uptime', [])).stdout.trim();
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

interface RunFigures {
  /** Spawn of the process → converged (includes Node/tsx start-up). */
  processSeconds: number;
  /** NB client start → converged (what the agent itself spends). */
  agentSeconds: number;
  phases: Converged['phases'];
  transactions: number;
  passes: number;
  ops: Converged['ops'];
  /** Every pass until converged: plan time, whole pass, whether it sent a transaction. */
  passTimes: { planMs: number; passMs: number; sent: boolean }[];
  /** Agent RSS once converged; `baselineRssMiB` = after imports (Node + tsx + code), before connecting. */
  rssMiB: number;
  hwmMiB: number;
  baselineRssMiB: number;
  /** IPAM entries restored from NB before allocating. */
  ipamRestored: number;
}

function figures(a: AgentProcess, c: Converged, mem: { rssKiB: number; hwmKiB: number }): RunFigures {
  return {
    processSeconds: a.convergedAfterSpawnSeconds,
    agentSeconds: c.seconds,
    phases: c.phases,
    transactions: c.transactions,
    passes: c.passes,
    ops: c.ops,
    passTimes: c.recentPasses.map((p) => ({
      planMs: Math.round(p.planMs * 10) / 10,
      passMs: Math.round(p.durationMs * 10) / 10,
      sent: p.sent,
    })),
    rssMiB: mib(mem.rssKiB),
    hwmMiB: mib(mem.hwmKiB),
    baselineRssMiB: Math.round(c.baselineRssMiB * 10) / 10,
    ipamRestored: c.ipamRestored,
  };
}

function checkRows(c: Converged, size: NbTopologySize): void {
  const want = expectedRows(size);
  for (const [t, n] of Object.entries(want)) {
    if (c.owned[t] !== n) throw new Error(`NB holds ${c.owned[t] ?? 0} owned ${t} rows, expected ${n}`);
  }
}

const line = (label: string, f: RunFigures) =>
  `  ${label}: converged in ${f.agentSeconds.toFixed(2)} s (process ${f.processSeconds.toFixed(2)} s; ` +
  `NB sync ${f.phases.syncSeconds.toFixed(2)}, load+IPAM ${f.phases.loadIpamSeconds.toFixed(2)}, ` +
  `build ${f.phases.buildSeconds.toFixed(2)}, reconcile ${f.phases.reconcileSeconds.toFixed(2)}), ` +
  `${f.transactions} txn (+${f.ops.insert} ~${f.ops.update} -${f.ops.delete}), ${f.passes} passes, ` +
  `RSS ${f.rssMiB} MiB (peak ${f.hwmMiB}, ${f.baselineRssMiB} before connecting), ` +
  `IPAM restored ${f.ipamRestored}\n    passes: ` +
  f.passTimes.map((p) => `plan ${p.planMs} ms / pass ${p.passMs} ms${p.sent ? ' (sent)' : ''}`).join(', ');

/** Runs the benchmark; resolves to false when an expectation failed (0-txn resync, IPs kept). */
export async function runNbBench(opts: NbBenchOptions): Promise<boolean> {
  const size = opts.quick
    ? QUICK_TOPOLOGY
    : opts.vpcs !== undefined
      ? { ...FULL_TOPOLOGY, vpcs: opts.vpcs }
      : FULL_TOPOLOGY;
  const loadBefore = await uptime();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpc-bench-nb-'));
  const failures: string[] = [];
  let central: CentralHandle | undefined;
  let agent: AgentProcess | undefined;
  const subnets = size.vpcs * size.subnetsPerVpc;
  const portCount = subnets * size.portsPerSubnet;
  say(`nb bench: ${subnets} subnets in ${size.vpcs} VPCs, ${portCount} ports; ${os.cpus().length} CPUs`);
  say(`load: ${loadBefore}`);
  try {
    const manifests = path.join(dir, 'manifests');
    const docs = await writeTopology(manifests, size);
    const portsFile = path.join(dir, 'ports.json');
    await writeFile(portsFile, JSON.stringify(topologyPorts(size)));
    central = await startCentral({ dir: path.join(dir, 'central') });
    const nbRemote = central.nb.unix[0]!;
    const args = { nb: nbRemote, manifests, ports: portsFile };

    // 1. First start.
    agent = await startAgent(args);
    const c1 = await agent.converged;
    checkRows(c1, size);
    const first = figures(agent, c1, await agent.memory());
    say(line('first start', first));
    const t = performance.now();
    await run('ovn-nbctl', [`--db=${central.nb.db}`, '--timeout=900', '--wait=sb', 'sync'], {
      timeoutMs: 905_000,
    });
    const northdSeconds = (performance.now() - t) / 1000;
    say(`  ovn-northd caught up (ovn-nbctl --wait=sb sync) ${northdSeconds.toFixed(2)} s after convergence`);

    // 2. No-op resync.
    const resync: Resync = await agent.resync();
    const resyncOk = resync.transactions === 0 && resync.pass?.sent === false;
    if (!resyncOk) failures.push(`no-op resync sent ${resync.transactions} transaction(s)`);
    say(
      `  no-op resync: ${resync.transactions} txn, pass ${resync.pass?.durationMs.toFixed(1)} ms ` +
        `(plan ${resync.pass?.planMs.toFixed(1)} ms over ${resync.pass?.desiredRows} rows)` +
        (resyncOk ? '' : '  <-- FAILED: expected 0 transactions'),
    );
    const before = await agent.dump();
    await agent.stop();
    agent = undefined;

    // 3. Restart against the same NB.
    agent = await startAgent(args);
    const c2 = await agent.converged;
    checkRows(c2, size);
    const restart = figures(agent, c2, await agent.memory());
    say(line('restart', restart));
    const after = await agent.dump();
    await agent.stop();
    agent = undefined;
    let changed = 0;
    for (const [name, [ip, mac, addr]] of Object.entries(before)) {
      const b = after[name];
      if (!b || b[0] !== ip || b[1] !== mac || b[2] !== addr || addr !== formatLspAddress(mac, ip)) changed++;
    }
    const compared = Object.keys(before).length;
    if (compared !== portCount) failures.push(`dumped ${compared} ports, expected ${portCount}`);
    if (changed > 0) failures.push(`${changed} port(s) changed ip/mac across the restart`);
    if (restart.ipamRestored !== portCount)
      failures.push(`restart restored ${restart.ipamRestored} IPAM entries, expected ${portCount}`);
    if (restart.transactions !== 0) failures.push(`restart sent ${restart.transactions} transaction(s)`);
    const ratio = restart.agentSeconds / first.agentSeconds;
    say(
      `  restart: ${compared} ports compared (IPAM ip/mac and NB addresses), ${changed} changed; ` +
        `${restart.transactions} txn`,
    );
    say(`  ratio restart / first convergence: ${ratio.toFixed(2)}`);
    const loadAfter = await uptime();
    say(`load: ${loadAfter}`);
    for (const f of failures) say(`FAILED: ${f}`);

    if (opts.out !== false) {
      const date = new Date().toISOString().slice(0, 10);
      const file = opts.out ?? path.resolve(import.meta.dirname, '..', 'results', `nb-${date}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      const result = {
        meta: {
          date: new Date().toISOString(),
          command: `npm run bench -- nb${opts.quick ? ' --quick' : ''}${opts.vpcs !== undefined ? ` --vpcs ${opts.vpcs}` : ''}`,
          workload: { ...size, subnets, ports: portCount, manifestDocuments: docs, rows: expectedRows(size) },
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadBefore, loadAfter },
          versions: { node: process.version },
        },
        first,
        northdCatchUpSeconds: northdSeconds,
        noopResync: {
          transactions: resync.transactions,
          seconds: resync.seconds,
          passMs: resync.pass?.durationMs,
          planMs: resync.pass?.planMs,
        },
        restart: { ...restart, portsCompared: compared, portsChanged: changed },
        ratioRestartToFirst: ratio,
        failures,
      };
      await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
      say(`wrote ${path.relative(process.cwd(), file)}`);
    }
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
    say(`FAILED: ${failures[failures.length - 1]}`);
  } finally {
    await agent?.kill();
    await central?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return failures.length === 0;
}
