/**
 * Generates typed OVSDB models from the vendored schemas (`npm run gen`).
 *
 * For each `ovsdb/schemas/<file>.ovsschema` it writes `ovsdb/models/<module>.ts` holding:
 * the raw schema JSON (so nothing reads files at run time) and a memoised parsed
 * {@link DatabaseSchema}; a `Table` constant mapping PascalCase names to table names; one row
 * type per table (a type alias rather than an interface, so rows are assignable to
 * `Record<string, unknown>` in generic code) (RFC 7047 §3.2 column types mapped to TypeScript: scalar → `T`,
 * optional 0..1 → `T | undefined`, set → `T[]`, map → `Record<string, V>`, enums →
 * literal unions, uuid → `string`); a `Tables` map from table name to row type and
 * `Row<N>`. Plus `ovsdb/models/index.ts` re-exporting each module as a namespace.
 *
 * Output is prettier-formatted with the repository's config and deterministic (tables and
 * columns sorted by name), so a unit test can regenerate it in memory and compare.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { parseSchema, type BaseType, type ColumnSchema, type TableSchema } from '../ovsdb/schema.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Vendored schema file → generated module name. */
export const MODEL_SOURCES: readonly { schema: string; module: string }[] = [
  { schema: 'ovn-nb.ovsschema', module: 'ovn-nb' },
  { schema: 'ovn-sb.ovsschema', module: 'ovn-sb' },
  { schema: 'vswitch.ovsschema', module: 'vswitch' },
  { schema: '_server.ovsschema', module: 'server' },
];

/** Names every generated module exports besides its row interfaces. */
const RESERVED = new Set(['SCHEMA_JSON', 'schema', 'Table', 'TableName', 'Tables', 'Row', 'DatabaseSchema']);

/** `Logical_Switch_Port` → `LogicalSwitchPort`, `NB_Global` → `NBGlobal`, `ACL` → `ACL`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((p) => p.length > 0)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const propName = (n: string): string => (IDENT.test(n) ? n : JSON.stringify(n));

/** TypeScript type of one atom of a base type. */
function atomTs(base: BaseType): string {
  if (base.enum !== undefined) {
    return [...base.enum]
      .sort((a, b) => String(a).localeCompare(String(b)))
      .map((v) => (typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(v)))
      .join(' | ');
  }
  switch (base.type) {
    case 'integer':
    case 'real':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
    case 'uuid':
      return 'string';
  }
}

const wrap = (t: string): string => (t.includes('|') ? `(${t})` : t);

function columnTs(col: ColumnSchema): string {
  const { type } = col;
  switch (type.kind) {
    case 'scalar':
      return atomTs(type.key);
    case 'optional':
      return `${atomTs(type.key)} | undefined`;
    case 'set':
      return `${wrap(atomTs(type.key))}[]`;
    case 'map':
      return `Record<string, ${atomTs(type.value as BaseType)}>`;
  }
}

/** Human summary of a base type's constraints, for TSDoc. */
function describeBase(base: BaseType): string {
  const parts: string[] = [base.type];
  if (base.refTable !== undefined) parts.push(`→ \`${base.refTable}\` (${base.refType ?? 'strong'} ref)`);
  if (base.minInteger !== undefined || base.maxInteger !== undefined) {
    parts.push(`in [${base.minInteger ?? '-∞'}, ${base.maxInteger ?? '∞'}]`);
  }
  if (base.minReal !== undefined || base.maxReal !== undefined) {
    parts.push(`in [${base.minReal ?? '-∞'}, ${base.maxReal ?? '∞'}]`);
  }
  if (base.minLength !== undefined || base.maxLength !== undefined) {
    parts.push(`length ${base.minLength ?? 0}..${base.maxLength ?? '∞'}`);
  }
  if (base.enum !== undefined) parts.push('(enum)');
  return parts.join(' ');
}

function describeColumn(col: ColumnSchema): string {
  const { type } = col;
  const card = `${type.min}..${type.max === Infinity ? 'unlimited' : type.max}`;
  let what: string;
  switch (type.kind) {
    case 'scalar':
      what = describeBase(type.key);
      break;
    case 'optional':
      what = `optional ${describeBase(type.key)}`;
      break;
    case 'set':
      what = `set (${card}) of ${describeBase(type.key)}`;
      break;
    case 'map':
      what = `map (${card}) of ${describeBase(type.key)} to ${describeBase(type.value as BaseType)}`;
      break;
  }
  const flags = [col.mutable ? '' : 'immutable', col.ephemeral ? 'ephemeral' : ''].filter(Boolean);
  const esc = (s: string) => s.replace(/\*\//g, '*\\/');
  return esc(`\`${col.name}\`: ${what}${flags.length ? `; ${flags.join(', ')}` : ''}.`);
}

function tableDoc(t: TableSchema, db: string): string {
  const bits = [`Row of table \`${t.name}\` (${db}).`];
  if (t.isRoot) bits.push('Root table.');
  if (t.maxRows !== undefined) bits.push(`At most ${t.maxRows} row(s).`);
  if (t.indexes.length) bits.push(`Indexes: ${t.indexes.map((i) => `[${i.join(', ')}]`).join(', ')}.`);
  return bits.join(' ');
}

/** Generates the source of one model module (unformatted). */
export function generateModule(schemaFile: string, raw: unknown): string {
  const schema = parseSchema(raw);
  const tables = [...schema.tables.values()].sort((a, b) => a.name.localeCompare(b.name));
  const names = new Map<string, string>();
  for (const t of tables) {
    const n = pascalCase(t.name);
    if (RESERVED.has(n) || [...names.values()].includes(n)) {
      throw new Error(`${schemaFile}: table ${t.name} maps to a clashing TypeScript name ${n}`);
    }
    names.set(t.name, n);
  }
  const out: string[] = [];
  out.push(`// generated by scripts/gen-models.ts from ovsdb/schemas/${schemaFile} — do not edit`);
  out.push(`import { parseSchema, type DatabaseSchema } from '../schema.js';`);
  out.push('');
  out.push(
    `/** The vendored \`${schema.name}\` schema ${schema.version}${schema.cksum ? ` (cksum ${schema.cksum})` : ''}, as JSON. */`,
  );
  out.push(`export const SCHEMA_JSON: Readonly<Record<string, unknown>> = ${JSON.stringify(raw)};`);
  out.push('');
  out.push('let parsed: DatabaseSchema | undefined;');
  out.push(`/** The parsed \`${schema.name}\` schema (parsed once, on first use). */`);
  out.push('export function schema(): DatabaseSchema {');
  out.push('  return (parsed ??= parseSchema(SCHEMA_JSON));');
  out.push('}');
  out.push('');
  out.push(`/** Table names of \`${schema.name}\`. */`);
  out.push('export const Table = {');
  for (const t of tables) out.push(`  ${names.get(t.name)}: '${t.name}',`);
  out.push('} as const;');
  out.push('export type TableName = (typeof Table)[keyof typeof Table];');
  for (const t of tables) {
    out.push('');
    out.push(`/** ${tableDoc(t, `${schema.name} ${schema.version}`)} */`);
    out.push(`export type ${names.get(t.name)} = {`);
    out.push("  /** `_uuid`: the row's UUID (RFC 7047 §3.2 implicit column). */");
    out.push('  _uuid: string;');
    const cols = [...t.columns.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const c of cols) {
      out.push(`  /** ${describeColumn(c)} */`);
      out.push(`  ${propName(c.name)}: ${columnTs(c)};`);
    }
    out.push('};');
  }
  out.push('');
  out.push(`/** Row type of each \`${schema.name}\` table, for generic code. */`);
  out.push('export type Tables = {');
  for (const t of tables) out.push(`  ${propName(t.name)}: ${names.get(t.name)};`);
  out.push('};');
  out.push('');
  out.push("/** The row type of table `N`, e.g. `Row<'" + (tables[0]?.name ?? 'T') + "'>`. */");
  out.push('export type Row<N extends TableName> = Tables[N];');
  return out.join('\n') + '\n';
}

function generateIndex(): string {
  const out = ['// generated by scripts/gen-models.ts — do not edit'];
  out.push('/** Generated OVSDB models, one namespace per vendored schema. */');
  const alias: Record<string, string> = {
    'ovn-nb': 'nb',
    'ovn-sb': 'sb',
    vswitch: 'vswitch',
    server: 'server',
  };
  for (const { module } of MODEL_SOURCES) {
    out.push(`export * as ${alias[module] ?? module.replace(/\W/g, '_')} from './${module}.js';`);
  }
  return out.join('\n') + '\n';
}

/**
 * Generates every model file in memory: repository-relative path → prettier-formatted
 * source. Reads only the vendored schemas.
 */
export async function generateModels(root: string = ROOT): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const options = (await prettier.resolveConfig(path.join(root, 'ovsdb/models/index.ts'))) ?? {};
  const format = (src: string) => prettier.format(src, { ...options, parser: 'typescript' });
  for (const { schema, module } of MODEL_SOURCES) {
    const raw: unknown = JSON.parse(await readFile(path.join(root, 'ovsdb/schemas', schema), 'utf8'));
    files.set(`ovsdb/models/${module}.ts`, await format(generateModule(schema, raw)));
  }
  files.set('ovsdb/models/index.ts', await format(generateIndex()));
  return files;
}

async function main(): Promise<void> {
  const files = await generateModels();
  await mkdir(path.join(ROOT, 'ovsdb/models'), { recursive: true });
  for (const [rel, src] of files) {
    await writeFile(path.join(ROOT, rel), src);
    console.log(`wrote ${rel}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
