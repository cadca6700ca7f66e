/**
 * Our side: `vpc-agent run` as its own process on sandbox node1 (as test/e2e/agent/ports.test.ts
 * runs it), ports added through its local API — HTTP over the unix socket with the product's
 * in-process client (`agent/api/client.ts`), i.e. what the CNI plugin does. `POST /v1/ports`
 * answers once the SB Port_Binding is up on this chassis; its `timings` (allocate, nb, veth,
 * ovs, bind) become the breakdown of the `port` part.
 *
 * Runtime: `node dist/agent/cli.js` after `tsc -p tsconfig.build.json` (what `npm run build`
 * runs), so the agent pays no TypeScript loader; if the build fails the bench falls back to
 * `node --import tsx agent/cli.ts` and says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { apiCall, ApiClientError } from '../../agent/api/client.js';
import type { PortResult } from '../../agent/node/ports/index.js';
import { delay, run } from '../../agent/sandbox/process.js';
import type { Sandbox } from '../../agent/sandbox/sandbox.js';
import type { PortDriver, PortOutcome, PortSpec } from './measure.js';
import { SUBNETS } from './topology.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DIST_CLI = path.join(ROOT, 'dist', 'agent', 'cli.js');

export type AgentRuntime = 'node dist' | 'tsx';

/** Builds dist/ (`npm run build`'s command); returns the runtime to use and why. */
export async function prepareRuntime(
  want: 'build' | 'dist' | 'tsx',
): Promise<{ runtime: AgentRuntime; note: string }> {
  if (want === 'tsx') return { runtime: 'tsx', note: 'asked for tsx' };
  if (want === 'build') {
    const t = performance.now();
    const r = await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { reject: false, timeoutMs: 300_000 });
    if (r.exitCode !== 0)
      return { runtime: 'tsx', note: `build failed, using tsx: ${(r.stdout || r.stderr).slice(0, 300)}` };
    const s = ((performance.now() - t) / 1000).toFixed(1);
    return { runtime: 'node dist', note: `built dist/ (tsc -p tsconfig.build.json, ${s} s)` };
  }
  if (!existsSync(DIST_CLI)) throw new Error(`${DIST_CLI} missing: run npm run build first`);
  return { runtime: 'node dist', note: 'existing dist/ (not rebuilt)' };
}

export interface AgentDriver extends PortDriver {
  readonly pid: number;
  /** Seconds from spawn until the first port could be served (API up and NB writer). */
  readonly startSeconds: number;
  memory(): Promise<{ rssKiB: number; hwmKiB: number }>;
  /** SIGTERM by PID, wait for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/**
 * `PORTS_BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the agent process;
 * `PORTS_BENCH_AGENT_LOG_LEVEL=info` keeps each port's timings in its log.
 */
const extraNodeArgs = () => (process.env['PORTS_BENCH_AGENT_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

/**
 * Starts the agent on node1 of `sandbox` with `manifests`; resolves once the warm-up port
 * (`warmup`, retried while the agent is not yet the NB writer) is ready.
 */
export async function startAgentDriver(opts: {
  sandbox: Sandbox;
  manifests: string;
  dir: string;
  runtime: AgentRuntime;
  /** Sandbox node (default node1). */
  node?: string;
}): Promise<{ driver: AgentDriver; addWarmup: (spec: PortSpec) => Promise<PortOutcome> }> {
  const { sandbox, dir } = opts;
  const node = sandbox.node(opts.node ?? 'node1');
  const socket = path.join(dir, 'agent.sock');
  const logFile = path.join(dir, 'agent.log');
  const entry =
    opts.runtime === 'node dist' ? [DIST_CLI] : ['--import', 'tsx', path.join(ROOT, 'agent', 'cli.ts')];
  const fd = openSync(logFile, 'a');
  const t0 = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...extraNodeArgs(),
      ...entry,
      'run',
      '--manifests',
      opts.manifests,
      '--nb',
      sandbox.state.nb!.db,
      '--sb',
      sandbox.state.sb!.db,
      '--ovs',
      node.ovsRemote,
      '--node',
      node.name,
      '--netns',
      node.netns,
      '--api-socket',
      socket,
      '--cni-socket',
      path.join(dir, 'cni.sock'),
      '--port-ready-timeout',
      '60000',
      '--log-level',
      process.env['PORTS_BENCH_AGENT_LOG_LEVEL'] ?? 'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail = async () => (await readFile(logFile, 'utf8').catch(() => '')).slice(-3000);

  async function addPort(spec: PortSpec): Promise<PortOutcome> {
    const res = await apiCall<PortResult>(
      'POST',
      '/v1/ports',
      { network: SUBNETS[spec.subnet]!.network, netns: spec.netns },
      { socket, timeoutMs: 300_000 },
    );
    const steps: Record<string, number> = {};
    for (const [k, v] of Object.entries(res.timings ?? {})) if (k !== 'total') steps[k] = v;
    return { ip: res.ip, steps };
  }

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  let startSeconds = NaN;
  /** The first port, retried while the socket is not there yet or the agent is not yet the NB writer. */
  const addWarmup = async (spec: PortSpec) => {
    const deadline = performance.now() + 120_000;
    for (;;) {
      try {
        const out = await addPort(spec);
        startSeconds = (performance.now() - t0) / 1000;
        return out;
      } catch (err) {
        const retry = err instanceof ApiClientError ? err.status === 503 : /cannot reach/.test(String(err));
        if (!retry || child.exitCode !== null || performance.now() > deadline) {
          await stop();
          throw new Error(`agent did not serve the warm-up port: ${String(err)}\n${await tail()}`);
        }
        await delay(100);
      }
    }
  };

  const driver: AgentDriver = {
    id: 'vpc-agent',
    pid: child.pid!,
    get startSeconds() {
      return startSeconds;
    },
    addPort,
    async memory() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
      return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
    },
    stop,
  };
  return { driver, addWarmup };
}
