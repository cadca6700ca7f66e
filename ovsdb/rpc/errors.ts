import { OvsdbError } from '../errors.js';

/**
 * The peer answered a request with a JSON-RPC error (RFC 7047 §4.1.1: a reply whose
 * `error` member is not null). ovsdb-server sends `{"error": <string>, "details"?: <string>}`
 * objects; unixctl servers send a bare string. `error` is the short error tag
 * (e.g. `"unknown database"`), `details` whatever the server added.
 */
export class OvsdbRpcError extends OvsdbError {
  /** The `error` tag as sent by the server (the string itself when the server sent a string). */
  readonly error: string;
  /** The `details` member, when the server sent one. */
  readonly details: unknown;
  /** The method of the failed request. */
  readonly method: string;
  constructor(method: string, wireError: unknown) {
    const { error, details } = normalizeWireError(wireError);
    const suffix = typeof details === 'string' ? `: ${details}` : '';
    super('OVSDB_RPC_ERROR', `${method}: ${error}${suffix}`);
    this.error = error;
    this.details = details;
    this.method = method;
  }
}

/**
 * The connection failed or went away. `code` is `OVSDB_DISCONNECTED` for requests that were
 * pending when the session dropped (or issued after it closed), `OVSDB_CONNECT_FAILED` when a
 * remote could not be reached, `OVSDB_PROBE_TIMEOUT` when the inactivity probe got no answer.
 */
export class OvsdbConnectionError extends OvsdbError {}

/** The peer sent bytes that are not a valid JSON-RPC 1.0 stream (`OVSDB_PROTOCOL_ERROR`, `OVSDB_MESSAGE_TOO_LARGE`). */
export class OvsdbProtocolError extends OvsdbError {}

/** A request got no reply within its `timeoutMs` (`OVSDB_TIMEOUT`). The connection stays open. */
export class OvsdbTimeoutError extends OvsdbError {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super('OVSDB_TIMEOUT', `${method}: no reply within ${timeoutMs} ms`);
  }
}

function normalizeWireError(wire: unknown): { error: string; details: unknown } {
  if (typeof wire === 'string') return { error: wire, details: undefined };
  if (wire !== null && typeof wire === 'object') {
    const o = wire as { error?: unknown; details?: unknown };
    const error = typeof o.error === 'string' ? o.error : JSON.stringify(wire);
    return { error, details: o.details };
  }
  return { error: JSON.stringify(wire), details: undefined };
}
