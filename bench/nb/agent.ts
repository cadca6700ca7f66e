/**
 * The agent process of the `nb` benchmark (its own process, so its RSS is its own). It wires
 * the product's Northbound path as `agent/run.ts` does — NB client (monitor + cache), writer
 * election (lock), reconcile engine with the product's defaults, manifests through the loader
 * and validation, IPAM rebuilt from NB with `ipamEntriesFromNb` before anything is allocated —
 * plus the VM ports: each allocated through IPAM and built as a PortAllocation into the writer's
 * desired state. (The agent's own workload ports are written by each node's agent; keeping them
 * in the writer's state here measures the engine at 10,000 or 50,000 LSPs, as before.)
 *
 * Protocol (JSON lines on stdout, commands on stdin; logs go to stderr):
 * - prints `{"event":"converged", …}` once every desired row is owned in NB and the engine is
 *   idle (timed from just before the NB client starts);
 * - `resync` → one pass through the runner (as the periodic resync does) →
 *   `{"event":"resync", …}`;
 * - `dump` → `{"event":"dump", ports: {name: [ip, mac, nbAddress]}}` (IPAM and NB views);
 * - `stop` (or EOF) → stops cleanly and exits 0. A failure prints `{"event":"error"}`, exit 1.
 *
 * Usage: `tsx bench/nb/agent.ts --nb <remote> --manifests <dir> --ports <json file>`.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Ipam } from '../../agent/ipam/index.js';
import { configureLogging } from '../../agent/log.js';
import { buildNorthboundReport, type PortAllocation } from '../../agent/nb/build/index.js';
import { DEFAULT_OWNER } from '../../agent/nb/desired.js';
import { createNbReconciler, ownedRows } from '../../agent/nb/reconcile/index.js';
import { createNbWriter, NB_WRITER_LOCK } from '../../agent/nb/writer.js';
import { loadAndValidate } from '../../agent/resources/loader.js';
import { DEFAULT_AGENT_CONFIG, ipamEntriesFromNb } from '../../agent/run.js';
import { nb, OvsdbClient } from '../../ovsdb/index.js';
import type { BenchPort } from './topology.js';

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const log = configureLogging({ level: process.env['VPC_AGENT_LOG_LEVEL'] ?? 'warn' });
  const owner = DEFAULT_OWNER;
  const benchPorts = JSON.parse(await readFile(arg('ports'), 'utf8')) as BenchPort[];
  const manifests = arg('manifests');

  const baselineRssMiB = process.memoryUsage.rss() / 2 ** 20;
  const t0 = performance.now();
  const client = OvsdbClient.create({
    remotes: arg('nb'),
    database: 'OVN_Northbound',
    schema: nb.schema(),
    logger: log.child({ module: 'ovsdb', db: 'nb' }),
  });
  const writer = createNbWriter({ client, log }, { lockName: NB_WRITER_LOCK });
  const engine = createNbReconciler(
    { client, isWriter: () => writer.isWriter(), log: log.child({ module: 'reconcile' }) },
    {
      owner,
      lock: NB_WRITER_LOCK,
      runner: { debounceMs: DEFAULT_AGENT_CONFIG.debounceMs, resyncMs: DEFAULT_AGENT_CONFIG.resyncMs },
    },
  );
  writer.on('change', (w) => {
    if (w) engine.trigger('writer');
  });

  await client.start();
  // As the agent does: the manifests are read while Northbound syncs; IPAM waits for the sync.
  const loading = loadAndValidate(manifests);
  await client.ready();
  const tSynced = performance.now();
  engine.start();
  writer.start();

  // The manifests, then IPAM rebuilt from the rows we own, then the ports (run.ts order).
  const loaded = await loading;
  if (loaded.errors.length > 0) throw new Error(`manifest errors: ${loaded.errors[0]!.message}`);
  const ipam = new Ipam();
  ipam.setSubnets([...loaded.valid.subnets.values()]);
  const rebuilt = ipam.rebuild(ipamEntriesFromNb(client, owner));
  if (rebuilt.rejected.length > 0)
    throw new Error(`IPAM rebuild rejected ${rebuilt.rejected.length} entries`);
  const ports: PortAllocation[] = benchPorts.map((p) => {
    const a = ipam.allocate(p.subnet, p.name);
    return { subnet: p.subnet, name: p.name, ip: a.ip, mac: a.mac, owner: p.name };
  });
  const tBuild = performance.now();
  const report = buildNorthboundReport({ resources: loaded.valid, ports });
  const buildMs = performance.now() - tBuild;
  if (report.warnings.length > 0) throw new Error(`build warning: ${report.warnings[0]!.message}`);
  engine.setDesired(report.state, { complete: true });
  const tDesired = performance.now();

  // Converged: every desired row owned in the cache, and the engine idle after that.
  const allOwned = () => {
    const { desired, owned } = engine.counts();
    return Object.entries(desired).every(([t, n]) => owned[t] === n);
  };
  for (;;) {
    await engine.settled();
    if (allOwned() && engine.stats.passes > 0) {
      await engine.settled();
      if (allOwned()) break;
    }
    await delay(5);
  }
  const tConverged = performance.now();
  const health = engine.health();
  if (!health.healthy || engine.problems().length > 0) {
    throw new Error(
      `engine unhealthy or problems: ${health.lastError ?? JSON.stringify(engine.problems()[0])}`,
    );
  }
  emit({
    event: 'converged',
    seconds: (tConverged - t0) / 1000,
    phases: {
      syncSeconds: (tSynced - t0) / 1000,
      loadIpamSeconds: (tBuild - tSynced) / 1000,
      buildSeconds: buildMs / 1000,
      reconcileSeconds: (tConverged - tDesired) / 1000,
    },
    ipamRestored: rebuilt.restored,
    baselineRssMiB,
    desiredRows: [...report.state.values()].reduce((n, rows) => n + rows.size, 0),
    owned: engine.counts().owned,
    passes: engine.stats.passes,
    transactions: engine.stats.transactions,
    ops: engine.stats.ops,
    lastPass: engine.stats.last,
    recentPasses: engine.stats.recent,
  });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = line.trim();
    if (cmd === 'resync') {
      const before = { passes: engine.stats.passes, transactions: engine.stats.transactions };
      const t = performance.now();
      engine.trigger('resync');
      while (engine.stats.passes === before.passes) await engine.settled().then(() => delay(1));
      emit({
        event: 'resync',
        seconds: (performance.now() - t) / 1000,
        passes: engine.stats.passes - before.passes,
        transactions: engine.stats.transactions - before.transactions,
        pass: engine.stats.last,
      });
    } else if (cmd === 'dump') {
      const nbAddr = new Map<string, string>();
      for (const r of ownedRows(client.cache, 'Logical_Switch_Port', owner)) {
        nbAddr.set(r['name'] as string, ((r['addresses'] as string[])[0] ?? '') as string);
      }
      const out: Record<string, [string, string, string]> = {};
      for (const p of ports) out[p.name] = [p.ip, p.mac, nbAddr.get(p.name) ?? ''];
      emit({ event: 'dump', ports: out });
    } else if (cmd === 'stop') break;
  }
  await engine.stop();
  await writer.stop().catch(() => undefined);
  await client.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    emit({ event: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  },
);
