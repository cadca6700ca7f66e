/**
 * Errors of the host-networking layer. `netlink/` must not import `agent/`, so it has its own small
 * base class; like the OVSDB errors every error carries a stable `code` string so callers can branch
 * without `instanceof` chains.
 */
import { constants } from 'node:os';

/** Base of every error thrown by `netlink/`. */
export class HostNetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** What failed: the operation (e.g. `link.create`) and the object it was about, when there is one. */
export interface NetlinkErrorContext {
  op: string;
  /** Link name (or address/route/namespace text) the operation was about. */
  target?: string;
  /** Network namespace the request ran in (`undefined` = the agent's own). */
  netns?: string;
  /** Extra sentence appended to the message (e.g. why this kernel cannot do it). */
  hint?: string;
}

const errnoByName = constants.errno as Record<string, number>;
const nameByErrno = new Map(Object.entries(errnoByName).map(([k, v]) => [v, k]));

/** `ENODEV` → 19, `19` → 19; 0 when unknown. */
export function errnoNumber(nameOrNumber: string | number): number {
  if (typeof nameOrNumber === 'number') return Math.abs(nameOrNumber);
  if (/^-?\d+$/.test(nameOrNumber)) return Math.abs(Number(nameOrNumber));
  return errnoByName[nameOrNumber] ?? 0;
}

/** 19 → `ENODEV`; `E<n>` when the number is unknown to Node; `UNKNOWN` for 0 (no errno at all). */
export function errnoName(errno: number): string {
  if (errno === 0) return 'UNKNOWN';
  return nameByErrno.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/**
 * A kernel or system-call error: `errno` (positive) and its name, the operation and its target.
 * The code is `NETLINK_<ERRNO NAME>`, e.g. `NETLINK_EEXIST`.
 */
export class NetlinkError extends HostNetError {
  readonly errno: number;
  readonly errnoName: string;
  readonly op: string;
  readonly target: string | undefined;
  readonly netns: string | undefined;
  constructor(errno: number, ctx: NetlinkErrorContext, options?: { cause?: unknown }) {
    const name = errnoName(errno);
    const cause = options?.cause;
    const detail = errno === 0 && cause instanceof Error ? ` ${cause.message}` : '';
    const where = ctx.netns === undefined ? '' : ` in netns ${ctx.netns}`;
    const what = ctx.target === undefined ? '' : ` ${ctx.target}`;
    super(
      `NETLINK_${name}`,
      `${ctx.op}${what}${where}: ${name}${detail}${ctx.hint ? ` (${ctx.hint})` : ''}`,
      options,
    );
    this.errno = Math.abs(errno);
    this.errnoName = name;
    this.op = ctx.op;
    this.target = ctx.target;
    this.netns = ctx.netns;
  }
}

/** Bad input caught before anything is sent (malformed CIDR, MAC, name too long...). */
export class NetlinkInputError extends HostNetError {
  constructor(message: string) {
    super('NETLINK_INPUT', message);
  }
}

/** Errors of the missing-object family: deleting something already gone is success. */
export const GONE_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ENODEV', 'ESRCH', 'EADDRNOTAVAIL']);

/** True when `err` is a {@link NetlinkError} whose errno says the object does not exist. */
export function isGone(err: unknown): boolean {
  return err instanceof NetlinkError && GONE_ERRNOS.has(err.errnoName);
}

/**
 * Extracts an errno from what the npm `netlink` package throws: an `ErrnoException` (socket errors,
 * with `errno`) or `Error('Request rejected: ENODEV')` for an NLMSG_ERROR reply (RFC 3549 §2.3.2.2).
 * Returns 0 when there is none (timeouts, parse failures).
 */
export function errnoOf(err: unknown): number {
  if (typeof err !== 'object' || err === null) return 0;
  const e = err as { errno?: unknown; code?: unknown; message?: unknown };
  if (typeof e.errno === 'number' && e.errno !== 0) return Math.abs(e.errno);
  if (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) return errnoNumber(e.code);
  if (typeof e.message === 'string') {
    const m = /Request rejected: (E[A-Z0-9]+|-?\d+)/.exec(e.message);
    if (m?.[1]) return errnoNumber(m[1]);
  }
  return 0;
}

/** Wraps anything thrown by a request into a {@link NetlinkError} (no errno → `NETLINK_UNKNOWN`). */
export function toNetlinkError(err: unknown, ctx: NetlinkErrorContext): NetlinkError {
  if (err instanceof NetlinkError) return err;
  return new NetlinkError(errnoOf(err), ctx, { cause: err });
}
