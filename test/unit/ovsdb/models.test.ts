import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { generateModels, generateModule, pascalCase } from '../../../scripts/gen-models.js';
import { nb, sb, server, vswitch } from '../../../ovsdb/models/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('generated models', () => {
  it('committed output is up to date', async () => {
    const files = await generateModels(ROOT);
    expect([...files.keys()].sort()).toEqual([
      'ovsdb/models/index.ts',
      'ovsdb/models/ovn-nb.ts',
      'ovsdb/models/ovn-sb.ts',
      'ovsdb/models/server.ts',
      'ovsdb/models/vswitch.ts',
    ]);
    for (const [rel, src] of files) {
      const committed = await readFile(path.join(ROOT, rel), 'utf8').catch(() => '');
      expect(committed === src, `${rel} is stale: run npm run gen`).toBe(true);
    }
  });

  it('is deterministic', async () => {
    const raw = JSON.parse(await readFile(path.join(ROOT, 'ovsdb/schemas/ovn-nb.ovsschema'), 'utf8'));
    expect(generateModule('ovn-nb.ovsschema', raw)).toBe(generateModule('ovn-nb.ovsschema', raw));
  });

  it('embeds each vendored schema and parses it', async () => {
    for (const [mod, file] of [
      [nb, 'ovn-nb.ovsschema'],
      [sb, 'ovn-sb.ovsschema'],
      [vswitch, 'vswitch.ovsschema'],
      [server, '_server.ovsschema'],
    ] as const) {
      const raw = JSON.parse(await readFile(path.join(ROOT, 'ovsdb/schemas', file), 'utf8'));
      expect(mod.SCHEMA_JSON).toEqual(raw);
      expect(mod.schema().name).toBe(raw.name);
      expect(mod.schema()).toBe(mod.schema());
      expect(Object.values(mod.Table).sort()).toEqual(Object.keys(raw.tables).sort());
    }
    expect(nb.schema().name).toBe('OVN_Northbound');
    expect(server.schema().name).toBe('_Server');
  });

  it('treats every table as root when the schema marks none (as ovsdb-server does)', () => {
    expect(server.schema().tables.get('Database')?.isRoot).toBe(true);
    expect(nb.schema().tables.get('Logical_Switch')?.isRoot).toBe(true);
    expect(nb.schema().tables.get('Logical_Switch_Port')?.isRoot).toBe(false);
  });

  it('names tables in PascalCase', () => {
    expect(pascalCase('Logical_Switch_Port')).toBe('LogicalSwitchPort');
    expect(pascalCase('NB_Global')).toBe('NBGlobal');
    expect(pascalCase('ACL')).toBe('ACL');
    expect(nb.Table.LogicalSwitch).toBe('Logical_Switch');
    expect(vswitch.Table.OpenVSwitch).toBe('Open_vSwitch');
  });

  it('maps column kinds to TypeScript types', () => {
    expectTypeOf<nb.LogicalSwitch['name']>().toEqualTypeOf<string>();
    expectTypeOf<nb.LogicalSwitch['ports']>().toEqualTypeOf<string[]>();
    expectTypeOf<nb.LogicalSwitch['external_ids']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<nb.LogicalSwitchPort['enabled']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<nb.ACL['action']>().toEqualTypeOf<
      'allow' | 'allow-related' | 'allow-stateless' | 'drop' | 'reject'
    >();
    expectTypeOf<nb.ACL['priority']>().toEqualTypeOf<number>();
    expectTypeOf<nb.Row<'Logical_Switch'>>().toEqualTypeOf<nb.LogicalSwitch>();
    expectTypeOf<server.Database['model']>().toEqualTypeOf<'clustered' | 'relay' | 'standalone'>();
    // Runtime counterpart so the test asserts something observable too.
    const acl = nb.schema().tables.get('ACL')!.columns.get('action')!;
    expect(acl.type.key.enum).toContain('allow-related');
  });

  it('rejects table names that clash with generated exports', () => {
    const raw = { name: 'X', version: '1.0.0', tables: { Tables: { columns: {} } } };
    expect(() => generateModule('x.ovsschema', raw)).toThrow(/clashing/);
  });
});
