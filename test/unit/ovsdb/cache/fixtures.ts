/** Small schema and wire builders for cache unit tests: one column of every kind. */
import { parseSchema, type DatabaseSchema } from '../../../../ovsdb/schema.js';

export const U1 = '11111111-1111-4111-8111-111111111111';
export const U2 = '22222222-2222-4222-8222-222222222222';
export const U3 = '33333333-3333-4333-8333-333333333333';
export const P1 = 'aaaaaaaa-0000-4000-8000-000000000001';
export const P2 = 'aaaaaaaa-0000-4000-8000-000000000002';
export const P3 = 'aaaaaaaa-0000-4000-8000-000000000003';

/** A test database: `Sw` (root, one column of every kind, unique `name`) and `Port` (referenced). */
export function testSchema(): DatabaseSchema {
  return parseSchema({
    name: 'Test',
    version: '1.0.0',
    tables: {
      Sw: {
        isRoot: true,
        indexes: [['name']],
        columns: {
          name: { type: 'string' },
          count: { type: 'integer' },
          enabled: { type: { key: 'boolean', min: 0, max: 1 } },
          tag: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 1 } },
          ports: { type: { key: { type: 'uuid', refTable: 'Port' }, min: 0, max: 'unlimited' } },
          addresses: { type: { key: 'string', min: 0, max: 'unlimited' } },
          pair: { type: { key: 'string', min: 0, max: 2 } },
          external_ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
          one_map: { type: { key: 'string', value: 'integer', min: 0, max: 1 } },
          parent: { type: { key: { type: 'uuid', refTable: 'Sw', refType: 'weak' }, min: 0, max: 1 } },
        },
      },
      Port: {
        indexes: [['sw', 'num']],
        columns: {
          sw: { type: 'string' },
          num: { type: 'integer' },
          ratio: { type: 'real' },
        },
      },
    },
  });
}

export const uuid = (u: string) => ['uuid', u];
export const set = (...els: unknown[]) => ['set', els];
export const map = (obj: Record<string, unknown>) => ['map', Object.entries(obj)];
