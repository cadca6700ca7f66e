/**
 * Process utilities for the local OVN sandbox: running tools, waiting for readiness,
 * stopping daemons by PID, picking free TCP ports.
 *
 * Every external command goes through {@link run} with an argument array (never a
 * shell string). Daemons started with `--detach --pidfile` are re-parented to init,
 * so liveness is judged from `/proc/<pid>/stat` (a zombie counts as dead: proc(5),
 * field 3 "state"), never from `kill -0` alone.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import net from 'node:net';
import { execa } from 'execa';

/** Result of a finished command. */
export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Extra environment variables (merged over `process.env`). */
  env?: Record<string, string>;
  /** Run inside this network namespace (`ip netns exec <ns> ...`). */
  netns?: string;
  /** Kill the command after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  reject?: boolean;
  /** Data written to the command's stdin. */
  input?: string;
}

/** A command that exited non-zero (or could not start). */
export class CommandError extends Error {
  readonly code = 'SANDBOX_COMMAND_FAILED';
  constructor(
    readonly command: string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`command failed (${exitCode ?? 'no exit code'}): ${command.join(' ')}: ${stderr.trim()}`, options);
    this.name = 'CommandError';
  }
}

/**
 * Runs `cmd args...` (optionally inside a network namespace) and returns its output.
 * Throws {@link CommandError} on a non-zero exit unless `reject: false`.
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, cmd, ...args] : [cmd, ...args];
  const [file, ...rest] = argv as [string, ...string[]];
  const res = await execa(file, rest, {
    env: opts.env,
    extendEnv: true,
    reject: false,
    timeout: opts.timeoutMs ?? 30_000,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    stripFinalNewline: true,
    // No exit/signal hooks (signal-exit): they would kill an in-flight daemon launch on
    // SIGINT and may re-raise the signal, defeating the CLI's own interrupt teardown.
    cleanup: false,
  });
  const out: RunResult = {
    stdout: String(res.stdout ?? ''),
    stderr: String(res.stderr ?? ''),
    exitCode: res.exitCode ?? -1,
  };
  if (out.exitCode !== 0 && opts.reject !== false) {
    throw new CommandError(argv, res.exitCode, out.stderr || String(res.message ?? ''), { cause: res.cause });
  }
  return out;
}

/**
 * True if the process exists and is not a zombie/dead entry.
 * Reads the state letter after the parenthesised comm in `/proc/<pid>/stat` (proc(5)).
 */
export async function isAlive(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

/** Resolves after `ms` milliseconds. Used only as the poll interval of {@link waitUntil}. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options for {@link waitUntil}. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Described in the timeout error. */
  what: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, or throws after
 * `timeoutMs` (default 30 s). Exceptions from `check` count as "not yet" and the last one
 * becomes the timeout error's cause.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const interval = opts.intervalMs ?? 50;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out waiting for ${opts.what}`, { cause: lastErr });
    }
    await delay(interval);
  }
}

/**
 * Stops a process by PID: SIGTERM, then SIGKILL after `graceMs` (default 5 s), then waits
 * until it is gone or a zombie. Already-dead PIDs (ESRCH) are success. Idempotent.
 */
export async function stopPid(pid: number, graceMs = 5_000): Promise<void> {
  if (!(await isAlive(pid))) return;
  signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return;
    await delay(25);
  }
  signalPid(pid, 'SIGKILL');
  await waitUntil(async () => !(await isAlive(pid)), {
    what: `pid ${pid} to die after SIGKILL`,
    timeoutMs: 5_000,
  });
}

/** Sends a signal, treating "no such process" as success. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Reads a `--pidfile` written by an OVS/OVN daemon. */
export async function readPidFile(path: string): Promise<number> {
  const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bad pid file ${path}`);
  return pid;
}

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it for a
 * listen on port 0). Callers must verify that their daemon really bound it
 * ({@link listeningTcpPorts}) and retry otherwise: another process may take it first.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('could not obtain a free port'));
      });
    });
  });
}

/**
 * TCP ports on which process `pid` has a listening socket, in its own network namespace:
 * the socket inodes of `/proc/<pid>/fd` matched against LISTEN (state 0A) rows of
 * `/proc/<pid>/net/tcp` and `tcp6` (proc(5)).
 */
export async function listeningTcpPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1]) inodes.add(m[1]);
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9] ?? '')) continue;
      const port = Number.parseInt(f[1]?.split(':')[1] ?? '', 16);
      if (Number.isInteger(port)) ports.push(port);
    }
  }
  return ports;
}

/**
 * A veth pair: `name` in namespace `netns`, its peer `peerName` created straight in `peerNetns`
 * (both down; the caller addresses and raises them).
 */
export async function addVethPair(
  netns: string,
  name: string,
  peerNetns: string,
  peerName: string,
): Promise<void> {
  await run('ip', [
    '-n',
    netns,
    'link',
    'add',
    name,
    'type',
    'veth',
    'peer',
    'name',
    peerName,
    'netns',
    peerNetns,
  ]);
}
