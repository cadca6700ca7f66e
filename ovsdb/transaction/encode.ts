/**
 * `encodeTransaction` — checks every operation against the schema and produces the params of
 * the `transact` method (RFC 7047 §4.1.3: `[<db-name>, <operation>*]`) in one pass over the
 * operations. Nothing is sent when any check fails: the first problem is thrown as an
 * {@link OvsdbValidationError} naming the operation index, table and column.
 *
 * Checks mirror what ovsdb-server would reject (RFC 7047 §5.1, §5.2; ovsdb/condition.c and
 * ovsdb/mutation.c relax argument types the same way): unknown table/column/op, value type,
 * enum, range and length, set/map cardinality, `_uuid`/`_version` or immutable columns in
 * update/mutate, mutators and condition functions that do not apply to the column's type,
 * duplicate uuid-names and uuid-names referenced but declared by no insert (references may
 * precede the insert: ovsdb-server collects uuid-names before executing).
 */
import type { WireValue } from '../notation.js';
import { OvsdbValidationError } from './errors.js';
import type { Condition, Mutation, Operation } from './operations.js';
import {
  ID_RE,
  schemaPlan,
  type ColumnPlan,
  type TablePlan,
  type TablePlans,
  type TypePlan,
} from './plan.js';
import type { DatabaseSchema } from '../schema.js';
import { isUuid } from '../notation.js';

type WireRow = Record<string, WireValue>;
/** One operation on the wire (RFC 7047 §5.2). */
export type WireOperation = Record<string, unknown> & { op: string };
/** The params of `transact`: the database name, then the operations. */
export type TransactParams = [string, ...WireOperation[]];

const FUNCTIONS = new Set(['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes']);

/** State of one encoding pass. */
class Encoder {
  opIndex = 0;
  table: string | undefined;
  /**
   * The well-formed uuid-names the transaction's inserts carry, collected up front: a
   * reference may precede its insert (ovsdb-server collects uuid-names before executing,
   * RFC 7047 §5.2.1), and an undeclared one fails right where it is made.
   */
  readonly names = new Set<string>();
  /** Index of the first insert that repeats an earlier insert's uuid-name; -1 when none. */
  private readonly duplicateAt: number = -1;
  /** Index of the first insert whose uuid-name is not an <id> (RFC 7047 §3.1); -1 when none. */
  private readonly invalidNameAt: number = -1;
  private column = '';
  private sinkFn: ((name: string) => void) | undefined;

  constructor(
    private readonly tables: TablePlans,
    ops: readonly Operation[],
  ) {
    const names = this.names;
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i];
      if (o === null || typeof o !== 'object' || o.op !== 'insert') continue;
      const name = o.uuidName;
      if (name === undefined) continue;
      if (typeof name !== 'string' || !ID_RE.test(name)) {
        if (this.invalidNameAt < 0) this.invalidNameAt = i;
        continue;
      }
      if (names.has(name)) {
        if (this.duplicateAt < 0) this.duplicateAt = i;
      } else names.add(name);
    }
  }

  /** Checks each uuid-name reference a slow-path checker reports against {@link names}. */
  get sink(): (name: string) => void {
    return (this.sinkFn ??= (name) => {
      if (!this.names.has(name)) {
        this.fail(`uuid-name "${name}" is not declared by any insert in this transaction`, this.column);
      }
    });
  }

  fail(reason: string, column?: string): never {
    throw new OvsdbValidationError(this.opIndex, this.table, column, reason);
  }

  tablePlan(name: unknown): TablePlan {
    this.table = typeof name === 'string' ? name : undefined;
    const plan = typeof name === 'string' ? this.tables.get(name) : undefined;
    if (!plan) this.fail(`unknown table ${JSON.stringify(name)}`);
    return plan;
  }

  col(table: TablePlan, name: string): ColumnPlan {
    const c = table.columns.get(name);
    if (!c) this.fail(`unknown column "${name}"`, name);
    return c;
  }

  value(plan: TypePlan, column: string, v: unknown): WireValue {
    const fast = plan.fast === undefined ? undefined : plan.fast(v, this.names);
    return fast !== undefined ? fast : this.slow(plan, column, v);
  }

  /** Why `v` failed the fast path of `plan`, thrown; else its encoding by the general path. */
  slow(plan: TypePlan, column: string, v: unknown): WireValue {
    this.column = column;
    const why = plan.check(v, this.sink);
    if (why) this.fail(why, column);
    return plan.encode(v);
  }

  /**
   * Row of insert/update (`writable`: only mutable, no `_uuid`/`_version`) or of wait. One
   * loop over the row's own keys; the output starts as a copy of the row (same key order, so
   * each store replaces a value rather than adding a property) and each value is replaced by
   * its wire form.
   */
  row(table: TablePlan, row: unknown, mode: 'insert' | 'update' | 'wait'): WireRow {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) this.fail('row must be an object');
    const keys = Object.keys(row);
    const out: WireRow = {};
    const columns = table.columns;
    for (let i = 0; i < keys.length; i++) {
      const name = keys[i] as string;
      const c = columns.get(name);
      if (c === undefined) this.fail(`unknown column "${name}"`, name);
      if (mode !== 'wait' && (name === '_uuid' || name === '_version')) {
        this.fail(`column ${name} cannot be written`, name);
      }
      if (mode === 'update' && !c.mutable) this.fail('column is immutable', name);
      const plan = c.full;
      const v = (row as Record<string, unknown>)[name];
      const fast = plan.fast === undefined ? undefined : plan.fast(v, this.names);
      out[name] = fast !== undefined ? fast : this.slow(plan, name, v);
    }
    return out;
  }

  where(table: TablePlan, where: unknown): [string, string, WireValue][] {
    if (!Array.isArray(where)) this.fail('"where" must be an array of conditions');
    const out: [string, string, WireValue][] = new Array(where.length);
    for (let i = 0; i < where.length; i++) {
      const cond = where[i] as Condition;
      if (!Array.isArray(cond) || cond.length !== 3) this.fail(`malformed condition ${JSON.stringify(cond)}`);
      const [name, fn, v] = cond;
      const c = this.col(table, name);
      if (!FUNCTIONS.has(fn)) this.fail(`unknown condition function ${JSON.stringify(fn)}`, name);
      let plan: TypePlan;
      if (fn === 'includes') plan = c.includes;
      else if (fn === 'excludes') plan = c.excludes;
      else if (fn === '==' || fn === '!=') plan = c.full;
      else if (c.ordered) plan = c.full;
      else this.fail(`function "${fn}" does not apply to a column of this type`, name);
      out[i] = [name, fn, this.value(plan, name, v)];
    }
    return out;
  }

  mutations(table: TablePlan, mutations: unknown): [string, string, WireValue][] {
    if (!Array.isArray(mutations)) this.fail('"mutations" must be an array');
    const out: [string, string, WireValue][] = new Array(mutations.length);
    for (let i = 0; i < mutations.length; i++) {
      const m = mutations[i] as Mutation;
      if (!Array.isArray(m) || m.length !== 3) this.fail(`malformed mutation ${JSON.stringify(m)}`);
      const [name, mutator, v] = m;
      const c = this.col(table, name);
      if (!c.mutable) this.fail('column is immutable', name);
      let plan: TypePlan | undefined;
      switch (mutator) {
        case '+=':
        case '-=':
        case '*=':
        case '/=':
          plan = c.arith;
          break;
        case '%=':
          plan = c.mod ? c.arith : undefined;
          break;
        case 'insert':
          plan = c.insert;
          break;
        case 'delete':
          plan = c.deleteKeys && Array.isArray(v) ? c.deleteKeys : c.delete;
          break;
        default:
          this.fail(`unknown mutator ${JSON.stringify(mutator)}`, name);
      }
      if (!plan) this.fail(`mutator "${mutator}" does not apply to a column of this type`, name);
      out[i] = [name, mutator, this.value(plan, name, v)];
    }
    return out;
  }

  columns(table: TablePlan, columns: unknown): string[] {
    if (!Array.isArray(columns)) this.fail('"columns" must be an array of column names');
    const seen = new Set<string>();
    for (const name of columns as unknown[]) {
      if (typeof name !== 'string') this.fail(`column name ${JSON.stringify(name)} is not a string`);
      this.col(table, name);
      if (seen.has(name)) this.fail('column listed twice', name);
      seen.add(name);
    }
    return columns as string[];
  }

  op(o: Operation): WireOperation {
    this.table = undefined;
    switch (o.op) {
      case 'insert': {
        const t = this.tablePlan(o.table);
        const row = this.row(t, o.row, 'insert');
        const name = o.uuidName;
        if (name !== undefined) {
          if (this.opIndex === this.invalidNameAt) this.fail(`invalid uuid-name ${JSON.stringify(name)}`);
          if (this.opIndex === this.duplicateAt) this.fail(`duplicate uuid-name "${name}"`);
        }
        if (o.uuid === undefined) {
          return name === undefined
            ? { op: 'insert', table: o.table, row }
            : { op: 'insert', table: o.table, row, 'uuid-name': name };
        }
        if (typeof o.uuid !== 'string' || !isUuid(o.uuid))
          this.fail(`invalid uuid ${JSON.stringify(o.uuid)}`);
        const wire: WireOperation = { op: 'insert', table: o.table, row };
        if (name !== undefined) wire['uuid-name'] = name;
        wire['uuid'] = o.uuid;
        return wire;
      }
      case 'select': {
        const t = this.tablePlan(o.table);
        const wire: WireOperation = { op: 'select', table: o.table, where: this.where(t, o.where) };
        if (o.columns !== undefined) wire['columns'] = this.columns(t, o.columns);
        return wire;
      }
      case 'update': {
        const t = this.tablePlan(o.table);
        return {
          op: 'update',
          table: o.table,
          where: this.where(t, o.where),
          row: this.row(t, o.row, 'update'),
        };
      }
      case 'mutate': {
        const t = this.tablePlan(o.table);
        const where = this.where(t, o.where);
        return { op: 'mutate', table: o.table, where, mutations: this.mutations(t, o.mutations) };
      }
      case 'delete': {
        const t = this.tablePlan(o.table);
        return { op: 'delete', table: o.table, where: this.where(t, o.where) };
      }
      case 'wait': {
        const t = this.tablePlan(o.table);
        const wire: WireOperation = { op: 'wait', table: o.table, where: this.where(t, o.where) };
        wire['columns'] = this.columns(t, o.columns);
        if (o.until !== '==' && o.until !== '!=') this.fail('"until" must be "==" or "!="');
        wire['until'] = o.until;
        if (!Array.isArray(o.rows)) this.fail('"rows" must be an array');
        wire['rows'] = o.rows.map((r) => this.row(t, r, 'wait'));
        if (o.timeout !== undefined) {
          if (!Number.isInteger(o.timeout) || o.timeout < 0)
            this.fail('"timeout" must be a non-negative integer');
          wire['timeout'] = o.timeout;
        }
        return wire;
      }
      case 'commit':
        if (typeof o.durable !== 'boolean') this.fail('"durable" must be a boolean');
        return { op: 'commit', durable: o.durable };
      case 'abort':
        return { op: 'abort' };
      case 'comment':
        if (typeof o.comment !== 'string') this.fail('"comment" must be a string');
        return { op: 'comment', comment: o.comment };
      case 'assert':
        if (typeof o.lock !== 'string' || !ID_RE.test(o.lock))
          this.fail(`invalid lock name ${JSON.stringify(o.lock)}`);
        return { op: 'assert', lock: o.lock };
      default:
        this.fail(`unknown operation ${JSON.stringify((o as { op?: unknown }).op)}`);
    }
  }
}

/**
 * Validates `ops` against `schema` and returns the `transact` params `[dbName, ...ops]`.
 * @param dbName defaults to the schema's name.
 * @throws OvsdbValidationError for the first operation that does not fit the schema.
 */
export function encodeTransaction(
  schema: DatabaseSchema,
  dbName: string | undefined,
  ops: readonly Operation[],
): TransactParams {
  const enc = new Encoder(schemaPlan(schema).tables, ops);
  const n = ops.length;
  const params = new Array<unknown>(n + 1);
  params[0] = dbName ?? schema.name;
  for (let i = 0; i < n; i++) {
    enc.opIndex = i;
    params[i + 1] = enc.op(ops[i] as Operation);
  }
  return params as TransactParams;
}
