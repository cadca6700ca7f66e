/**
 * Errors of the port path, each with a stable `code`, the HTTP status the local API answers with
 * and, for bad input, the request field at fault.
 */
import { AgentError } from '../../errors.js';

/** `code` → HTTP status (agent/api maps errors with this). */
export const PORT_ERROR_STATUS = {
  /** A request field is missing or malformed. */
  BAD_REQUEST: 400,
  /** The network (NAD) or its subnet does not exist, or the port is unknown. */
  NOT_FOUND: 404,
  /** IPAM refused (address taken, excluded, exhausted, owner holds another) or a name clash. */
  CONFLICT: 409,
  /** Something failed on the node (OVS, netlink) — see `cause`. */
  INTERNAL: 500,
  /** This agent is not the NB writer, or node work is not configured. */
  UNAVAILABLE: 503,
  /** The LSP did not reach NB, or the Port_Binding did not come up here, in time. */
  TIMEOUT: 504,
} as const;

export type PortErrorKind = keyof typeof PORT_ERROR_STATUS;

export class PortError extends AgentError {
  readonly kind: PortErrorKind;
  /** The request field at fault (BAD_REQUEST). */
  readonly field: string | undefined;
  constructor(
    kind: PortErrorKind,
    code: string,
    message: string,
    opts: { field?: string; cause?: unknown } = {},
  ) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.field = opts.field;
  }

  get status(): number {
    return PORT_ERROR_STATUS[this.kind];
  }
}

/** A 400 naming `field`. */
export function badRequest(field: string, message: string): PortError {
  return new PortError('BAD_REQUEST', 'ERR_PORT_BAD_REQUEST', `${field}: ${message}`, { field });
}
