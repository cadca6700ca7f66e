/**
 * `decodeTransactResult` — turns the `transact` reply (RFC 7047 §4.1.3) into per-operation
 * results, or throws an {@link OvsdbTransactionError} for the first failure.
 *
 * The reply is an array with one element per operation: the result object of each operation
 * that ran, then (when one failed) an `{error, details}` object at the failed operation's index
 * and `null` for the operations after it. When every operation succeeded but the transaction
 * could not commit (e.g. "referential integrity violation", an index "constraint violation"),
 * the array has one extra element: the commit error. Either way nothing was applied.
 *
 * Results (RFC 7047 §5.2): insert → the new row's UUID; select → the rows, decoded by the
 * schema; update/mutate/delete → the number of rows matched; other operations → undefined.
 */
import { decodeDatum, type Datum } from '../notation.js';
import type { DatabaseSchema } from '../schema.js';
import { OvsdbBadReplyError, OvsdbTransactionError } from './errors.js';
import type { Operation, ResultsOf } from './operations.js';
import { schemaPlan, type TablePlan } from './plan.js';

interface WireError {
  error: string;
  details?: unknown;
  syntax?: unknown;
}

function isError(r: unknown): r is WireError {
  return typeof r === 'object' && r !== null && typeof (r as { error?: unknown }).error === 'string';
}

function txnError(r: WireError, opIndex: number, op: Operation | undefined, atCommit: boolean) {
  return new OvsdbTransactionError(
    opIndex,
    r.error,
    typeof r.details === 'string' ? r.details : undefined,
    op,
    atCommit,
    typeof r.syntax === 'string' ? { syntax: r.syntax } : undefined,
  );
}

function decodeRows(table: TablePlan, rows: unknown, opIndex: number): Record<string, Datum>[] {
  if (!Array.isArray(rows)) throw new OvsdbBadReplyError(`operation ${opIndex}: "rows" is not an array`);
  const out: Record<string, Datum>[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const wire = rows[i] as Record<string, unknown>;
    if (typeof wire !== 'object' || wire === null) {
      throw new OvsdbBadReplyError(`operation ${opIndex}: row ${i} is not an object`);
    }
    const row: Record<string, Datum> = {};
    for (const name in wire) {
      const c = table.columns.get(name);
      if (!c) throw new OvsdbBadReplyError(`operation ${opIndex}: unknown column "${name}" in ${table.name}`);
      row[name] = decodeDatum(c.schema.type, wire[name]);
    }
    out[i] = row;
  }
  return out;
}

/**
 * The error of a reply that is not a plain success: the first failed operation's (or the
 * commit's) {@link OvsdbTransactionError}, else an {@link OvsdbBadReplyError} for the first
 * result that does not have its operation's shape.
 */
function failure(schema: DatabaseSchema, ops: readonly Operation[], reply: readonly unknown[]): Error {
  const n = ops.length;
  for (let i = 0; i < reply.length; i++) {
    const r: unknown = reply[i];
    if (isError(r)) return txnError(r, i, i < n ? ops[i] : undefined, i >= n);
  }
  if (reply.length < n) {
    return new OvsdbBadReplyError(`transact reply has ${reply.length} result(s) for ${n} operation(s)`);
  }
  for (let i = 0; i < n; i++) {
    const op = ops[i] as Operation;
    const r = reply[i] as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null) {
      return new OvsdbBadReplyError(`operation ${i} (${op.op}): result is ${JSON.stringify(r)}`);
    }
    if (op.op === 'insert') {
      const u = r['uuid'];
      if (!Array.isArray(u) || u[0] !== 'uuid' || typeof u[1] !== 'string') {
        return new OvsdbBadReplyError(`operation ${i} (insert): bad "uuid" ${JSON.stringify(u)}`);
      }
    } else if (op.op === 'select') {
      const t = schemaPlan(schema).tables.get(op.table);
      if (!t) return new OvsdbBadReplyError(`operation ${i} (select): unknown table ${op.table}`);
      try {
        decodeRows(t, r['rows'], i);
      } catch (err) {
        return err as Error;
      }
    } else if (op.op === 'update' || op.op === 'mutate' || op.op === 'delete') {
      const count = r['count'];
      if (typeof count !== 'number') {
        return new OvsdbBadReplyError(`operation ${i} (${op.op}): bad "count" ${JSON.stringify(count)}`);
      }
    }
  }
  return new OvsdbBadReplyError('transact reply does not match its operations');
}

/**
 * Decodes the reply of a `transact` request made of `ops`.
 * @throws OvsdbTransactionError for the first failed operation, or the commit error.
 * @throws OvsdbBadReplyError when the reply does not have the RFC 7047 shape.
 */
export function decodeTransactResult<const O extends readonly Operation[]>(
  schema: DatabaseSchema,
  ops: O,
  reply: unknown,
): ResultsOf<O> {
  if (!Array.isArray(reply)) throw new OvsdbBadReplyError('transact reply is not an array');
  const n = ops.length;
  // The common reply, a result of the right shape for every operation, is checked in one pass;
  // anything else takes `failure`, which looks for errors first: results before a failed
  // operation are moot, nothing was applied. Select rows are decoded once no error is possible.
  if (reply.length < n) throw failure(schema, ops, reply);
  const results: unknown[] = new Array(n);
  let selects = false;
  for (let i = 0; i < n; i++) {
    const op = ops[i] as Operation;
    const r = reply[i] as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || typeof r['error'] === 'string')
      throw failure(schema, ops, reply);
    switch (op.op) {
      case 'insert': {
        const u = r['uuid'];
        if (!Array.isArray(u) || u[0] !== 'uuid' || typeof u[1] !== 'string')
          throw failure(schema, ops, reply);
        results[i] = u[1];
        break;
      }
      case 'select':
        selects = true;
        break;
      case 'update':
      case 'mutate':
      case 'delete':
        if (typeof r['count'] !== 'number') throw failure(schema, ops, reply);
        results[i] = r['count'];
        break;
      default:
        results[i] = undefined;
    }
  }
  for (let i = n; i < reply.length; i++) if (isError(reply[i])) throw failure(schema, ops, reply);
  if (selects) {
    const tables = schemaPlan(schema).tables;
    for (let i = 0; i < n; i++) {
      const op = ops[i] as Operation;
      if (op.op !== 'select') continue;
      const t = tables.get(op.table);
      if (!t) throw new OvsdbBadReplyError(`operation ${i} (select): unknown table ${op.table}`);
      results[i] = decodeRows(t, (reply[i] as Record<string, unknown>)['rows'], i);
    }
  }
  return results as ResultsOf<O>;
}
