/**
 * Errors of transactions: {@link OvsdbValidationError} (an operation does not fit the schema;
 * raised before anything is sent) and {@link OvsdbTransactionError} (the server rejected the
 * transaction; RFC 7047 §4.1.3 and §5.2 error strings mapped to stable codes).
 */
import { OvsdbError } from '../errors.js';
import type { Operation } from './operations.js';

/**
 * An operation does not fit the schema (unknown table/column, wrong type, enum or range,
 * immutable column, bad mutator or condition function, duplicate or undeclared uuid-name).
 * Thrown by `encodeTransaction` before anything is sent.
 */
export class OvsdbValidationError extends OvsdbError {
  constructor(
    /** Index of the offending operation in the transaction. */
    readonly opIndex: number,
    readonly table: string | undefined,
    readonly column: string | undefined,
    /** What is wrong, without the location prefix. */
    readonly reason: string,
  ) {
    const where = [table && `table ${table}`, column && `column ${column}`].filter(Boolean).join(', ');
    super('OVSDB_TXN_INVALID', `operation ${opIndex}${where ? ` (${where})` : ''}: ${reason}`);
  }
}

/**
 * Stable codes for the RFC 7047 error strings (§4.1.3, §5.2) and ovsdb-server's additions
 * (ovsdb-server(7)). Unknown strings map to `OVSDB_TXN_FAILED`.
 */
export const TxnErrorCode = {
  'referential integrity violation': 'OVSDB_TXN_REFERENTIAL_INTEGRITY',
  'constraint violation': 'OVSDB_TXN_CONSTRAINT_VIOLATION',
  'resources exhausted': 'OVSDB_TXN_RESOURCES_EXHAUSTED',
  'I/O error': 'OVSDB_TXN_IO_ERROR',
  'duplicate uuid-name': 'OVSDB_TXN_DUPLICATE_UUID_NAME',
  'duplicate uuid': 'OVSDB_TXN_DUPLICATE_UUID',
  'domain error': 'OVSDB_TXN_DOMAIN_ERROR',
  'range error': 'OVSDB_TXN_RANGE_ERROR',
  'timed out': 'OVSDB_TXN_TIMED_OUT',
  'not supported': 'OVSDB_TXN_NOT_SUPPORTED',
  aborted: 'OVSDB_TXN_ABORTED',
  'not owner': 'OVSDB_TXN_NOT_OWNER',
  'unknown database': 'OVSDB_TXN_UNKNOWN_DATABASE',
  'syntax error': 'OVSDB_TXN_SYNTAX_ERROR',
  'unknown column': 'OVSDB_TXN_SYNTAX_ERROR',
  'unknown function': 'OVSDB_TXN_SYNTAX_ERROR',
  'unknown mutator': 'OVSDB_TXN_SYNTAX_ERROR',
  'not allowed': 'OVSDB_TXN_NOT_ALLOWED',
  'permission error': 'OVSDB_TXN_PERMISSION_DENIED',
  'cluster error': 'OVSDB_TXN_CLUSTER_ERROR',
} as const satisfies Record<string, string>;

export type TxnErrorCode = (typeof TxnErrorCode)[keyof typeof TxnErrorCode] | 'OVSDB_TXN_FAILED';

/** Maps an RFC 7047 error string to its stable code. */
export function txnErrorCode(error: string): TxnErrorCode {
  return Object.prototype.hasOwnProperty.call(TxnErrorCode, error)
    ? TxnErrorCode[error as keyof typeof TxnErrorCode]
    : 'OVSDB_TXN_FAILED';
}

/**
 * The server rejected a transaction. Per RFC 7047 §4.1.3 nothing of it was applied.
 *
 * - an operation failed: `opIndex` is its index and `op` the operation;
 * - every operation succeeded but the commit failed (the reply's extra element, e.g.
 *   "referential integrity violation" or an index "constraint violation"):
 *   `atCommit` is true, `opIndex` is `ops.length` and `op` is undefined;
 * - the whole request was refused (e.g. "unknown database"): `opIndex` is -1.
 */
export class OvsdbTransactionError extends OvsdbError {
  declare readonly code: TxnErrorCode;
  constructor(
    readonly opIndex: number,
    /** The RFC 7047 error string, e.g. "constraint violation". */
    readonly error: string,
    /** The server's `details`, when given. */
    readonly details: string | undefined,
    readonly op: Operation | undefined,
    readonly atCommit: boolean,
    options?: { cause?: unknown; syntax?: string },
  ) {
    const where = opIndex < 0 ? 'transaction' : atCommit ? 'commit' : `operation ${opIndex} (${op?.op})`;
    super(txnErrorCode(error), `${where}: ${error}${details ? `: ${details}` : ''}`, options);
    this.syntax = options?.syntax;
  }
  /** ovsdb-server's `syntax` member: the JSON it could not accept. */
  readonly syntax: string | undefined;
}

/** The server's reply does not have the shape RFC 7047 §4.1.3 prescribes. */
export class OvsdbBadReplyError extends OvsdbError {
  constructor(message: string) {
    super('OVSDB_TXN_BAD_REPLY', message);
  }
}
