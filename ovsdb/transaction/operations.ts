/**
 * Transaction operations — RFC 7047 §5.2 — in their in-memory form, and builders that
 * return them. Nothing here talks to a server or knows the schema: `encodeTransaction`
 * checks operations against the schema and turns values into wire notation.
 *
 * Values are in-memory column values (see `ovsdb/notation.ts`): a uuid column holds a UUID
 * string, or a uuid-name declared by an `insert` of the same transaction (it is sent as
 * `["named-uuid", name]`).
 *
 * Typed use: `const nbOps = ops<nb.Tables>()` gives the same builders with table names,
 * columns and values checked by TypeScript against the generated models. The plain exports
 * (`insert`, `select`, …) are the untyped path.
 */

/** RFC 7047 §5.1 <function>. */
export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
/** RFC 7047 §5.1 <mutator>. */
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';

/** Any row-like object; the constraint of the typed path. */
export type RowLike = object;
/** Table name → row type, e.g. the generated `Tables` of `ovsdb/models/ovn-nb.ts`. */
export type TablesLike = object;
/** The untyped schema: any table, any column. */
export type AnyTables = Record<string, Record<string, unknown>>;

type ColumnOf<R> = Extract<keyof R, string>;
type Element<V> = V extends readonly (infer E)[] ? E : V extends Record<string, infer E> ? E : V;
type MapKeys<V> = V extends readonly unknown[] ? never : V extends Record<string, unknown> ? string[] : never;

/** A condition value: the column's own type, or for sets/optionals a single element. */
export type ConditionValue<V> = V | Exclude<Element<V>, undefined>;
/** RFC 7047 §5.1 <condition>: `[column, function, value]`. */
export type Condition<R = Record<string, unknown>> = {
  [C in ColumnOf<R> | '_uuid']: readonly [
    C,
    ConditionFunction,
    C extends keyof R ? ConditionValue<R[C]> : string,
  ];
}[ColumnOf<R> | '_uuid'];

/**
 * RFC 7047 §5.1 <mutation>: `[column, mutator, value]`. Arithmetic mutators take one number;
 * `insert` takes a set/map (or one element); `delete` on a map also takes a list of keys.
 */
export type Mutation<R = Record<string, unknown>> = {
  [C in ColumnOf<R>]: readonly [C, Mutator, ConditionValue<R[C]> | MapKeys<R[C]>];
}[ColumnOf<R>];

/** Columns an insert/update may set: everything but `_uuid`/`_version`, all optional. */
export type RowInput<R> = { [C in Exclude<ColumnOf<R>, '_uuid' | '_version'>]?: R[C] };

/** A select may return any subset of the columns plus `_uuid` and `_version`. */
export type SelectedRow<R> = Partial<R> & { _uuid?: string; _version?: string };

export interface InsertOp<N extends string = string, R = Record<string, unknown>> {
  readonly op: 'insert';
  readonly table: N;
  readonly row: RowInput<R>;
  /** RFC 7047 §5.2.1 uuid-name: lets later (or earlier) operations refer to the new row. */
  readonly uuidName?: string;
  /** ovsdb-server extension (ovsdb-server(7) "insert"): the UUID to give the new row. */
  readonly uuid?: string;
}
export interface SelectOp<N extends string = string, R = Record<string, unknown>> {
  readonly op: 'select';
  readonly table: N;
  readonly where: readonly Condition<R>[];
  readonly columns?: readonly (ColumnOf<R> | '_uuid' | '_version')[];
  /** Phantom: the row type of the result. Never set. */
  readonly __row?: R;
}
export interface UpdateOp<N extends string = string, R = Record<string, unknown>> {
  readonly op: 'update';
  readonly table: N;
  readonly where: readonly Condition<R>[];
  readonly row: RowInput<R>;
}
export interface MutateOp<N extends string = string, R = Record<string, unknown>> {
  readonly op: 'mutate';
  readonly table: N;
  readonly where: readonly Condition<R>[];
  readonly mutations: readonly Mutation<R>[];
}
export interface DeleteOp<N extends string = string, R = Record<string, unknown>> {
  readonly op: 'delete';
  readonly table: N;
  readonly where: readonly Condition<R>[];
}
export interface WaitOp<N extends string = string, R = Record<string, unknown>> {
  readonly op: 'wait';
  readonly table: N;
  readonly where: readonly Condition<R>[];
  readonly columns: readonly (ColumnOf<R> | '_uuid' | '_version')[];
  readonly until: '==' | '!=';
  readonly rows: readonly Partial<R>[];
  /** Milliseconds; 0 fails at once if the condition does not hold (RFC 7047 §5.2.6). */
  readonly timeout?: number;
}
export interface CommitOp {
  readonly op: 'commit';
  readonly durable: boolean;
}
export interface AbortOp {
  readonly op: 'abort';
}
export interface CommentOp {
  readonly op: 'comment';
  readonly comment: string;
}
export interface AssertOp {
  readonly op: 'assert';
  readonly lock: string;
}

/** Any operation (untyped view). */
export type Operation =
  InsertOp | SelectOp | UpdateOp | MutateOp | DeleteOp | WaitOp | CommitOp | AbortOp | CommentOp | AssertOp;

/** The per-operation result `decodeTransactResult` returns for an operation of type `O`. */
export type ResultOf<O> = O extends { op: 'insert' }
  ? string
  : O extends SelectOp<string, infer R>
    ? SelectedRow<R>[]
    : O extends { op: 'update' | 'mutate' | 'delete' }
      ? number
      : undefined;
/** Results of a tuple of operations, position by position. */
export type ResultsOf<Ops extends readonly unknown[]> = { -readonly [K in keyof Ops]: ResultOf<Ops[K]> };

/** RFC 7047 §5.2.1 insert. */
export function insert(
  table: string,
  row: Record<string, unknown>,
  opts: { uuidName?: string; uuid?: string } = {},
): InsertOp {
  const op: { op: 'insert'; table: string; row: Record<string, unknown>; uuidName?: string; uuid?: string } =
    {
      op: 'insert',
      table,
      row,
    };
  if (opts.uuidName !== undefined) op.uuidName = opts.uuidName;
  if (opts.uuid !== undefined) op.uuid = opts.uuid;
  return op;
}

/** RFC 7047 §5.2.2 select; `columns` omitted selects every column (with `_uuid`, `_version`). */
export function select(
  table: string,
  where: readonly Condition[] = [],
  columns?: readonly string[],
): SelectOp {
  return columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
}

/** RFC 7047 §5.2.3 update. */
export function update(table: string, where: readonly Condition[], row: Record<string, unknown>): UpdateOp {
  return { op: 'update', table, where, row };
}

/** RFC 7047 §5.2.4 mutate. */
export function mutate(table: string, where: readonly Condition[], mutations: readonly Mutation[]): MutateOp {
  return { op: 'mutate', table, where, mutations };
}

/** RFC 7047 §5.2.5 delete. */
export function del(table: string, where: readonly Condition[]): DeleteOp {
  return { op: 'delete', table, where };
}

/**
 * RFC 7047 §5.2.6 wait: block until the rows matching `where`, projected on `columns`, are
 * (`==`) or are not (`!=`) exactly `rows`; fail with "timed out" after `timeout` ms.
 */
export function wait(
  table: string,
  where: readonly Condition[],
  columns: readonly string[],
  until: '==' | '!=',
  rows: readonly Record<string, unknown>[],
  timeout?: number,
): WaitOp {
  return timeout === undefined
    ? { op: 'wait', table, where, columns, until, rows }
    : { op: 'wait', table, where, columns, until, rows, timeout };
}

/**
 * Optimistic concurrency ("verify"): a `wait` with timeout 0 that fails the transaction with
 * "timed out" unless the row(s) matching `where` still hold exactly `expected` in its
 * columns — the values read earlier (e.g. from the monitor cache).
 */
export function verify(
  table: string,
  where: readonly Condition[],
  expected: Record<string, unknown>,
): WaitOp {
  return wait(table, where, Object.keys(expected), '==', [expected], 0);
}

/** RFC 7047 §5.2.7 commit. */
export function commit(durable = false): CommitOp {
  return { op: 'commit', durable };
}

/** RFC 7047 §5.2.8 abort: the transaction fails with "aborted". */
export function abort(): AbortOp {
  return { op: 'abort' };
}

/** RFC 7047 §5.2.9 comment: recorded in the database log with the transaction. */
export function comment(text: string): CommentOp {
  return { op: 'comment', comment: text };
}

/** RFC 7047 §5.2.10 assert: fails with "not owner" unless this session holds `lock`. */
export function assertLock(lock: string): AssertOp {
  return { op: 'assert', lock };
}

/** The builders, typed by a table map such as the generated `nb.Tables`. */
export interface TypedOps<T extends TablesLike> {
  insert<N extends Extract<keyof T, string>>(
    table: N,
    row: RowInput<T[N]>,
    opts?: { uuidName?: string; uuid?: string },
  ): InsertOp<N, T[N]>;
  select<N extends Extract<keyof T, string>>(
    table: N,
    where?: readonly Condition<T[N]>[],
    columns?: readonly (ColumnOf<T[N]> | '_uuid' | '_version')[],
  ): SelectOp<N, T[N]>;
  update<N extends Extract<keyof T, string>>(
    table: N,
    where: readonly Condition<T[N]>[],
    row: RowInput<T[N]>,
  ): UpdateOp<N, T[N]>;
  mutate<N extends Extract<keyof T, string>>(
    table: N,
    where: readonly Condition<T[N]>[],
    mutations: readonly Mutation<T[N]>[],
  ): MutateOp<N, T[N]>;
  del<N extends Extract<keyof T, string>>(table: N, where: readonly Condition<T[N]>[]): DeleteOp<N, T[N]>;
  wait<N extends Extract<keyof T, string>>(
    table: N,
    where: readonly Condition<T[N]>[],
    columns: readonly (ColumnOf<T[N]> | '_uuid' | '_version')[],
    until: '==' | '!=',
    rows: readonly Partial<T[N]>[],
    timeout?: number,
  ): WaitOp<N, T[N]>;
  verify<N extends Extract<keyof T, string>>(
    table: N,
    where: readonly Condition<T[N]>[],
    expected: Partial<T[N]>,
  ): WaitOp<N, T[N]>;
  commit: typeof commit;
  abort: typeof abort;
  comment: typeof comment;
  assertLock: typeof assertLock;
}

const UNTYPED = { insert, select, update, mutate, del, wait, verify, commit, abort, comment, assertLock };

/** The builders typed by `T` (zero cost: the same functions, narrower signatures). */
export function ops<T extends TablesLike = AnyTables>(): TypedOps<T> {
  return UNTYPED as unknown as TypedOps<T>;
}
