/**
 * OVSDB data notation — RFC 7047 §5.1 — between the wire (JSON) form and the
 * in-memory form used by the cache, the typed models and transactions.
 *
 * In memory, driven by the column's schema type:
 * - atoms are plain JS values; a uuid is its canonical string;
 * - `scalar` columns hold one atom, `optional` columns an atom or `undefined`,
 *   `set` columns an array, `map` columns a record (integer keys become their
 *   decimal string, as JS object keys always are).
 *
 * On the wire, a uuid atom is `["uuid", s]`; when encoding, a string that is not
 * a canonical UUID in a uuid column is taken as a `["named-uuid", s]` reference
 * to a row inserted earlier in the same transaction (RFC 7047 §5.2.1 uuid-name).
 *
 * Integers are JS numbers: exact up to 2^53, which covers every value OVN uses.
 */
import { OvsdbError } from './errors.js';
import type { AtomValue, BaseType, ColumnType } from './schema.js';

export type WireUuid = ['uuid', string];
export type WireNamedUuid = ['named-uuid', string];
export type WireAtom = string | number | boolean | WireUuid | WireNamedUuid;
export type WireSet = ['set', WireAtom[]];
export type WireMap = ['map', [WireAtom, WireAtom][]];
export type WireValue = WireAtom | WireSet | WireMap;

export type MapValue = Record<string, AtomValue>;
/** Any decoded column value. */
export type Datum = AtomValue | AtomValue[] | MapValue | undefined;

export class OvsdbNotationError extends OvsdbError {
  constructor(message: string) {
    super('OVSDB_NOTATION_INVALID', message);
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical RFC 4122 textual UUID. */
export function isUuid(s: string): boolean {
  return s.length === 36 && UUID_RE.test(s);
}

/** `["uuid", s]` for a real UUID, `["named-uuid", s]` for a uuid-name. */
export function uuidRef(s: string): WireUuid | WireNamedUuid {
  return isUuid(s) ? ['uuid', s] : ['named-uuid', s];
}

function decodeAtom(base: BaseType, wire: unknown): AtomValue {
  switch (base.type) {
    case 'uuid':
      if (
        Array.isArray(wire) &&
        (wire[0] === 'uuid' || wire[0] === 'named-uuid') &&
        typeof wire[1] === 'string'
      ) {
        return wire[1];
      }
      break;
    case 'string':
      if (typeof wire === 'string') return wire;
      break;
    case 'integer':
      if (typeof wire === 'number' && Number.isInteger(wire)) return wire;
      break;
    case 'real':
      if (typeof wire === 'number') return wire;
      break;
    case 'boolean':
      if (typeof wire === 'boolean') return wire;
      break;
  }
  throw new OvsdbNotationError(`expected a ${base.type} atom, got ${JSON.stringify(wire)}`);
}

function encodeAtom(base: BaseType, value: unknown): WireAtom {
  switch (base.type) {
    case 'uuid':
      if (typeof value === 'string') return uuidRef(value);
      break;
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      break;
    case 'real':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
  }
  throw new OvsdbNotationError(`expected a ${base.type} value, got ${JSON.stringify(value)}`);
}

/** Elements of a <set>: `["set", [...]]` or a bare single atom (RFC 7047 §5.1). */
function setElements(wire: unknown): unknown[] {
  if (Array.isArray(wire) && wire[0] === 'set') {
    if (!Array.isArray(wire[1])) throw new OvsdbNotationError(`malformed set ${JSON.stringify(wire)}`);
    return wire[1];
  }
  return [wire];
}

/** Map keys in memory are strings; integer/real/boolean keys are restored from the schema type. */
function keyFromString(base: BaseType, key: string): AtomValue {
  switch (base.type) {
    case 'integer':
    case 'real':
      return Number(key);
    case 'boolean':
      return key === 'true';
    default:
      return key;
  }
}

/** Decodes a wire value of a column of type `type` into its in-memory form. */
export function decodeDatum(type: ColumnType, wire: unknown): Datum {
  switch (type.kind) {
    case 'scalar': {
      const els = setElements(wire);
      if (els.length !== 1)
        throw new OvsdbNotationError(`expected exactly one atom, got ${JSON.stringify(wire)}`);
      return decodeAtom(type.key, els[0]);
    }
    case 'optional': {
      const els = setElements(wire);
      if (els.length > 1)
        throw new OvsdbNotationError(`expected at most one atom, got ${JSON.stringify(wire)}`);
      return els.length === 0 ? undefined : decodeAtom(type.key, els[0]);
    }
    case 'set':
      return setElements(wire).map((w) => decodeAtom(type.key, w));
    case 'map': {
      if (!Array.isArray(wire) || wire[0] !== 'map' || !Array.isArray(wire[1])) {
        throw new OvsdbNotationError(`expected a map, got ${JSON.stringify(wire)}`);
      }
      const out: MapValue = {};
      const valueType = type.value as BaseType;
      for (const pair of wire[1] as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new OvsdbNotationError(`malformed map pair ${JSON.stringify(pair)}`);
        }
        const k = String(decodeAtom(type.key, pair[0]));
        const v = decodeAtom(valueType, pair[1]);
        // Plain assignment of a "__proto__" key would set the prototype (or be ignored) instead.
        if (k === '__proto__')
          Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
      return out;
    }
  }
}

/**
 * Encodes an in-memory value of a column of type `type` for the wire. A set or optional value
 * of exactly one element is sent as the bare atom (RFC 7047 §5.1: "<set> … either an <atom>,
 * representing a set with exactly one element, or a 2-element JSON array"), as Open vSwitch's
 * own encoders do; the empty set and larger sets use `["set", […]]`.
 */
export function encodeDatum(type: ColumnType, value: unknown): WireValue {
  switch (type.kind) {
    case 'scalar':
      return encodeAtom(type.key, value);
    case 'optional':
    case 'set':
      if (value === undefined || value === null) return ['set', []];
      if (!Array.isArray(value)) return encodeAtom(type.key, value);
      if (value.length === 1) return encodeAtom(type.key, value[0]);
      return ['set', value.map((v) => encodeAtom(type.key, v))];
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new OvsdbNotationError(`expected a record for a map column, got ${JSON.stringify(value)}`);
      }
      const valueType = type.value as BaseType;
      const pairs: [WireAtom, WireAtom][] = [];
      for (const [k, v] of Object.entries(value)) {
        pairs.push([encodeAtom(type.key, keyFromString(type.key, k)), encodeAtom(valueType, v)]);
      }
      return ['map', pairs];
    }
  }
}

/** Checks one atom against its base type's constraints; returns a reason or undefined. */
export function checkAtom(base: BaseType, v: AtomValue): string | undefined {
  switch (base.type) {
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `${JSON.stringify(v)} is not an integer`;
      if (base.minInteger !== undefined && v < base.minInteger) return `${v} is less than ${base.minInteger}`;
      if (base.maxInteger !== undefined && v > base.maxInteger)
        return `${v} is greater than ${base.maxInteger}`;
      break;
    case 'real':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${JSON.stringify(v)} is not a real`;
      if (base.minReal !== undefined && v < base.minReal) return `${v} is less than ${base.minReal}`;
      if (base.maxReal !== undefined && v > base.maxReal) return `${v} is greater than ${base.maxReal}`;
      break;
    case 'boolean':
      if (typeof v !== 'boolean') return `${JSON.stringify(v)} is not a boolean`;
      break;
    case 'string': {
      if (typeof v !== 'string') return `${JSON.stringify(v)} is not a string`;
      // RFC 7047 §3.2: lengths count UTF-8 bytes.
      const len = Buffer.byteLength(v, 'utf8');
      if (base.minLength !== undefined && len < base.minLength)
        return `"${v}" is shorter than ${base.minLength}`;
      if (base.maxLength !== undefined && len > base.maxLength)
        return `"${v}" is longer than ${base.maxLength}`;
      break;
    }
    case 'uuid':
      if (typeof v !== 'string') return `${JSON.stringify(v)} is not a uuid`;
      if (!isUuid(v) && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v))
        return `"${v}" is neither a uuid nor a uuid-name`;
      break;
  }
  if (base.enum !== undefined && !base.enum.includes(v)) {
    return `${JSON.stringify(v)} is not one of ${base.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  }
  return undefined;
}

/** Checks an in-memory value against its column type (atoms and cardinality). */
export function checkDatum(type: ColumnType, value: unknown): string | undefined {
  let atoms: AtomValue[];
  let values: AtomValue[] = [];
  if (type.kind === 'map') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a record';
    const entries = Object.entries(value as Record<string, AtomValue>);
    atoms = entries.map(([k]) => keyFromString(type.key, k));
    values = entries.map(([, v]) => v);
  } else if (type.kind === 'scalar') {
    atoms = [value as AtomValue];
  } else if (value === undefined || value === null) {
    atoms = [];
  } else {
    atoms = Array.isArray(value) ? (value as AtomValue[]) : [value as AtomValue];
  }
  if (atoms.length < type.min) return `needs at least ${type.min} value(s)`;
  if (atoms.length > type.max) return `allows at most ${type.max} value(s), got ${atoms.length}`;
  if (type.kind !== 'map' && new Set(atoms).size !== atoms.length) return 'contains duplicate values';
  for (const a of atoms) {
    const why = checkAtom(type.key, a);
    if (why) return why;
  }
  for (const v of values) {
    const why = checkAtom(type.value as BaseType, v);
    if (why) return why;
  }
  return undefined;
}

/** Semantic equality of two in-memory values of one column type (sets unordered). */
export function datumEqual(type: ColumnType, a: Datum, b: Datum): boolean {
  switch (type.kind) {
    case 'scalar':
    case 'optional':
      return a === b;
    case 'set': {
      const x = (a ?? []) as AtomValue[];
      const y = (b ?? []) as AtomValue[];
      if (x.length !== y.length) return false;
      const s = new Set(x);
      return y.every((v) => s.has(v));
    }
    case 'map': {
      const x = (a ?? {}) as MapValue;
      const y = (b ?? {}) as MapValue;
      const kx = Object.keys(x);
      if (kx.length !== Object.keys(y).length) return false;
      return kx.every((k) => Object.prototype.hasOwnProperty.call(y, k) && x[k] === y[k]);
    }
  }
}
