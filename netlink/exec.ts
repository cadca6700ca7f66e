/**
 * The explicit fallback: iproute2 / ethtool / sysctl run through execa with argument arrays (never a
 * shell string). Used when koffi is unavailable (`defaultVia()`) or when asked with `{ via: 'exec' }`.
 * Failures become {@link NetlinkError}s; the errno is recovered from the tool's message where it says
 * which (e.g. "File exists"), else EIO.
 */
import { execa } from 'execa';
import { NetlinkError } from './errors.js';
import { netnsPath } from './setns.js';

export interface ExecContext {
  op: string;
  target?: string;
  /** Run inside this namespace (`ip netns exec NAME ...`). */
  netns?: string;
  /** Treat "File exists" as success. */
  okIfExists?: boolean;
}

/** Message fragments of iproute2/ethtool/sysctl → errno (<asm-generic/errno-base.h>). */
const MESSAGE_ERRNO: Array<[RegExp, number]> = [
  [/File exists/i, 17],
  [/No such file or directory/i, 2],
  [/Cannot find device|No such device/i, 19],
  [/Operation not supported|not supported/i, 95],
  [/Permission denied|Operation not permitted/i, 1],
  [/Invalid argument/i, 22],
];

/** errno named by a tool's stderr (EIO when none matches). */
export function errnoFromMessage(stderr: string): number {
  for (const [re, errno] of MESSAGE_ERRNO) if (re.test(stderr)) return errno;
  return 5;
}

/** Runs `file args` (inside `ctx.netns` when set); returns stdout. */
export async function execIn(file: string, args: readonly string[], ctx: ExecContext): Promise<string> {
  const [cmd, argv] =
    ctx.netns === undefined ? [file, args] : ['ip', ['netns', 'exec', ctx.netns, file, ...args]];
  const r = await execa(cmd, argv, { reject: false, stdin: 'ignore', timeout: 30_000 });
  if (r.exitCode === 0) return r.stdout;
  const errno = errnoFromMessage(r.stderr);
  if (errno === 17 && ctx.okIfExists) return r.stdout;
  const ctxOut = {
    op: ctx.op,
    hint: `${[cmd, ...argv].join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
  };
  throw new NetlinkError(errno, ctx.target === undefined ? ctxOut : { ...ctxOut, target: ctx.target });
}

/** `ip ARGS` in the agent's namespace. */
export function execIp(args: readonly string[], ctx: ExecContext): Promise<string> {
  return execIn('ip', args, ctx);
}

/**
 * `[cmd, argv]` that runs `file args` inside `netns`: a name (`/run/netns/NAME`) or a path
 * (`/proc/PID/ns/net`, `/var/run/netns/X`), entered with `nsenter --net=PATH` (util-linux), which
 * joins only the network namespace (`ip netns exec` also remounts /sys). `undefined`: here.
 */
export function commandIn(
  netns: string | undefined,
  file: string,
  args: readonly string[],
): [string, string[]] {
  return netns === undefined ? [file, [...args]] : ['nsenter', [`--net=${netnsPath(netns)}`, file, ...args]];
}
