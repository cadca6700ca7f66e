/**
 * Client for OVS/OVN unixctl control sockets (`ovs-appctl`'s protocol, ovs-appctl(8)): each
 * command is a JSON-RPC 1.0 request whose method is the command name (`list-commands`,
 * `cluster/status`, `dpctl/show`, …) and whose params are its string arguments; the reply's
 * `result` is the command's text output, its `error` a string. Talks over the same
 * {@link RpcConnection} as OVSDB, so metrics can query daemons without spawning processes.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { OvsdbError } from './errors.js';
import { RpcConnection } from './rpc/connection.js';
import { OvsdbRpcError } from './rpc/errors.js';

/** A unixctl command failed (`OVSDB_UNIXCTL_ERROR`) or its socket could not be located (`OVSDB_UNIXCTL_NOT_FOUND`). */
export class UnixctlError extends OvsdbError {
  constructor(
    code: 'OVSDB_UNIXCTL_ERROR' | 'OVSDB_UNIXCTL_NOT_FOUND',
    message: string,
    /** The command that failed, when one was sent. */
    readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Options of {@link unixctl}. */
export interface UnixctlOptions {
  /** Fail with `OVSDB_TIMEOUT` after this long. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Runs one unixctl `command` with `args` on the control socket at `socketPath` (a path, or
 * `unix:PATH`) and returns its output text.
 * @throws UnixctlError (`OVSDB_UNIXCTL_ERROR`) when the daemon reports an error (unknown
 *   command, bad arguments, …); OvsdbConnectionError when the socket cannot be reached;
 *   OvsdbTimeoutError when there is no answer.
 */
export async function unixctl(
  socketPath: string,
  command: string,
  args: readonly string[] = [],
  options: UnixctlOptions = {},
): Promise<string> {
  const remote = socketPath.startsWith('unix:') ? socketPath : `unix:${socketPath}`;
  // unixctl servers send no probes and expect none (OVS disables probes on unix sockets).
  const conn = await RpcConnection.connect(remote, { probeIntervalMs: 0 });
  try {
    const result = await conn.request<unknown>(command, args, { timeoutMs: options.timeoutMs ?? 5000 });
    return typeof result === 'string' ? result : JSON.stringify(result);
  } catch (err) {
    if (err instanceof OvsdbRpcError) {
      throw new UnixctlError('OVSDB_UNIXCTL_ERROR', `${command}: ${err.error.trim()}`, command, {
        cause: err,
      });
    }
    throw err;
  } finally {
    await conn.close();
  }
}

/** One command of {@link unixctlBatch}. */
export interface UnixctlCommand {
  command: string;
  args?: readonly string[];
}

/** The outcome of one command of {@link unixctlBatch}: its output, or why it failed. */
export type UnixctlOutcome = { ok: true; output: string } | { ok: false; error: Error };

/**
 * Runs several unixctl commands over ONE connection to `socketPath`, all sent at once (the
 * daemon answers them in order), and returns one outcome per command, in order: a failed
 * command does not fail the others. A monitoring scrape thus costs one connect, not one per
 * command, and never a process.
 * @throws OvsdbConnectionError when the socket cannot be reached (no command was sent).
 */
export async function unixctlBatch(
  socketPath: string,
  commands: readonly UnixctlCommand[],
  options: UnixctlOptions = {},
): Promise<UnixctlOutcome[]> {
  const remote = socketPath.startsWith('unix:') ? socketPath : `unix:${socketPath}`;
  const conn = await RpcConnection.connect(remote, { probeIntervalMs: 0 });
  try {
    const timeoutMs = options.timeoutMs ?? 5000;
    return await Promise.all(
      commands.map(({ command, args = [] }) =>
        conn.request<unknown>(command, args, { timeoutMs }).then(
          (result): UnixctlOutcome => ({
            ok: true,
            output: typeof result === 'string' ? result : JSON.stringify(result),
          }),
          (err: unknown): UnixctlOutcome => ({
            ok: false,
            error:
              err instanceof OvsdbRpcError
                ? new UnixctlError('OVSDB_UNIXCTL_ERROR', `${command}: ${err.error.trim()}`, command, {
                    cause: err,
                  })
                : err instanceof Error
                  ? err
                  : new Error(String(err)),
          }),
        ),
      ),
    );
  } finally {
    await conn.close();
  }
}

/** Options of {@link findUnixctlSocket}. */
export interface FindUnixctlOptions {
  /** Run directory of the daemon (OVS_RUNDIR / OVN_RUNDIR), e.g. `/var/run/ovn`. */
  runDir: string;
  /** Pidfile path; default `<runDir>/<program>.pid`. */
  pidfile?: string;
}

/**
 * Locates the control socket of a daemon that names it after its PID, as ovn-controller and
 * ovs-vswitchd do by default: `<runDir>/<program>.<pid>.ctl`, the PID read from the pidfile
 * (the lookup `ovs-appctl -t <program>` performs, ovs-appctl(8) "-t").
 * @throws UnixctlError (`OVSDB_UNIXCTL_NOT_FOUND`) when the pidfile or socket is missing.
 */
export async function findUnixctlSocket(program: string, options: FindUnixctlOptions): Promise<string> {
  const pidfile = options.pidfile ?? path.join(options.runDir, `${program}.pid`);
  let pidText: string;
  try {
    pidText = await readFile(pidfile, 'utf8');
  } catch (err) {
    throw new UnixctlError(
      'OVSDB_UNIXCTL_NOT_FOUND',
      `${program}: cannot read pidfile ${pidfile}`,
      undefined,
      {
        cause: err,
      },
    );
  }
  const pid = Number.parseInt(pidText.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new UnixctlError('OVSDB_UNIXCTL_NOT_FOUND', `${program}: pidfile ${pidfile} holds no pid`);
  }
  const socket = path.join(options.runDir, `${program}.${pid}.ctl`);
  try {
    await access(socket);
  } catch (err) {
    throw new UnixctlError('OVSDB_UNIXCTL_NOT_FOUND', `${program}: no control socket ${socket}`, undefined, {
      cause: err,
    });
  }
  return socket;
}
