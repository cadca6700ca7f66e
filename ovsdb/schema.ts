/**
 * OVSDB schema model and parser — RFC 7047 §3.2 (<database-schema>,
 * <table-schema>, <column-schema>, <type>, <base-type>).
 *
 * The parsed form is what every other part of the client works from: the
 * notation codec (which JSON shape a column takes), transaction validation,
 * the monitor cache and the model generator.
 */
import { OvsdbError } from './errors.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export type AtomValue = number | boolean | string;

/** RFC 7047 §3.2 <base-type>: an atomic type plus its constraints. */
export interface BaseType {
  type: AtomicType;
  /** Allowed values (decoded atoms), when the column is an enumeration. */
  enum?: AtomValue[];
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  /** For uuid atoms: the table the reference points to. */
  refTable?: string;
  /** Strong references keep the target alive; weak ones are dropped with it. Defaults to strong. */
  refType?: 'strong' | 'weak';
}

/**
 * How a column's value is represented, derived from min/max/value:
 * - `scalar`: exactly one atom (min 1, max 1);
 * - `optional`: zero or one atom (min 0, max 1) — `T | undefined` in memory;
 * - `set`: a set of atoms (max > 1) — an array in memory;
 * - `map`: key/value pairs — a record in memory.
 */
export type ColumnKind = 'scalar' | 'optional' | 'set' | 'map';

/** RFC 7047 §3.2 <type>. `max` is `Infinity` for "unlimited". */
export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: number;
  max: number;
  kind: ColumnKind;
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  ephemeral: boolean;
  mutable: boolean;
}

export interface TableSchema {
  name: string;
  columns: Map<string, ColumnSchema>;
  maxRows?: number;
  isRoot: boolean;
  /** Each index is a list of column names whose combined values are unique. */
  indexes: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Map<string, TableSchema>;
}

/** The implicit columns every table has (RFC 7047 §3.2). */
export const UUID_COLUMN: ColumnSchema = Object.freeze({
  name: '_uuid',
  type: { key: { type: 'uuid' }, min: 1, max: 1, kind: 'scalar' },
  ephemeral: false,
  mutable: false,
}) as ColumnSchema;
export const VERSION_COLUMN: ColumnSchema = Object.freeze({
  name: '_version',
  type: { key: { type: 'uuid' }, min: 1, max: 1, kind: 'scalar' },
  ephemeral: false,
  mutable: false,
}) as ColumnSchema;

export class OvsdbSchemaError extends OvsdbError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super('OVSDB_SCHEMA_INVALID', `${path}: ${message}`);
  }
}

const ATOMIC = new Set<AtomicType>(['integer', 'real', 'boolean', 'string', 'uuid']);
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBaseType(raw: unknown, path: string): BaseType {
  if (typeof raw === 'string') {
    if (!ATOMIC.has(raw as AtomicType)) throw new OvsdbSchemaError(path, `unknown atomic type "${raw}"`);
    return { type: raw as AtomicType };
  }
  if (!isObject(raw)) throw new OvsdbSchemaError(path, 'base type must be a string or an object');
  const type = raw['type'];
  if (typeof type !== 'string' || !ATOMIC.has(type as AtomicType)) {
    throw new OvsdbSchemaError(`${path}.type`, `unknown atomic type ${JSON.stringify(type)}`);
  }
  const base: BaseType = { type: type as AtomicType };
  if (raw['enum'] !== undefined) base.enum = parseEnum(raw['enum'], base.type, `${path}.enum`);
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength'] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (typeof v !== 'number') throw new OvsdbSchemaError(`${path}.${k}`, 'must be a number');
    base[k] = v;
  }
  if (raw['refTable'] !== undefined) {
    if (base.type !== 'uuid') throw new OvsdbSchemaError(`${path}.refTable`, 'only uuid atoms can reference');
    if (typeof raw['refTable'] !== 'string')
      throw new OvsdbSchemaError(`${path}.refTable`, 'must be a string');
    base.refTable = raw['refTable'];
    const refType = raw['refType'] ?? 'strong';
    if (refType !== 'strong' && refType !== 'weak') {
      throw new OvsdbSchemaError(`${path}.refType`, 'must be "strong" or "weak"');
    }
    base.refType = refType;
  }
  return base;
}

/** An enum is a <set> of atoms: a bare atom or ["set", [...]]. */
function parseEnum(raw: unknown, type: AtomicType, path: string): AtomValue[] {
  const values = Array.isArray(raw) && raw[0] === 'set' && Array.isArray(raw[1]) ? raw[1] : [raw];
  return values.map((v: unknown, i: number) => {
    const ok =
      type === 'string'
        ? typeof v === 'string'
        : type === 'boolean'
          ? typeof v === 'boolean'
          : type === 'integer' || type === 'real'
            ? typeof v === 'number'
            : false;
    if (!ok) throw new OvsdbSchemaError(`${path}[${i}]`, `enum value ${JSON.stringify(v)} is not a ${type}`);
    return v as AtomValue;
  });
}

/** Parses an RFC 7047 §3.2 <type>. */
export function parseColumnType(raw: unknown, path: string): ColumnType {
  if (typeof raw === 'string') return { key: parseBaseType(raw, path), min: 1, max: 1, kind: 'scalar' };
  if (!isObject(raw)) throw new OvsdbSchemaError(path, 'type must be a string or an object');
  const key = parseBaseType(raw['key'], `${path}.key`);
  const value = raw['value'] === undefined ? undefined : parseBaseType(raw['value'], `${path}.value`);
  const min = raw['min'] ?? 1;
  if (min !== 0 && min !== 1) throw new OvsdbSchemaError(`${path}.min`, 'must be 0 or 1');
  const rawMax = raw['max'] ?? 1;
  const max = rawMax === 'unlimited' ? Infinity : rawMax;
  if (typeof max !== 'number' || !(max >= 1) || (max !== Infinity && !Number.isInteger(max))) {
    throw new OvsdbSchemaError(`${path}.max`, 'must be a positive integer or "unlimited"');
  }
  if (min > max) throw new OvsdbSchemaError(path, 'min exceeds max');
  const kind: ColumnKind = value ? 'map' : max > 1 ? 'set' : min === 1 ? 'scalar' : 'optional';
  return value ? { key, value, min, max, kind } : { key, min, max, kind };
}

function parseTable(name: string, raw: unknown, path: string): TableSchema {
  if (!isObject(raw)) throw new OvsdbSchemaError(path, 'table must be an object');
  const rawColumns = raw['columns'];
  if (!isObject(rawColumns)) throw new OvsdbSchemaError(`${path}.columns`, 'must be an object');
  const columns = new Map<string, ColumnSchema>();
  for (const [col, c] of Object.entries(rawColumns)) {
    const cpath = `${path}.columns.${col}`;
    if (!ID_RE.test(col) || col.startsWith('_')) throw new OvsdbSchemaError(cpath, 'invalid column name');
    if (!isObject(c)) throw new OvsdbSchemaError(cpath, 'column must be an object');
    columns.set(col, {
      name: col,
      type: parseColumnType(c['type'], `${cpath}.type`),
      ephemeral: c['ephemeral'] === true,
      mutable: c['mutable'] !== false,
    });
  }
  const indexes: string[][] = [];
  if (raw['indexes'] !== undefined) {
    if (!Array.isArray(raw['indexes'])) throw new OvsdbSchemaError(`${path}.indexes`, 'must be an array');
    raw['indexes'].forEach((idx: unknown, i: number) => {
      if (
        !Array.isArray(idx) ||
        idx.length === 0 ||
        !idx.every((c) => typeof c === 'string' && columns.has(c))
      ) {
        throw new OvsdbSchemaError(`${path}.indexes[${i}]`, 'must be a non-empty list of column names');
      }
      indexes.push(idx as string[]);
    });
  }
  const table: TableSchema = { name, columns, isRoot: raw['isRoot'] === true, indexes };
  if (typeof raw['maxRows'] === 'number') table.maxRows = raw['maxRows'];
  return table;
}

/** Parses a database schema (the JSON of an `.ovsschema` file or a `get_schema` reply). */
export function parseSchema(raw: unknown): DatabaseSchema {
  if (!isObject(raw)) throw new OvsdbSchemaError('schema', 'must be an object');
  const name = raw['name'];
  if (typeof name !== 'string' || !ID_RE.test(name))
    throw new OvsdbSchemaError('schema.name', 'invalid name');
  const version = raw['version'];
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new OvsdbSchemaError('schema.version', 'must be "x.y.z"');
  }
  const rawTables = raw['tables'];
  if (!isObject(rawTables)) throw new OvsdbSchemaError('schema.tables', 'must be an object');
  const tables = new Map<string, TableSchema>();
  for (const [t, def] of Object.entries(rawTables)) {
    if (!ID_RE.test(t)) throw new OvsdbSchemaError(`schema.tables.${t}`, 'invalid table name');
    tables.set(t, parseTable(t, def, `schema.tables.${t}`));
  }
  // ovsdb-server treats every table as a root table when none is marked `isRoot` (schemas
  // predating garbage collection, e.g. `_Server`): unreferenced rows are then never collected.
  if (![...tables.values()].some((t) => t.isRoot)) for (const t of tables.values()) t.isRoot = true;
  for (const table of tables.values()) {
    for (const col of table.columns.values()) {
      for (const base of [col.type.key, col.type.value]) {
        if (base?.refTable !== undefined && !tables.has(base.refTable)) {
          throw new OvsdbSchemaError(
            `schema.tables.${table.name}.columns.${col.name}`,
            `refTable "${base.refTable}" does not exist`,
          );
        }
      }
    }
  }
  const schema: DatabaseSchema = { name, version, tables };
  if (typeof raw['cksum'] === 'string') schema.cksum = raw['cksum'];
  return schema;
}

/** Looks up a column including the implicit `_uuid` and `_version`. */
export function findColumn(table: TableSchema, column: string): ColumnSchema | undefined {
  if (column === '_uuid') return UUID_COLUMN;
  if (column === '_version') return VERSION_COLUMN;
  return table.columns.get(column);
}
