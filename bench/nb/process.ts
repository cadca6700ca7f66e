/**
 * Runs `agent.ts` as a child process and speaks its line protocol: waits for `converged`,
 * sends `resync` / `dump` / `stop`, and samples its memory from `/proc/<pid>/status`
 * (proc(5): VmRSS, VmHWM) — the agent's own, not the runner's.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { OpCounts, PassReport } from '../../agent/nb/reconcile/index.js';

export interface Converged {
  event: 'converged';
  seconds: number;
  phases: { syncSeconds: number; loadIpamSeconds: number; buildSeconds: number; reconcileSeconds: number };
  ipamRestored: number;
  /** RSS after imports, before connecting. */
  baselineRssMiB: number;
  desiredRows: number;
  owned: Record<string, number>;
  passes: number;
  transactions: number;
  ops: OpCounts;
  lastPass: PassReport | undefined;
  recentPasses: PassReport[];
}

export interface Resync {
  event: 'resync';
  seconds: number;
  passes: number;
  transactions: number;
  pass: PassReport | undefined;
}

/** Port name → [IPAM ip, IPAM mac, NB `addresses[0]`]. */
export type PortDump = Record<string, [string, string, string]>;

export interface AgentProcess {
  pid: number;
  converged: Promise<Converged>;
  /** Seconds from spawn to the `converged` line (set once it arrived). */
  convergedAfterSpawnSeconds: number;
  memory(): Promise<{ rssKiB: number; hwmKiB: number }>;
  resync(): Promise<Resync>;
  dump(): Promise<PortDump>;
  /** Asks the agent to stop and waits for its exit. */
  stop(): Promise<void>;
  /** SIGKILL if still running (cleanup after a failure). */
  kill(): Promise<void>;
}

const AGENT = path.join(import.meta.dirname, 'agent.ts');

/** `NB_BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"` profiles the agent process. */
const extraNodeArgs = () => (process.env['NB_BENCH_AGENT_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

export async function startAgent(args: {
  nb: string;
  manifests: string;
  ports: string;
}): Promise<AgentProcess> {
  const t0 = performance.now();
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      ...extraNodeArgs(),
      '--import',
      'tsx',
      AGENT,
      '--nb',
      args.nb,
      '--manifests',
      args.manifests,
      '--ports',
      args.ports,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waiting = new Map<string, (v: unknown) => void>();
  let failed: ((err: Error) => void)[] = [];
  const fail = (err: Error) => {
    for (const f of failed) f(err);
    failed = [];
  };
  void exited.then((code) => fail(new Error(`agent exited (${code}) before answering; stderr: ${stderr}`)));
  createInterface({ input: child.stdout }).on('line', (l) => {
    let msg: { event?: string; message?: string };
    try {
      msg = JSON.parse(l) as typeof msg;
    } catch {
      return;
    }
    if (msg.event === 'error') fail(new Error(`agent: ${msg.message}`));
    const w = msg.event ? waiting.get(msg.event) : undefined;
    if (w) {
      waiting.delete(msg.event!);
      w(msg);
    }
  });
  const expect = <T>(event: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.set(event, resolve as (v: unknown) => void);
      failed.push(reject);
    });
  const ask = <T>(cmd: string, event: string): Promise<T> => {
    const p = expect<T>(event);
    child.stdin.write(`${cmd}\n`);
    return p;
  };

  const proc: AgentProcess = {
    pid: child.pid!,
    converged: expect<Converged>('converged').then((c) => {
      proc.convergedAfterSpawnSeconds = (performance.now() - t0) / 1000;
      return c;
    }),
    convergedAfterSpawnSeconds: NaN,
    async memory() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
      return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
    },
    resync: () => ask<Resync>('resync', 'resync'),
    dump: async () => (await ask<{ ports: PortDump }>('dump', 'dump')).ports,
    async stop() {
      child.stdin.end('stop\n');
      const code = await exited;
      if (code !== 0) throw new Error(`agent exited with ${code}; stderr: ${stderr}`);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  return proc;
}
