/**
 * The agent's logging: one pino root logger, one child per module (`{ module: 'ipam' }`),
 * errors under `err`. JSON lines on stderr by default (stdout is reserved for CLI output);
 * a small built-in human format only when asked (`pretty: true`) — no pino-pretty dependency.
 *
 * Children may be created at module load time, before `main` has read its options: they write
 * through a switchable sink and are re-levelled when {@link configureLogging} runs, so a later
 * configuration still reaches them.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LogOptions {
  /** pino level; default from `VPC_AGENT_LOG_LEVEL`, else `info`. */
  level?: string;
  /** Human-readable single lines instead of JSON. */
  pretty?: boolean;
  /** Where lines go; default stderr. Anything with `write(string)` (tests pass a collector). */
  destination?: { write(chunk: string): unknown };
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Resolves the level: explicit option, then `VPC_AGENT_LOG_LEVEL`, then `info`; rejects unknown names. */
export function resolveLevel(level?: string, env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const chosen = (level ?? env['VPC_AGENT_LOG_LEVEL'] ?? 'info').toLowerCase();
  if (!LEVELS.includes(chosen))
    throw new Error(`unknown log level ${JSON.stringify(chosen)} (use ${LEVELS.join('|')})`);
  return chosen as LevelWithSilent;
}

/** Formats one pino JSON line as `12:00:00.123 INFO  [ipam] message key=value`. */
export function formatPretty(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, module, msg, pid: _pid, hostname: _host, err, ...rest } = rec;
  const ts = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  const mod = typeof module === 'string' ? ` [${module}]` : '';
  const extras = Object.entries(rest).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  let out = `${ts} ${lvl}${mod} ${typeof msg === 'string' ? msg : ''}${extras.length ? ' ' + extras.join(' ') : ''}`;
  if (err && typeof err === 'object') {
    const e = err as { message?: string; stack?: string };
    out += `\n  ${e.stack ?? e.message ?? JSON.stringify(err)}`;
  }
  return out + '\n';
}

const stderrSink = { write: (s: string) => process.stderr.write(s) };
let sink: { write(chunk: string): unknown } = stderrSink;
let pretty = false;
const through = {
  write(chunk: string): void {
    sink.write(pretty ? formatPretty(chunk) : chunk);
  },
};

let root: Logger | undefined;
const children = new Map<string, Logger>();

function makeRoot(level: LevelWithSilent): Logger {
  return pino({ level, base: { pid: process.pid } }, through);
}

/** The root logger (created on first use from the environment). */
export function rootLogger(): Logger {
  root ??= makeRoot(resolveLevel());
  return root;
}

/**
 * (Re)configures logging for the whole process: level, format and destination. Existing child
 * loggers follow (same sink, new level).
 */
export function configureLogging(options: LogOptions = {}): Logger {
  const level = resolveLevel(options.level);
  sink = options.destination ?? stderrSink;
  pretty = options.pretty ?? false;
  const r = rootLogger();
  r.level = level;
  for (const child of children.values()) child.level = level;
  return r;
}

/** Child logger `{ module }`, one per module name (cached). */
export function childLogger(module: string): Logger {
  let child = children.get(module);
  if (!child) {
    child = rootLogger().child({ module });
    children.set(module, child);
  }
  return child;
}
