/**
 * The peers of the OVSDB benchmark and how one peer phase is run as its own process:
 * spawn, wait for `ready`, sample baseline memory, send `go`, read the result, sample memory
 * of the loaded client from `/proc/<pid>/status` (proc(5): VmRSS, VmHWM), close stdin.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { peerArgv, type PeerArgs, type PeerResult, type Phase } from './protocol.js';

const PEERS_DIR = path.join(import.meta.dirname, 'peers');
/** Debian's interpreter, where python3-openvswitch / python3-ovsdbapp live (not a pyenv shim). */
const PYTHON = '/usr/bin/python3';
/** Node peers: the same loader for both; `--expose-gc` for the collection before memory is sampled. */
const node = (file: string) => [
  process.execPath,
  '--expose-gc',
  '--import',
  'tsx',
  path.join(PEERS_DIR, file),
];

export interface PeerSpec {
  id: string;
  label: string;
  /** argv prefix; peer arguments are appended. */
  command: string[];
  /** Phases the peer offers (others print "n/a"). */
  phases: readonly Phase[];
}

export const PEERS: readonly PeerSpec[] = [
  { id: 'raw', label: 'raw client (Node)', command: node('raw.ts'), phases: ['seq', 'pipe', 'sync'] },
  {
    id: 'python-idl',
    label: 'OVS Python IDL',
    command: [PYTHON, path.join(PEERS_DIR, 'python_idl.py')],
    phases: ['seq', 'pipe', 'sync'],
  },
  {
    id: 'ovsdbapp',
    label: 'ovsdbapp',
    command: [PYTHON, path.join(PEERS_DIR, 'ovsdbapp_peer.py')],
    phases: ['seq', 'sync'],
  },
  {
    id: 'ovn-nbctl',
    label: 'ovn-nbctl daemon',
    command: [PYTHON, path.join(PEERS_DIR, 'ovn_nbctl.py')],
    phases: ['seq', 'sync'],
  },
  {
    id: 'vpc-agent',
    label: 'vpc-agent (ours)',
    command: node('vpc-agent.ts'),
    phases: ['seq', 'pipe', 'sync'],
  },
  {
    id: 'vpc-agent-layers',
    label: 'vpc-agent layers',
    command: node('vpc-agent-layers.ts'),
    phases: ['seq', 'pipe', 'sync'],
  },
];

/** CPU time (user + system, in clock ticks) of a process and all its threads, from `/proc/<pid>/stat`. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // proc(5): fields after the parenthesised command; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Waits until a peer that printed `ready` has gone quiet: no CPU used over two consecutive
 * 100 ms samples (at most 3 s). A Node peer is still compiling on background threads right
 * after its imports (the TypeScript loader's own code is being optimised); starting the timed
 * phase then would charge that to whichever peer loaded more modules. Every peer gets the same
 * wait.
 */
async function waitIdle(pid: number): Promise<void> {
  const deadline = performance.now() + 3000;
  let last = await cpuTicks(pid);
  let quiet = 0;
  while (quiet < 2 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await cpuTicks(pid);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

/** Memory figures from `/proc/<pid>/status`, in KiB. */
export interface ProcMemory {
  rssKiB: number;
  hwmKiB: number;
}

export async function procMemory(pid: number): Promise<ProcMemory> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** One phase of one peer, as measured. */
export type PhaseOutcome =
  | { status: 'ok'; result: PeerResult; baseline?: ProcMemory; end: ProcMemory }
  | { status: 'unavailable'; message: string };

/** Runs one peer phase to completion; throws when the peer fails or its output is malformed. */
export async function runPeerPhase(
  peer: PeerSpec,
  args: PeerArgs,
  timeoutMs = 600_000,
): Promise<PhaseOutcome> {
  const [cmd, ...pre] = peer.command as [string, ...string[]];
  const child = spawn(cmd, [...pre, ...peerArgv(args)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, VPC_AGENT_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const next = async (): Promise<{ event: string } & Record<string, unknown>> => {
      for (;;) {
        const { value, done } = await lines.next();
        if (done)
          throw new Error(`${peer.id} ${args.phase}: exited early (${await exited}): ${stderr.trim()}`);
        const line = String(value).trim();
        if (line.startsWith('{')) return JSON.parse(line) as { event: string };
      }
    };
    const first = await next();
    if (first.event === 'unavailable') {
      child.stdin.end();
      await exited;
      return { status: 'unavailable', message: String(first['message']) };
    }
    expectEvent(first, 'ready', peer, args, stderr);
    await waitIdle(child.pid!);
    const baseline = await procMemory(child.pid!);
    child.stdin.write('go\n');
    const result = await next();
    expectEvent(result, 'result', peer, args, stderr);
    const end = await procMemory((result['measurePid'] as number | undefined) ?? child.pid!);
    child.stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`${peer.id} ${args.phase}: exit ${code}: ${stderr.trim()}`);
    return {
      status: 'ok',
      result: result as unknown as PeerResult,
      ...(result['measurePid'] === undefined ? { baseline } : {}),
      end,
    };
  } finally {
    clearTimeout(timer);
    stopChild(child);
  }
}

function expectEvent(
  msg: { event: string } & Record<string, unknown>,
  want: string,
  peer: PeerSpec,
  args: PeerArgs,
  stderr: string,
): void {
  if (msg.event === want) return;
  const detail = msg.event === 'error' ? String(msg['message']) : JSON.stringify(msg);
  throw new Error(`${peer.id} ${args.phase}: ${detail}\n${stderr.trim()}`);
}

/** Kills our own child by PID if it is still running (never anything else). */
function stopChild(child: ChildProcessWithoutNullStreams): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
