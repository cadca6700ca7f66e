/**
 * `transact` — validates and encodes operations, sends one `transact` request (RFC 7047
 * §4.1.3) and decodes the reply into per-operation results.
 *
 * Atomicity is the server's: a transaction either applies every operation or none, so on
 * any thrown {@link OvsdbTransactionError} the database is unchanged.
 */
import type { DatabaseSchema } from '../schema.js';
import { encodeTransaction } from './encode.js';
import { OvsdbTransactionError } from './errors.js';
import type { Operation, ResultsOf } from './operations.js';
import { decodeTransactResult } from './result.js';

/**
 * What `transact` needs from a connection (the shape of `RpcConnection`). A requester that
 * applies `opts.map`/`opts.mapError` itself on arrival (as `RpcConnection` does) says so with
 * `mapsResults`; for others `transact` maps in a `.then`.
 */
export interface Requester {
  request<T>(
    method: string,
    params: unknown[],
    opts?: { map?: (result: unknown) => T; mapError?: (err: Error) => unknown; timeoutMs?: number },
  ): Promise<T>;
  readonly mapsResults?: boolean;
}

export interface TransactOptions {
  /** Database name on the wire; defaults to the schema's name. */
  database?: string;
  /**
   * Replaces an error the server or connection produced (not a validation error) before it
   * is thrown, e.g. to turn "outcome unknown" errors into retryable ones. Applied in the same
   * handler that maps the reply, so it costs no extra promise per transaction.
   */
  mapError?: (err: unknown) => unknown;
  /**
   * Fail with `OvsdbTimeoutError` (`OVSDB_TIMEOUT`) when no reply arrives within this many ms.
   * The transaction may still commit afterwards: its outcome is unknown (`OvsdbClient` drops
   * the connection and reports `OVSDB_TRY_AGAIN`). Needs a requester that supports timeouts
   * (`RpcConnection`); default none.
   */
  timeoutMs?: number;
}

/** Request-level errors (a JSON-RPC error reply rather than a result array) that concern the transaction. */
function requestError(err: unknown): OvsdbTransactionError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const tag = (err as { error?: unknown }).error;
  if (tag !== 'unknown database') return undefined;
  const details = (err as { details?: unknown }).details;
  return new OvsdbTransactionError(
    -1,
    tag,
    typeof details === 'string' ? details : undefined,
    undefined,
    false,
    {
      cause: err,
    },
  );
}

/**
 * Runs `ops` as one transaction.
 * @throws OvsdbValidationError before sending when an operation does not fit the schema.
 * @throws OvsdbTransactionError when the server rejects the transaction (nothing applied).
 */
export function transact<const O extends readonly Operation[]>(
  rpc: Requester,
  schema: DatabaseSchema,
  ops: O,
  opts: TransactOptions = {},
): Promise<ResultsOf<O>> {
  // No async function: a transaction waiting for its reply then holds only what decoding needs
  // (`schema`, `ops`), not a suspended frame, which matters with thousands in flight.
  const mapError = opts.mapError;
  const onError = (err: unknown): unknown => {
    const e = requestError(err) ?? err;
    return mapError ? mapError(e) : e;
  };
  let params: unknown[];
  try {
    params = encodeTransaction(schema, opts.database, ops);
  } catch (err) {
    return Promise.reject(err as Error); // a validation error: nothing was sent
  }
  const decode = (result: unknown) => decodeTransactResult(schema, ops, result);
  try {
    const timeoutMs = opts.timeoutMs;
    if (rpc.mapsResults === true)
      return rpc.request('transact', params, { map: decode, mapError: onError, timeoutMs });
    const sent =
      timeoutMs === undefined
        ? rpc.request<unknown>('transact', params)
        : rpc.request<unknown>('transact', params, { timeoutMs });
    return sent.then(decode, (err: unknown) => {
      throw onError(err);
    });
  } catch (err) {
    return Promise.reject(onError(err) as Error); // a requester that throws instead of rejecting
  }
}
