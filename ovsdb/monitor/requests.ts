/**
 * Monitor request building: RFC 7047 §4.1.5 <monitor-request> (columns, select)
 * and ovsdb-server(7) §4.1.12 <monitor-cond-request> (columns, where, select),
 * with `where` conditions (RFC 7047 §5.1 <condition>) encoded through the schema.
 */
import { OvsdbError } from '../errors.js';
import { encodeDatum } from '../notation.js';
import { findColumn, type DatabaseSchema } from '../schema.js';

/** RFC 7047 §5.1 <function>. */
export type ConditionFunction = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'includes' | 'excludes';

/**
 * A condition: `[column, function, value]` with the value in the in-memory form of
 * the column's type (as in the cache), or a literal `true`/`false`
 * (ovsdb-server(7) §4.1.12 allows booleans in `where`).
 */
export type Condition = readonly [column: string, fn: ConditionFunction, value: unknown] | boolean;

/** <monitor-select>: which kinds of change to receive; omitted flags default to true. */
export interface MonitorSelect {
  initial?: boolean;
  insert?: boolean;
  delete?: boolean;
  modify?: boolean;
}

/** What to monitor in one table. */
export interface TableMonitorSpec {
  /** Columns to receive (default: every column of the table). */
  columns?: readonly string[];
  /** Only rows matching one of these conditions (monitor_cond and later; default: all rows). */
  where?: readonly Condition[];
  select?: MonitorSelect;
}

export type MonitorSpec = Record<string, TableMonitorSpec>;

export class OvsdbMonitorError extends OvsdbError {}

const FUNCTIONS = new Set<string>(['==', '!=', '<', '<=', '>', '>=', 'includes', 'excludes']);

/** Encodes `where` conditions for `table` (RFC 7047 §5.1 <condition>). */
export function encodeConditions(
  schema: DatabaseSchema,
  table: string,
  where: readonly Condition[],
): unknown[] {
  const ts = schema.tables.get(table);
  if (!ts) throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REQUEST', `no table ${table}`);
  return where.map((c) => {
    if (typeof c === 'boolean') return c;
    const [column, fn, value] = c;
    const col = findColumn(ts, column);
    if (!col) throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REQUEST', `${table} has no column ${column}`);
    if (!FUNCTIONS.has(fn)) throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REQUEST', `bad function ${fn}`);
    return [column, fn, encodeDatum(col.type, value)];
  });
}

/** The monitored columns of each table, as the cache needs them. */
export function monitoredColumns(schema: DatabaseSchema, spec: MonitorSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [table, t] of Object.entries(spec)) {
    const ts = schema.tables.get(table);
    if (!ts) throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REQUEST', `schema has no table ${table}`);
    const cols = t.columns ? [...t.columns] : [...ts.columns.keys()];
    for (const c of cols) {
      if (!ts.columns.has(c)) {
        throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REQUEST', `${table} has no column ${c}`);
      }
    }
    out[table] = cols;
  }
  return out;
}

/**
 * Builds the third `params` member of `monitor` (conditional = false: RFC 7047
 * <monitor-requests>, `where` not allowed) or of `monitor_cond`/`monitor_cond_since`
 * (conditional = true: <monitor-cond-requests>).
 */
export function buildMonitorRequests(
  schema: DatabaseSchema,
  spec: MonitorSpec,
  conditional: boolean,
): Record<string, unknown[]> {
  const columns = monitoredColumns(schema, spec);
  const out: Record<string, unknown[]> = {};
  for (const [table, t] of Object.entries(spec)) {
    const req: Record<string, unknown> = { columns: columns[table] };
    if (t.select) req['select'] = { ...t.select };
    if (t.where !== undefined) {
      if (!conditional) {
        throw new OvsdbMonitorError(
          'OVSDB_MONITOR_UNSUPPORTED',
          `${table}: conditions need monitor_cond, which this server does not support`,
        );
      }
      req['where'] = encodeConditions(schema, table, t.where);
    }
    out[table] = [req];
  }
  return out;
}
