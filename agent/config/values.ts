/**
 * Parsers of the value types of the agent's configuration: durations and `host:port`
 * listen addresses. Pure; each throws a plain `Error` saying what is wrong with the text, and
 * the caller ({@link parseRunFlags} in ./flags.ts) names the flag.
 */
import { isIP } from 'node:net';

/** The longest delay `setTimeout` honours (a longer one fires at once). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * Milliseconds of `500ms`, `60s`, `1.5s`, `2m`, `1h`, or of a plain number of milliseconds
 * (`1500`). Fractions of a millisecond are rounded.
 * @throws Error on anything else, or on more than {@link MAX_DURATION_MS}.
 */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (use e.g. 500ms, 60s, 2m, 1h, or milliseconds)`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS]);
  if (ms > MAX_DURATION_MS)
    throw new Error(`"${text}" is too long (at most ${MAX_DURATION_MS} ms, ~24 days)`);
  return ms;
}

/** The shortest exact form of `ms` for help texts and logs: `60s`, `2m`, `250ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * Splits a listen address: `127.0.0.1:9090`, `[::1]:9090`, `localhost:9090`, or `:9090` for
 * 127.0.0.1. The port is required (0 = any free port).
 * @throws Error when the port is missing or not 0–65535, or the host is neither an IP address
 *   nor a host name.
 */
export function parseListenAddress(text: string): { host: string; port: number } {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new Error(`"${text}": unterminated "["`);
    host = s.slice(1, close);
    if (s[close + 1] !== ':') throw new Error(`"${text}" has no port (use [${host}]:PORT)`);
    portText = s.slice(close + 2);
    if (isIP(host) !== 6) throw new Error(`"${text}": ${host} is not an IPv6 address`);
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) throw new Error(`"${text}" has no port (use HOST:PORT, e.g. 127.0.0.1:9090)`);
    host = s.slice(0, i);
    portText = s.slice(i + 1);
    if (host.includes(':')) throw new Error(`"${text}": put an IPv6 address in brackets, e.g. [::1]:9090`);
    if (host === '') host = '127.0.0.1';
    else if (isIP(host) === 0 && (/^[\d.]+$/.test(host) || !HOST_NAME.test(host)))
      throw new Error(`"${text}": ${host} is not an IP address or host name`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw new Error(`"${text}": port "${portText}" is not a number from 0 to 65535`);
  return { host, port: Number(portText) };
}
