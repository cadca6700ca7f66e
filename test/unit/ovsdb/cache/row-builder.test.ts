import { describe, expect, it } from 'vitest';
import { DatabaseCache, OvsdbCacheError } from '../../../../ovsdb/cache/index.js';
import { columnCodec } from '../../../../ovsdb/cache/codec.js';
import { compileRowBuilder, genericRowBuilder } from '../../../../ovsdb/cache/row-builder.js';
import { parseSchema } from '../../../../ovsdb/schema.js';
import { P1, P2, U1, map, set, testSchema, uuid } from './fixtures.js';

const swCodecs = () => [...testSchema().tables.get('Sw')!.columns.values()].map(columnCodec);

const wireRows: Record<string, unknown>[] = [
  {},
  { name: 'a' },
  {
    name: 'b',
    count: 7,
    enabled: set(),
    tag: 12,
    ports: set(uuid(P1), uuid(P2)),
    addresses: 'one',
    pair: set('x', 'y'),
    external_ids: [
      'map',
      [
        ['k', 'v'],
        ['__proto__', 'p'],
      ],
    ],
    one_map: map({ only: 1 }),
    parent: uuid(U1),
  },
];

describe('row builders (full rows, ovsdb-server(7) §4.1.14 "initial")', () => {
  it('the generated builder and the loop builder build equal rows, defaults included', () => {
    const fast = compileRowBuilder(swCodecs());
    const slow = genericRowBuilder(swCodecs());
    for (const wire of wireRows) {
      const a = fast(U1, wire);
      expect(a).toEqual(slow(U1, wire));
      expect(Object.keys(a!)).toEqual(Object.keys(slow(U1, wire)!));
    }
    expect(fast(U1, { name: 'a' })).toMatchObject({
      _uuid: U1,
      name: 'a',
      count: 0,
      enabled: undefined,
      ports: [],
      external_ids: {},
    });
    const b = fast(U1, wireRows[2]!)!;
    expect(Object.getOwnPropertyDescriptor(b['external_ids'], '__proto__')?.value).toBe('p');
  });

  it('both report a member that is not a monitored column as undefined', () => {
    for (const build of [compileRowBuilder(swCodecs()), genericRowBuilder(swCodecs())]) {
      expect(build(U1, { name: 'a', bogus: 1 })).toBeUndefined();
    }
  });

  it('reads columns named like Object.prototype members only when the row has them', () => {
    const schema = parseSchema({
      name: 'T',
      version: '1.0.0',
      tables: { X: { columns: { constructor: { type: 'string' }, toString: { type: 'integer' } } } },
    });
    const codecs = [...schema.tables.get('X')!.columns.values()].map(columnCodec);
    for (const build of [compileRowBuilder(codecs), genericRowBuilder(codecs)]) {
      expect(build(U1, {})).toEqual({ _uuid: U1, constructor: '', toString: 0 });
      expect(build(U1, JSON.parse('{"constructor":"c","toString":3}') as Record<string, unknown>)).toEqual({
        _uuid: U1,
        constructor: 'c',
        toString: 3,
      });
    }
  });

  it('a malformed value fails the row with an error naming the column', async () => {
    const cache = new DatabaseCache(testSchema());
    const err = (await cache
      .applyUpdate2({ Sw: { [U1]: { initial: { name: 'a', tag: 'high' } } } })
      .catch((e: unknown) => e)) as OvsdbCacheError;
    expect(err).toBeInstanceOf(OvsdbCacheError);
    expect(err.message).toMatch(/column tag: expected an integer atom/);
    expect(cache.size).toBe(0);
  });
});
