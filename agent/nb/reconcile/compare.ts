/**
 * Allocation-free comparisons for the reconcile diff's hot path: a no-op pass compares every
 * column of every owned row, so these avoid what the generic `datumEqual` of
 * `ovsdb/notation.ts` builds per call (a `Set` per set column, key arrays per map) and what the
 * plan used to build per row (the full `external_ids` record) before knowing it differs.
 *
 * Semantics are those of `datumEqual` (RFC 7047 §5.1: sets are unordered and hold no
 * duplicates, maps are unordered with unique keys), checked against it in the unit tests.
 */
import type { ColumnType, Datum } from '../../../ovsdb/index.js';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../desired.js';

/** Up to this many elements, nested scans beat building a `Set`. */
const SMALL_SET = 16;

/** Equality of two set values (arrays without duplicates, any order). */
export function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let i = 0;
  while (i < n && a[i] === b[i]) i++; // same order: the common case
  if (i === n) return true;
  if (n <= SMALL_SET) {
    for (let j = i; j < n; j++) if (!b.includes(a[j])) return false;
    return true;
  }
  const s = new Set(b);
  for (let j = i; j < n; j++) if (!s.has(a[j])) return false;
  return true;
}

/** Equality of two map values (records). */
export function sameMap(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  let n = 0;
  for (const k in a) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** `datumEqual` for in-memory values of one column type, without per-call allocations. */
export function columnEqual(type: ColumnType, a: Datum, b: Datum): boolean {
  switch (type.kind) {
    case 'scalar':
    case 'optional':
      return a === b;
    case 'set':
      return sameSet((a ?? []) as unknown[], (b ?? []) as unknown[]);
    case 'map':
      return sameMap((a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>);
  }
}

/**
 * True when an owned row's `external_ids` equal the record the plan would write: the builder's
 * `extra` keys plus the three ownership keys (which override the same keys in `extra`).
 */
export function sameExternalIds(
  actual: Readonly<Record<string, unknown>>,
  extra: Readonly<Record<string, unknown>> | undefined,
  owner: string,
  key: string,
  resource: string,
): boolean {
  if (actual[OWNER_KEY] !== owner || actual[ROW_KEY] !== key || actual[RESOURCE_KEY] !== resource)
    return false;
  let n = 3;
  if (extra) {
    for (const k in extra) {
      if (k === OWNER_KEY || k === ROW_KEY || k === RESOURCE_KEY) continue;
      if (!Object.prototype.hasOwnProperty.call(actual, k) || actual[k] !== extra[k]) return false;
      n++;
    }
  }
  for (const _ in actual) n--;
  return n === 0;
}
