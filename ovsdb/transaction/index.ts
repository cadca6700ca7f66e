/** OVSDB transactions (RFC 7047 §4.1.3, §5.1, §5.2): builders, validation/encoding, results. */
export * from './operations.js';
export { encodeTransaction, type TransactParams, type WireOperation } from './encode.js';
export { decodeTransactResult } from './result.js';
export { transact, type Requester, type TransactOptions } from './transact.js';
export {
  OvsdbBadReplyError,
  OvsdbTransactionError,
  OvsdbValidationError,
  TxnErrorCode,
  txnErrorCode,
} from './errors.js';
