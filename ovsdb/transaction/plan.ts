/**
 * Per-schema validation plan, compiled once per {@link DatabaseSchema} and cached: for every
 * column a specialised checker of in-memory values (atoms, cardinality, enum, range, length —
 * RFC 7047 §3.2 <base-type> constraints) plus the relaxed types ovsdb-server uses for
 * condition and mutation arguments (RFC 7047 §5.1; ovsdb-server relaxes `min` for
 * includes/excludes and insert/delete, and drops constraints for arithmetic mutators).
 *
 * Checkers never allocate on the happy path; uuid atoms that are not canonical UUIDs are
 * reported to a sink as uuid-name references so `encodeTransaction` can check that each is
 * declared by an insert, without a second pass.
 */
import { encodeDatum, isUuid, type WireAtom, type WireValue } from '../notation.js';
import {
  UUID_COLUMN,
  VERSION_COLUMN,
  type BaseType,
  type ColumnSchema,
  type ColumnType,
  type DatabaseSchema,
} from '../schema.js';

/** Receives each uuid-name referenced by a checked value. */
export type RefSink = (name: string) => void;
/** Returns why `v` does not fit, or undefined. */
export type Checker = (v: unknown, refs: RefSink) => string | undefined;

/** See {@link TypePlan.fast}. */
export type FastPath = (v: unknown, names?: ReadonlySet<string>) => WireValue | undefined;

/** A (possibly relaxed) column type with its compiled checker and encoder. */
export interface TypePlan {
  readonly type: ColumnType;
  readonly check: Checker;
  /**
   * Wire notation (RFC 7047 §5.1) of a value that passed {@link TypePlan.check}; the same
   * output as `encodeDatum(type, v)`, specialised so a one-string set costs nothing, a string set is one copy and a
   * string-to-string map is one `Object.entries`.
   */
  readonly encode: (v: unknown) => WireValue;
  /**
   * For the commonest unconstrained shapes (a string, a set of at most one string, a
   * string-to-string map, a set of uuids): check and encode in one step, returning undefined
   * for anything it does not accept (the caller then runs `check` and `encode`, which report
   * why). A uuid atom that is not a canonical UUID is accepted only when it is in `names`
   * (the uuid-names the transaction's inserts declare). Absent for other types.
   */
  readonly fast: FastPath | undefined;
}

export interface ColumnPlan {
  readonly name: string;
  readonly schema: ColumnSchema;
  readonly mutable: boolean;
  /** The column's own type: insert/update values, `==`/`!=`, wait rows. */
  readonly full: TypePlan;
  /** Argument type of `includes` / `excludes`. */
  readonly includes: TypePlan;
  readonly excludes: TypePlan;
  /** Argument type of `+= -= *= /= %=`; undefined when no arithmetic applies. */
  readonly arith: TypePlan | undefined;
  /** `%=` applies (integer columns only). */
  readonly mod: boolean;
  /** Argument type of `insert` / `delete`; undefined when the column is scalar. */
  readonly insert: TypePlan | undefined;
  readonly delete: TypePlan | undefined;
  /** For map columns: `delete` may also take a set of keys. */
  readonly deleteKeys: TypePlan | undefined;
  /** `< <= > >=` apply (integer/real scalar or optional). */
  readonly ordered: boolean;
}

export interface TablePlan {
  readonly name: string;
  /** Columns including `_uuid` and `_version`. */
  readonly columns: Map<string, ColumnPlan>;
}

/** Table plans by name; a table's plan is compiled the first time it is asked for. */
export interface TablePlans {
  get(name: string): TablePlan | undefined;
}

export interface SchemaPlan {
  readonly schema: DatabaseSchema;
  readonly tables: TablePlans;
}

export const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

/** Compiles the checker of one atom; `key` atoms of maps arrive as strings and are converted. */
function compileAtom(base: BaseType, fromKey: boolean): Checker {
  const enumSet = base.enum ? new Set<unknown>(base.enum) : undefined;
  const enumText = base.enum ? base.enum.map((e) => show(e)).join(', ') : '';
  const inEnum = (v: unknown): string | undefined =>
    enumSet && !enumSet.has(v) ? `${show(v)} is not one of ${enumText}` : undefined;
  switch (base.type) {
    case 'string': {
      const { minLength, maxLength } = base;
      if (!enumSet && minLength === undefined && maxLength === undefined) {
        return (v) => (typeof v === 'string' ? undefined : `${show(v)} is not a string`);
      }
      return (v) => {
        if (typeof v !== 'string') return `${show(v)} is not a string`;
        if (minLength !== undefined || maxLength !== undefined) {
          // RFC 7047 §3.2: lengths count UTF-8 bytes.
          const len = Buffer.byteLength(v, 'utf8');
          if (minLength !== undefined && len < minLength) return `${show(v)} is shorter than ${minLength}`;
          if (maxLength !== undefined && len > maxLength) return `${show(v)} is longer than ${maxLength}`;
        }
        return inEnum(v);
      };
    }
    case 'integer':
    case 'real': {
      const integer = base.type === 'integer';
      const min = integer ? base.minInteger : base.minReal;
      const max = integer ? base.maxInteger : base.maxReal;
      return (raw) => {
        const v = fromKey && typeof raw === 'string' ? Number(raw) : raw;
        if (typeof v !== 'number' || (integer ? !Number.isInteger(v) : !Number.isFinite(v))) {
          return `${show(raw)} is not ${integer ? 'an integer' : 'a real'}`;
        }
        if (min !== undefined && v < min) return `${v} is less than the minimum ${min}`;
        if (max !== undefined && v > max) return `${v} is greater than the maximum ${max}`;
        return inEnum(v);
      };
    }
    case 'boolean':
      return (raw) => {
        const v =
          fromKey && typeof raw === 'string' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw;
        return typeof v === 'boolean' ? inEnum(v) : `${show(raw)} is not a boolean`;
      };
    case 'uuid':
      return (v, refs) => {
        if (typeof v !== 'string') return `${show(v)} is not a uuid`;
        if (isUuid(v)) return undefined;
        if (!ID_RE.test(v)) return `${show(v)} is neither a uuid nor a uuid-name`;
        refs(v);
        return undefined;
      };
  }
}

/** Compiles the checker of a whole column value of type `type` (RFC 7047 §5.1 in memory). */
export function compileType(type: ColumnType): TypePlan {
  const key = compileAtom(type.key, false);
  const { min, max } = type;
  const tooFew = `needs at least ${min} value(s)`;
  const elements = (arr: readonly unknown[], refs: RefSink): string | undefined => {
    if (arr.length < min) return tooFew;
    if (arr.length > max) return `allows at most ${max} value(s), got ${arr.length}`;
    for (let i = 0; i < arr.length; i++) {
      const why = key(arr[i], refs);
      if (why) return why;
    }
    if (arr.length > 1 && new Set(arr).size !== arr.length) return 'contains duplicate values';
    return undefined;
  };
  let check: Checker;
  switch (type.kind) {
    case 'scalar':
      check = (v, refs) => (Array.isArray(v) ? `${show(v)} is not a single value` : key(v, refs));
      break;
    case 'optional':
    case 'set':
      check = (v, refs) => {
        if (v === undefined || v === null) return min > 0 ? tooFew : undefined;
        if (Array.isArray(v)) return elements(v, refs);
        return key(v, refs);
      };
      break;
    case 'map': {
      const mapKey = compileAtom(type.key, true);
      const value = compileAtom(type.value as BaseType, false);
      check = (v, refs) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${show(v)} is not a record`;
        let n = 0;
        for (const k in v) {
          if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
          n++;
          const why = mapKey(k, refs) ?? value((v as Record<string, unknown>)[k], refs);
          if (why) return why;
        }
        if (n < min) return tooFew;
        if (n > max) return `allows at most ${max} pair(s), got ${n}`;
        return undefined;
      };
      break;
    }
  }
  return { type, check, encode: compileEncoder(type), fast: compileFast(type) };
}

/** Whether `base` is a string type with no enum or length constraint. */
const plainString = (base: BaseType | undefined): boolean =>
  base !== undefined &&
  base.type === 'string' &&
  !base.enum &&
  base.minLength === undefined &&
  base.maxLength === undefined;

/** Whether `base` is a uuid type with no enum (refTable/refType do not change the wire form). */
const plainUuid = (base: BaseType): boolean => base.type === 'uuid' && !base.enum;

/**
 * True when `arr` holds a value twice. Up to 32 elements by pairwise comparison (at most 496
 * `===`, no allocation: cheaper than building a Set, which showed in profiles of transactions
 * whose reference sets hold ten uuid-names); longer arrays through a Set.
 */
function hasDuplicate(arr: readonly unknown[]): boolean {
  const n = arr.length;
  if (n > 32) return new Set(arr).size !== n;
  for (let i = 1; i < n; i++) {
    const v = arr[i];
    for (let j = 0; j < i; j++) if (arr[j] === v) return true;
  }
  return false;
}

/**
 * A set of uuids (e.g. a strong reference column) in one pass: each element a canonical UUID,
 * sent as `["uuid", u]`, or a uuid-name in `names`, sent as `["named-uuid", n]` (RFC 7047 §5.1,
 * §5.2.1); anything else defers to `check`.
 */
function compileUuidSetFast(type: ColumnType): FastPath {
  const { min, max } = type;
  return (v, names) => {
    if (!Array.isArray(v) || names === undefined) return undefined;
    const n = v.length;
    if (n < min || n > max) return undefined;
    if (n === 1) {
      // One element: the bare atom (see encodeDatum).
      const u: unknown = v[0];
      if (typeof u !== 'string') return undefined;
      if (u.length === 36 && isUuid(u)) return ['uuid', u];
      return names.has(u) ? ['named-uuid', u] : undefined;
    }
    const out: WireAtom[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const u: unknown = v[i];
      if (typeof u !== 'string') return undefined;
      if (u.length === 36 && isUuid(u)) out[i] = ['uuid', u];
      else if (names.has(u)) out[i] = ['named-uuid', u];
      else return undefined;
    }
    if (n > 1 && hasDuplicate(v)) return undefined;
    return ['set', out];
  };
}

/** See {@link TypePlan.fast}: accepts exactly what `check` accepts for these shapes, or defers. */
function compileFast(type: ColumnType): TypePlan['fast'] {
  const { min, max } = type;
  if ((type.kind === 'set' || type.kind === 'optional') && plainUuid(type.key))
    return compileUuidSetFast(type);
  if (!plainString(type.key)) return undefined;
  switch (type.kind) {
    case 'scalar':
      return (v) => (typeof v === 'string' ? v : undefined);
    case 'optional':
    case 'set':
      // Arrays of zero or one string (duplicates need no check); longer ones take the full path.
      // One string is sent bare (see encodeDatum): no allocation at all.
      return (v) => {
        if (!Array.isArray(v) || v.length > 1 || v.length < min || v.length > max) return undefined;
        if (v.length === 0) return ['set', []];
        const s: unknown = v[0];
        return typeof s === 'string' ? s : undefined;
      };
    case 'map':
      if (!plainString(type.value)) return undefined;
      // Object.entries lists the own enumerable string keys: the pairs `check` walks.
      return (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
        const pairs = Object.entries(v as Record<string, unknown>);
        const n = pairs.length;
        if (n < min || n > max) return undefined;
        for (let i = 0; i < n; i++)
          if (typeof (pairs[i] as [string, unknown])[1] !== 'string') return undefined;
        return ['map', pairs as [string, string][]];
      };
  }
}

/** A uuid atom: a real UUID, else a uuid-name declared in the same transaction (RFC 7047 §5.2.1). */
const uuidAtom = (v: unknown): WireAtom =>
  isUuid(v as string) ? ['uuid', v as string] : ['named-uuid', v as string];

/**
 * The encoder of a checked value of `type`. Atoms other than uuids are sent as they are held;
 * shapes the fast paths do not cover go through `encodeDatum`, so the output never differs.
 */
function compileEncoder(type: ColumnType): (v: unknown) => WireValue {
  const generic = (v: unknown): WireValue => encodeDatum(type, v);
  const uuidKey = type.key.type === 'uuid';
  switch (type.kind) {
    case 'scalar':
      return uuidKey ? uuidAtom : (v) => v as WireAtom;
    case 'optional':
    case 'set':
      return (v) => {
        if (Array.isArray(v)) {
          if (v.length === 1) return uuidKey ? uuidAtom(v[0]) : (v[0] as WireAtom);
          return ['set', uuidKey ? v.map(uuidAtom) : (v.slice() as WireAtom[])];
        }
        if (v === undefined || v === null) return generic(v);
        return uuidKey ? uuidAtom(v) : (v as WireAtom);
      };
    case 'map':
      // Keys are held as strings: only string-keyed maps of non-uuid values map 1:1 to wire pairs.
      if (type.key.type !== 'string' || type.value?.type === 'uuid') return generic;
      return (v) => ['map', Object.entries(v as Record<string, WireAtom>)];
  }
}

/** A copy of `type` with other cardinality; `kind` recomputed as `parseColumnType` does. */
function withCardinality(type: ColumnType, min: number, max: number): ColumnType {
  const kind = type.value ? 'map' : max > 1 ? 'set' : min === 1 ? 'scalar' : 'optional';
  return { ...type, min, max, kind };
}

const isNumeric = (b: BaseType): boolean => b.type === 'integer' || b.type === 'real';

/**
 * A column's plans. The column's own type is compiled at once (every insert and update needs
 * it); the relaxed argument types of conditions and mutations are compiled the first time one
 * is asked for, so a table that is only inserted into costs one compiled type per column.
 */
class LazyColumnPlan implements ColumnPlan {
  readonly name: string;
  readonly mutable: boolean;
  readonly full: TypePlan;
  readonly mod: boolean;
  readonly ordered: boolean;
  private readonly t: ColumnType;
  private readonly relaxed: (TypePlan | undefined)[] = [];
  private readonly done: boolean[] = [];

  constructor(readonly schema: ColumnSchema) {
    const t = schema.type;
    this.t = t;
    this.name = schema.name;
    this.mutable = schema.mutable;
    this.full = compileType(t);
    this.mod = t.kind !== 'map' && t.key.type === 'integer';
    this.ordered = (t.kind === 'scalar' || t.kind === 'optional') && isNumeric(t.key);
  }

  /** The relaxed plan number `slot`, compiled by `make` on first use. */
  private lazy(slot: number, make: (t: ColumnType) => TypePlan | undefined): TypePlan | undefined {
    if (!this.done[slot]) {
      this.relaxed[slot] = make(this.t);
      this.done[slot] = true;
    }
    return this.relaxed[slot];
  }

  get includes(): TypePlan {
    return this.t.kind === 'scalar'
      ? this.full
      : (this.lazy(0, (t) => compileType(withCardinality(t, 0, t.max))) as TypePlan);
  }
  get excludes(): TypePlan {
    return this.t.kind === 'scalar'
      ? this.full
      : (this.lazy(1, (t) => compileType(withCardinality(t, 0, Infinity))) as TypePlan);
  }
  get arith(): TypePlan | undefined {
    return this.lazy(2, (t) =>
      t.kind !== 'map' && isNumeric(t.key)
        ? compileType({ key: { type: t.key.type }, min: 1, max: 1, kind: 'scalar' })
        : undefined,
    );
  }
  get insert(): TypePlan | undefined {
    return this.lazy(3, (t) => (t.kind === 'scalar' ? undefined : compileType(withCardinality(t, 0, t.max))));
  }
  get delete(): TypePlan | undefined {
    return this.lazy(4, (t) =>
      t.kind === 'scalar' ? undefined : compileType(withCardinality(t, 0, Infinity)),
    );
  }
  get deleteKeys(): TypePlan | undefined {
    return this.lazy(5, (t) =>
      t.kind === 'map' ? compileType({ key: t.key, min: 0, max: Infinity, kind: 'set' }) : undefined,
    );
  }
}

function planColumn(col: ColumnSchema): ColumnPlan {
  return new LazyColumnPlan(col);
}

const cache = new WeakMap<DatabaseSchema, SchemaPlan>();

/**
 * The plan of `schema`, cached for the schema object's lifetime. Tables are compiled on first
 * use: an agent writes a handful of a schema's tables (OVN_Northbound has 30), and compiling
 * all of them up front was a visible part of a short run's first transactions.
 */
export function schemaPlan(schema: DatabaseSchema): SchemaPlan {
  let plan = cache.get(schema);
  if (plan) return plan;
  const compiled = new Map<string, TablePlan>();
  let uuidPlan: ColumnPlan | undefined;
  let versionPlan: ColumnPlan | undefined;
  const tables: TablePlans = {
    get(name) {
      let t = compiled.get(name);
      if (t !== undefined) return t;
      const table = schema.tables.get(name);
      if (table === undefined) return undefined;
      uuidPlan ??= planColumn(UUID_COLUMN);
      versionPlan ??= planColumn(VERSION_COLUMN);
      const columns = new Map<string, ColumnPlan>([
        ['_uuid', uuidPlan],
        ['_version', versionPlan],
      ]);
      for (const col of table.columns.values()) columns.set(col.name, planColumn(col));
      t = { name: table.name, columns };
      compiled.set(name, t);
      return t;
    },
  };
  plan = { schema, tables };
  cache.set(schema, plan);
  return plan;
}
