import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OvsdbSchemaError, parseColumnType, parseSchema } from '../../../ovsdb/schema.js';

const load = (p: string) => parseSchema(JSON.parse(readFileSync(p, 'utf8')));

describe('parseSchema', () => {
  it('parses the real OVN Northbound schema', () => {
    const nb = load('/usr/share/ovn/ovn-nb.ovsschema');
    expect(nb.name).toBe('OVN_Northbound');
    const ls = nb.tables.get('Logical_Switch');
    expect(ls?.isRoot).toBe(true);
    const ports = ls?.columns.get('ports')?.type;
    expect(ports).toMatchObject({
      kind: 'set',
      min: 0,
      max: Infinity,
      key: { type: 'uuid', refTable: 'Logical_Switch_Port', refType: 'strong' },
    });
    expect(ls?.columns.get('external_ids')?.type.kind).toBe('map');
    const acl = nb.tables.get('ACL');
    expect(acl?.columns.get('action')?.type.key.enum).toContain('allow-related');
    expect(acl?.columns.get('name')?.type.kind).toBe('optional');
    expect(nb.tables.get('Logical_Router')?.indexes).toEqual(expect.any(Array));
  });

  it('parses Southbound and Open_vSwitch schemas with indexes', () => {
    const sb = load('/usr/share/ovn/ovn-sb.ovsschema');
    expect(sb.tables.get('Chassis')?.indexes).toContainEqual(['name']);
    const ovs = load('/usr/share/openvswitch/vswitch.ovsschema');
    expect(ovs.tables.get('Open_vSwitch')?.maxRows).toBe(1);
    expect(ovs.tables.get('Port')?.columns.get('tag')?.type).toMatchObject({
      kind: 'optional',
      key: { type: 'integer', minInteger: 0, maxInteger: 4095 },
    });
  });

  it('derives kinds from min/max/value', () => {
    expect(parseColumnType('string', 't').kind).toBe('scalar');
    expect(parseColumnType({ key: 'string', min: 0 }, 't').kind).toBe('optional');
    expect(parseColumnType({ key: 'string', min: 0, max: 'unlimited' }, 't')).toMatchObject({
      kind: 'set',
      max: Infinity,
    });
    expect(parseColumnType({ key: 'string', value: 'integer', min: 0, max: 1 }, 't').kind).toBe('map');
  });

  it('rejects bad schemas with the path of the fault', () => {
    expect(() => parseColumnType({ key: 'strin' }, 'T.c')).toThrow(/T\.c\.key/);
    expect(() => parseColumnType({ key: 'string', max: 0 }, 'T.c')).toThrow(OvsdbSchemaError);
    expect(() =>
      parseSchema({
        name: 'X',
        version: '1.0.0',
        tables: { A: { columns: { r: { type: { key: { type: 'uuid', refTable: 'B' } } } } } },
      }),
    ).toThrow(/refTable "B" does not exist/);
  });
});
