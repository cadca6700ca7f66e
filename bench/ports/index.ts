/**
 * The port benchmark: port add → ready on one node, our agent against
 * a shell-driven agent, each on its own fresh sandbox (1 node: NB, SB, northd, ovsdb-server,
 * ovs-vswitchd, ovn-controller), in the same run:
 *
 * - a warm-up port (not counted), then N ports one at a time (p50/p99 of each part: netns add,
 *   port — the API call or the shell commands, until the SB Port_Binding is up —, ping to the
 *   subnet gateway, and ready = all three), then a burst of N more ports all at once (ports/s
 *   until all bound, and until all pinged);
 * - the agent is `vpc-agent run` as its own process (./agent.ts), the peer one process per
 *   command (./shell.ts); both on the network of ./topology.ts.
 *
 * Results go to the console and `bench/results/ports-<date>.json`. Every namespace the bench
 * created is deleted, the agent stopped by PID, and each sandbox destroyed.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../agent/sandbox/process.js';
import { createSandbox, destroySandbox, type Sandbox } from '../../agent/sandbox/sandbox.js';
import { prepareRuntime, startAgentDriver, type AgentDriver, type AgentRuntime } from './agent.js';
import {
  addAndPing,
  createNetns,
  pingUntilReply,
  runBurst,
  runSequential,
  type PortDriver,
  type PortSpec,
  type PortTiming,
} from './measure.js';
import {
  formatComparison,
  formatSteps,
  summarizeBurst,
  summarizeSequential,
  type SideReport,
} from './report.js';
import { createShellDriver, SHELL_PROCESSES_PER_PORT } from './shell.js';
import { portSpecs, SUBNETS, writeManifests } from './topology.js';

export interface PortsBenchOptions {
  /** Ports per phase (sequential, then burst). */
  ports: number;
  /** `build` (default: tsc into dist/, node runs it), `dist` (existing dist/), `tsx`. */
  runtime: 'build' | 'dist' | 'tsx';
  /** JSON result file (default `bench/results/ports-<date>.json`); `false` = none. */
  out?: string | false;
  /** The command line, for the result file. */
  command: string;
  /** Also run the multi-node phase on this many nodes (0: skip). */
  nodes?: number;
}

const say = (s = '') => process.stdout.write(`${s}\n`);
const uptime = async () => (await promisify(execFile)('uptime', [])).stdout.trim();

/** Warm-up, sequential and burst phases on one side; `extra` adds side-specific figures. */
async function measureSide(
  driver: PortDriver,
  sandboxId: string,
  ports: number,
  warm: (spec: PortSpec) => Promise<PortTiming>,
  created: string[],
): Promise<Omit<SideReport, 'extra'>> {
  const [w] = portSpecs(sandboxId, 0, 1);
  created.push(w!.netns);
  const warmup = await warm(w!);
  say(`  ${driver.id}: warm-up port ready in ${warmup.readyMs.toFixed(1)} ms`);
  const seqSpecs = portSpecs(sandboxId, 1, ports);
  created.push(...seqSpecs.map((s) => s.netns));
  const seq = summarizeSequential(await runSequential(driver, seqSpecs));
  say(`  ${driver.id}: ${ports} sequential ports in ${seq.seconds.toFixed(1)} s`);
  const burstSpecs = portSpecs(sandboxId, 1 + ports, ports);
  created.push(...burstSpecs.map((s) => s.netns));
  const burst = summarizeBurst(await runBurst(driver, burstSpecs));
  say(
    `  ${driver.id}: burst of ${ports} bound in ${burst.boundSeconds.toFixed(1)} s, pinged in ${burst.seconds.toFixed(1)} s`,
  );
  return { id: driver.id, warmup, sequential: seq, burst };
}

/** Deletes the namespaces (a few `ip netns del` at a time); missing ones are fine. */
async function deleteNamespaces(names: readonly string[]): Promise<void> {
  const queue = [...names];
  const worker = async () => {
    for (let ns = queue.shift(); ns !== undefined; ns = queue.shift())
      await run('ip', ['netns', 'del', ns], { reject: false });
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** A fresh sandbox (1 node unless told) for `fn`, destroyed after it (with the namespaces `fn` recorded). */
async function onFreshSandbox<T>(
  label: string,
  fn: (sb: Sandbox, dir: string, created: string[]) => Promise<T>,
  nodes = 1,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `vpcb-${label}-`));
  const created: string[] = [];
  let sandbox: Sandbox | undefined;
  try {
    const t = performance.now();
    sandbox = await createSandbox({ stateDir: path.join(dir, 'sbx'), nodes });
    say(
      `  ${label}: fresh sandbox ${sandbox.state.id} up in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    return await fn(sandbox, dir, created);
  } finally {
    await deleteNamespaces(created);
    await destroySandbox(path.join(dir, 'sbx'));
    await rm(dir, { recursive: true, force: true });
  }
}

async function agentSide(runtime: AgentRuntime, ports: number): Promise<SideReport> {
  return onFreshSandbox('agent', async (sandbox, dir, created) => {
    const manifests = path.join(dir, 'manifests');
    await writeManifests(manifests);
    const { driver, addWarmup } = await startAgentDriver({ sandbox, manifests, dir, runtime });
    try {
      const warm = async (spec: PortSpec): Promise<PortTiming> => {
        const t0 = performance.now();
        await createNetns(spec.netns);
        const t1 = performance.now();
        const out = await addWarmup(spec);
        const t2 = performance.now();
        await pingUntilReply(spec.netns, spec.gateway);
        const t3 = performance.now();
        return { netnsMs: t1 - t0, portMs: t2 - t1, pingMs: t3 - t2, readyMs: t3 - t0, steps: out.steps };
      };
      const side = await measureSide(driver, sandbox.state.id, ports, warm, created);
      const mem = await driver.memory();
      return {
        ...side,
        extra: {
          runtime,
          pid: driver.pid,
          startSecondsToFirstPort: driver.startSeconds,
          rssMiB: Math.round((mem.rssKiB / 1024) * 10) / 10,
          hwmMiB: Math.round((mem.hwmKiB / 1024) * 10) / 10,
        },
      };
    } finally {
      await driver.stop();
    }
  });
}

/** The multi-node phase: one agent per node, every node adding its ports at the same time. */
export interface MultiNodeReport {
  nodes: number;
  portsPerNode: number;
  /** Each node adds its ports one at a time, all nodes at once: add → ready across all nodes. */
  sequential: ReturnType<typeof summarizeSequential>;
  /** Every node adds all its ports at once, all nodes together. */
  burst: ReturnType<typeof summarizeBurst>;
  /** Address claims lost to another node and retried (from the agents' logs). */
  claimRetries: number;
}

async function multiNodeSide(runtime: AgentRuntime, ports: number, nodes: number): Promise<MultiNodeReport> {
  return onFreshSandbox(
    'multi',
    async (sandbox, dir, created) => {
      const drivers: AgentDriver[] = [];
      const logs: string[] = [];
      try {
        const manifests = path.join(dir, 'manifests');
        await writeManifests(manifests);
        for (let n = 0; n < nodes; n++) {
          const node = `node${n + 1}`;
          const nodeDir = path.join(dir, node);
          await mkdir(nodeDir, { recursive: true });
          logs.push(path.join(nodeDir, 'agent.log'));
          const { driver, addWarmup } = await startAgentDriver({
            sandbox,
            manifests,
            dir: nodeDir,
            runtime,
            node,
          });
          drivers.push(driver);
          const [w] = portSpecs(sandbox.state.id, n * 10_000, 1);
          created.push(w!.netns);
          await createNetns(w!.netns);
          await addWarmup(w!);
        }
        const specsOf = (n: number, phase: number) =>
          portSpecs(sandbox.state.id, n * 10_000 + phase * 1_000 + 1, ports);
        for (let n = 0; n < nodes; n++)
          created.push(...[1, 2].flatMap((ph) => specsOf(n, ph).map((x) => x.netns)));
        const t0 = performance.now();
        const seqRuns = await Promise.all(drivers.map((d, n) => runSequential(d, specsOf(n, 1))));
        const seq = summarizeSequential({
          ports: ports * nodes,
          seconds: (performance.now() - t0) / 1000,
          timings: seqRuns.flatMap((r) => r.timings),
        });
        say(`  multi: ${nodes} nodes x ${ports} sequential ports in ${seq.seconds.toFixed(1)} s`);
        const t1 = performance.now();
        const burstRuns = await Promise.all(drivers.map((d, n) => runBurst(d, specsOf(n, 2))));
        const burst = summarizeBurst({
          ports: ports * nodes,
          seconds: (performance.now() - t1) / 1000,
          boundSeconds: Math.max(...burstRuns.map((r) => r.boundSeconds ?? r.seconds)),
          timings: burstRuns.flatMap((r) => r.timings),
        });
        say(`  multi: burst of ${nodes} x ${ports} bound in ${burst.boundSeconds.toFixed(1)} s`);
        let claimRetries = 0;
        for (const f of logs)
          claimRetries += (
            (await readFile(f, 'utf8').catch(() => '')).match(/claimed by another node/g) ?? []
          ).length;
        return { nodes, portsPerNode: ports, sequential: seq, burst, claimRetries };
      } finally {
        for (const d of drivers) await d.stop();
      }
    },
    nodes,
  );
}

async function shellSide(ports: number): Promise<SideReport> {
  return onFreshSandbox('shell', async (sandbox, _dir, created) => {
    const driver = await createShellDriver(sandbox);
    const warm = (spec: PortSpec) => addAndPing(driver, spec);
    const side = await measureSide(driver, sandbox.state.id, ports, warm, created);
    return {
      ...side,
      extra: { processesPerPort: SHELL_PROCESSES_PER_PORT, script: 'bench/ports/shell-attach.sh' },
    };
  });
}

/** Runs both sides and prints the comparison; resolves to false when a side failed. */
export async function runPortsBench(opts: PortsBenchOptions): Promise<boolean> {
  const loadBefore = await uptime();
  say(
    `ports bench: warm-up + ${opts.ports} sequential + ${opts.ports} burst ports per side, ` +
      `${SUBNETS.length} /16 subnets in one VPC, 1 node; ${os.cpus().length} CPUs`,
  );
  say(`load: ${loadBefore}`);
  try {
    const rt = await prepareRuntime(opts.runtime);
    say(`agent runtime: ${rt.runtime} (${rt.note})`);
    const ours = await agentSide(rt.runtime, opts.ports);
    const shell = await shellSide(opts.ports);
    const multi =
      (opts.nodes ?? 0) > 1 ? await multiNodeSide(rt.runtime, opts.ports, opts.nodes!) : undefined;
    const loadAfter = await uptime();
    say();
    say(formatComparison(ours, shell));
    say();
    say(formatSteps(ours));
    say(formatSteps(shell));
    say(
      `  agent: RSS ${String(ours.extra['rssMiB'])} MiB (peak ${String(ours.extra['hwmMiB'])}), ` +
        `first port served ${Number(ours.extra['startSecondsToFirstPort']).toFixed(2)} s after spawn; ` +
        `shell: ${Number(shell.extra['processesPerPort']).toFixed(0)} processes per port`,
    );
    if (multi) {
      const f = (x: number) => x.toFixed(1);
      say(
        `  ${multi.nodes} nodes concurrently (each ${multi.portsPerNode} sequential, then a burst of ${multi.portsPerNode} each):\n` +
          `    sequential add → ready p50 ${f(multi.sequential.readyMs.p50)} ms, p99 ${f(multi.sequential.readyMs.p99)} ms ` +
          `(1 node: p50 ${f(ours.sequential.readyMs.p50)}, p99 ${f(ours.sequential.readyMs.p99)})\n` +
          `    burst ${f(multi.burst.boundPortsPerSecond)} ports/s bound, ${f(multi.burst.readyPortsPerSecond)} ready ` +
          `(1 node: ${f(ours.burst.boundPortsPerSecond)} bound, ${f(ours.burst.readyPortsPerSecond)} ready); ` +
          `address claims retried: ${multi.claimRetries}`,
      );
    }
    say(`load: ${loadAfter}`);
    if (opts.out !== false) {
      const date = new Date().toISOString().slice(0, 10);
      const file = opts.out ?? path.resolve(import.meta.dirname, '..', 'results', `ports-${date}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      const result = {
        meta: {
          date: new Date().toISOString(),
          command: opts.command,
          workload: {
            portsPerPhase: opts.ports,
            subnets: SUBNETS.map((s) => `${s.prefix}.0.0/16`),
            nodes: 1,
            shellWait: 'ovn-sbctl wait-until Port_Binding <lsp> up=true',
            ping: 'ping -c 1 -i 0.01 -w 10 <subnet gateway> in the new namespace',
          },
          agentRuntime: rt,
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadBefore, loadAfter },
          versions: { node: process.version },
        },
        ours,
        shell,
        ...(multi ? { multiNode: multi } : {}),
        ratios: {
          ...(multi
            ? {
                multiSeqReadyP50VsOneNode: multi.sequential.readyMs.p50 / ours.sequential.readyMs.p50,
                multiSeqReadyP99VsOneNode: multi.sequential.readyMs.p99 / ours.sequential.readyMs.p99,
                multiBurstBoundVsOneNode: multi.burst.boundPortsPerSecond / ours.burst.boundPortsPerSecond,
              }
            : {}),
          seqReadyP50: ours.sequential.readyMs.p50 / shell.sequential.readyMs.p50,
          seqReadyP99: ours.sequential.readyMs.p99 / shell.sequential.readyMs.p99,
          seqPortP50: ours.sequential.portMs.p50 / shell.sequential.portMs.p50,
          burstBoundPortsPerSecond: ours.burst.boundPortsPerSecond / shell.burst.boundPortsPerSecond,
          burstReadyPortsPerSecond: ours.burst.readyPortsPerSecond / shell.burst.readyPortsPerSecond,
        },
      };
      await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
      say(`wrote ${path.relative(process.cwd(), file)}`);
    }
    return true;
  } catch (err) {
    say(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return false;
  }
}
