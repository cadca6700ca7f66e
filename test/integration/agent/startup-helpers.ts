/**
 * Helpers of the start/readiness/TLS tests of `createAgent`: a log recorder, and probes that
 * say from outside whether a failed agent left something behind (a held writer lock, a bound
 * port).
 */
import { connect } from 'node:net';
import { pino } from 'pino';
import type { Logger } from '../../../agent/log.js';
import type { OvsdbServerHandle } from '../../../agent/sandbox/ovsdb-server.js';
import { run } from '../../../agent/sandbox/process.js';
import { RpcConnection } from '../../../ovsdb/index.js';

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger (debug) whose records land in `lines`. */
export function recordingLogger(): { log: Logger; lines: LogRecord[]; messages(): string[] } {
  const lines: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogRecord) });
  return { log, lines, messages: () => lines.map((l) => l.msg) };
}

/**
 * Whether the server grants lock `name` to a fresh session at once (RFC 7047 §4.1.8: the reply
 * says `locked: true` only when nobody holds it). The probe session is closed again.
 */
export async function lockGrantedAtOnce(remote: string, name: string): Promise<boolean> {
  const conn = await RpcConnection.connect(remote, { probeIntervalMs: 0 });
  try {
    const reply = await conn.request<{ locked?: boolean }>('lock', [name]);
    return reply.locked === true;
  } finally {
    await conn.close();
  }
}

/** The connect error code of `host:port` (`ECONNREFUSED` when nothing listens), undefined if it accepts. */
export function connectError(address: string): Promise<string | undefined> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Number of records whose message matches `re`. */
export const count = (lines: LogRecord[], re: RegExp) => lines.filter((l) => re.test(l.msg)).length;

/** Open JSON-RPC sessions of `server` (`memory/show` lists `sessions:N` only when N > 0). */
export async function sessions(server: Pick<OvsdbServerHandle, 'ctlPath'>): Promise<number> {
  const out = (await run('ovs-appctl', ['-t', server.ctlPath, 'memory/show'])).stdout;
  return Number(/sessions:(\d+)/.exec(out)?.[1] ?? 0);
}
