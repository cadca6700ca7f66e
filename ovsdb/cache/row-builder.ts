/**
 * Builds cached rows from full wire rows (RFC 7047 §4.1.6 "new", ovsdb-server(7) §4.1.14
 * "initial"/"insert"): every monitored column, decoded when the server sent it, else its
 * default (ovsdb-server omits columns that hold their default value).
 *
 * A full sync builds one row per row of the database, so this is the hot loop of the initial
 * load. Building a row by assigning its columns one by one under computed names makes V8 grow
 * the object through a chain of hidden classes and reallocate its property store several times
 * per row; the stores go through megamorphic inline caches. A row made by ONE object literal
 * naming every column has all its fields in-object and one shared hidden class per table:
 * ~3× faster to build and smaller to keep (profiled with the OVSDB benchmark, bench/README.md).
 * Since the columns are only known from the schema at run time, {@link compileRowBuilder}
 * generates that literal with `new Function`. The generated text contains only column names
 * checked against the RFC 7047 §3.1 <id> grammar (and quoted by `JSON.stringify`) and indexes
 * into the codec arrays; no value from the wire becomes code.
 *
 * Where code generation is off (`node --disallow-code-generation-from-strings`) or a name does
 * not pass the check, {@link genericRowBuilder} does the same work with a loop.
 */
import type { Datum } from '../notation.js';
import type { ColumnCodec } from './codec.js';
import type { Row } from './types.js';

/**
 * Builds the row `uuid` from a full wire row; returns undefined when the wire row has a member
 * that is not a monitored column. Throws what a column's decoder throws
 * ({@link OvsdbNotationError}) for a malformed value.
 */
export type RowBuilder = (uuid: string, wire: Record<string, unknown>) => Row | undefined;

/** Column names safe to splice into generated code: RFC 7047 §3.1 <id>. */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names a plain object inherits (`constructor`, `toString`, …): read as own members only. */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

type MutableRow = { _uuid: string; [column: string]: Datum };

/** The loop version of a {@link RowBuilder}. */
export function genericRowBuilder(columns: readonly ColumnCodec[]): RowBuilder {
  const byName = new Map(columns.map((c) => [c.name, c]));
  return (uuid, wire) => {
    const row: MutableRow = { _uuid: uuid };
    for (const c of columns) row[c.name] = c.defaultValue;
    for (const k in wire) {
      if (!Object.prototype.hasOwnProperty.call(wire, k)) continue;
      const c = byName.get(k);
      if (c === undefined) return undefined;
      row[k] = c.decode(wire[k]);
    }
    return row;
  };
}

/** A {@link RowBuilder} generated for `columns` (one object literal per row), or the loop version. */
export function compileRowBuilder(columns: readonly ColumnCodec[]): RowBuilder {
  if (!columns.every((c) => SAFE_NAME.test(c.name) && c.name !== '__proto__' && c.name !== '_uuid')) {
    return genericRowBuilder(columns);
  }
  const fields = columns.map((c, i) => {
    const key = JSON.stringify(c.name);
    const present = INHERITED.has(c.name)
      ? `own(wire, ${key}) && (w = wire[${key}]) !== undefined`
      : `(w = wire[${key}]) !== undefined`;
    return `${key}: ${present} ? (n++, d${i}(w)) : v${i}`;
  });
  const source = [
    '"use strict";',
    ...columns.map((_, i) => `const d${i} = decoders[${i}], v${i} = defaults[${i}];`),
    'return function buildRow(uuid, wire) {',
    '  let n = 0, w;',
    `  const row = { _uuid: uuid, ${fields.join(', ')} };`,
    '  let members = 0;',
    '  for (const k in wire) if (own(wire, k)) members++;',
    '  return members === n ? row : undefined;',
    '};',
  ].join('\n');
  try {
    const factory = new Function('decoders', 'defaults', 'own', source) as (
      decoders: readonly ((w: unknown) => Datum)[],
      defaults: readonly Datum[],
      own: (o: object, k: string) => boolean,
    ) => RowBuilder;
    return factory(
      columns.map((c) => c.decode),
      columns.map((c) => c.defaultValue),
      (o, k) => Object.prototype.hasOwnProperty.call(o, k),
    );
  } catch {
    return genericRowBuilder(columns); // code generation from strings is disabled
  }
}
