/**
 * Per-column decoders for the monitor cache, precomputed once from the schema so
 * that decoding a row is a tight loop with no schema lookups and no intermediate
 * copies. The in-memory forms are those of `../notation.ts` (uuid = string,
 * optional = atom | undefined, set = array, map = record).
 *
 * Besides plain decoding this implements the update2 "modify" diff semantics of
 * ovsdb-server(7) §4.1.14 (as `ovsdb_datum_apply_diff` does in Open vSwitch):
 * - a column whose type allows at most one value (`max == 1`: scalar, optional
 *   0..1, or a map with max 1) carries its new value; for an optional column an
 *   empty set means "now empty";
 * - a set with `max > 1` carries the symmetric difference: each element present
 *   in the diff is toggled;
 * - a map with `max > 1` carries, per key, either a pair to add (key absent), the
 *   current pair to remove (same value) or a new value to replace (different value);
 * - the result must still satisfy the column's min/max.
 */
import { OvsdbNotationError, type Datum, type MapValue } from '../notation.js';
import type { AtomValue, BaseType, ColumnSchema, ColumnType } from '../schema.js';

type AtomDecoder = (wire: unknown) => AtomValue;

/** The default atom of each type (RFC 7047 §5.1 / ovsdb-server: 0, "", false, all-zero uuid). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const DEFAULT_ATOM: Record<BaseType['type'], AtomValue> = {
  integer: 0,
  real: 0,
  boolean: false,
  string: '',
  uuid: ZERO_UUID,
};

const EMPTY_SET: readonly AtomValue[] = Object.freeze([]);
const EMPTY_MAP: Readonly<MapValue> = Object.freeze({});

function bad(what: string, wire: unknown): never {
  throw new OvsdbNotationError(`expected ${what}, got ${JSON.stringify(wire)}`);
}

function atomDecoder(base: BaseType): AtomDecoder {
  switch (base.type) {
    case 'string':
      return (w) => (typeof w === 'string' ? w : bad('a string atom', w));
    case 'integer':
      return (w) => (typeof w === 'number' && Number.isInteger(w) ? w : bad('an integer atom', w));
    case 'real':
      return (w) => (typeof w === 'number' ? w : bad('a real atom', w));
    case 'boolean':
      return (w) => (typeof w === 'boolean' ? w : bad('a boolean atom', w));
    case 'uuid':
      return (w) =>
        Array.isArray(w) && w.length === 2 && w[0] === 'uuid' && typeof w[1] === 'string'
          ? w[1]
          : bad('a uuid atom', w);
  }
}

/** Sets a record key, including the one key (`__proto__`) plain assignment would swallow. */
export function setMapKey(map: MapValue, key: string, value: AtomValue): void {
  if (key === '__proto__') {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[key] = value;
  }
}

function isWireSet(w: unknown): w is ['set', unknown[]] {
  return Array.isArray(w) && w.length === 2 && w[0] === 'set' && Array.isArray(w[1]);
}

/** Precomputed codec of one column. */
export interface ColumnCodec {
  readonly name: string;
  readonly type: ColumnType;
  /** Wire value → in-memory value; throws {@link OvsdbNotationError}. */
  decode(wire: unknown): Datum;
  /** The column's default value (shared frozen empties for sets and maps). */
  readonly defaultValue: Datum;
  /** Applies an update2 "modify" diff to the current value, returning the new value (never mutates). */
  applyDiff(current: Datum, wire: unknown): Datum;
}

function checkSize(type: ColumnType, n: number): void {
  if (n < type.min || n > type.max) {
    throw new OvsdbNotationError(`value has ${n} element(s), column allows ${type.min}..${type.max}`);
  }
}

/** Builds the codec of a column from its schema. */
export function columnCodec(column: ColumnSchema): ColumnCodec {
  const type = column.type;
  const key = atomDecoder(type.key);
  const name = column.name;
  switch (type.kind) {
    case 'scalar': {
      const decode = (w: unknown): Datum => {
        if (isWireSet(w)) return w[1].length === 1 ? key(w[1][0]) : bad('exactly one atom', w);
        return key(w);
      };
      return {
        name,
        type,
        decode,
        defaultValue: DEFAULT_ATOM[type.key.type],
        applyDiff: (_c, w) => decode(w),
      };
    }
    case 'optional': {
      const decode = (w: unknown): Datum => {
        if (isWireSet(w)) {
          if (w[1].length === 0) return undefined;
          return w[1].length === 1 ? key(w[1][0]) : bad('at most one atom', w);
        }
        return key(w);
      };
      return { name, type, decode, defaultValue: undefined, applyDiff: (_c, w) => decode(w) };
    }
    case 'set': {
      const elements = (w: unknown): unknown[] => (isWireSet(w) ? w[1] : [w]);
      const decode = (w: unknown): Datum => {
        if (!isWireSet(w)) return [key(w)]; // a one-element set may be sent as the bare atom
        const els = w[1];
        if (els.length === 0) return EMPTY_SET as AtomValue[];
        if (els.length > type.max) checkSize(type, els.length);
        const out = new Array<AtomValue>(els.length);
        for (let i = 0; i < els.length; i++) out[i] = key(els[i]);
        return out;
      };
      const defaultValue = type.min === 0 ? (EMPTY_SET as AtomValue[]) : [DEFAULT_ATOM[type.key.type]];
      const applyDiff = (current: Datum, w: unknown): Datum => {
        const els = elements(w);
        const s = new Set<AtomValue>(current as AtomValue[]);
        for (const el of els) {
          const a = key(el);
          if (!s.delete(a)) s.add(a);
        }
        checkSize(type, s.size);
        return s.size === 0 ? (EMPTY_SET as AtomValue[]) : [...s];
      };
      return { name, type, decode, defaultValue, applyDiff };
    }
    case 'map': {
      const value = atomDecoder(type.value as BaseType);
      const pairs = (w: unknown): unknown[] =>
        Array.isArray(w) && w.length === 2 && w[0] === 'map' && Array.isArray(w[1]) ? w[1] : bad('a map', w);
      const stringKeys = type.key.type === 'string';
      const decode = (w: unknown): Datum => {
        const ps = pairs(w);
        if (ps.length === 0) return EMPTY_MAP as MapValue;
        const out: MapValue = {};
        for (let i = 0; i < ps.length; i++) {
          const p = ps[i];
          if (!Array.isArray(p) || p.length !== 2) bad('a map pair', p);
          const k = stringKeys ? (key(p[0]) as string) : String(key(p[0]));
          if (k === '__proto__') setMapKey(out, k, value(p[1]));
          else out[k] = value(p[1]);
        }
        if (ps.length > type.max) checkSize(type, Object.keys(out).length);
        return out;
      };
      const defaultValue =
        type.min === 0
          ? (EMPTY_MAP as MapValue)
          : { [String(DEFAULT_ATOM[type.key.type])]: DEFAULT_ATOM[(type.value as BaseType).type] };
      // A map with max 1 is not "composite": its diff is the new value (ovsdb-server(7) §4.1.14).
      const applyDiff =
        type.max === 1
          ? (_c: Datum, w: unknown) => decode(w)
          : (current: Datum, w: unknown): Datum => {
              // Spread defines own data properties, so a `__proto__` key is copied faithfully.
              const out: MapValue = { ...(current as MapValue) };
              for (const p of pairs(w)) {
                if (!Array.isArray(p) || p.length !== 2) bad('a map pair', p);
                const k = String(key(p[0]));
                const v = value(p[1]);
                if (!Object.prototype.hasOwnProperty.call(out, k)) setMapKey(out, k, v);
                else if (out[k] === v) delete out[k];
                else setMapKey(out, k, v);
              }
              const n = Object.keys(out).length;
              checkSize(type, n);
              return n === 0 ? (EMPTY_MAP as MapValue) : out;
            };
      return { name, type, decode, defaultValue, applyDiff };
    }
  }
}
