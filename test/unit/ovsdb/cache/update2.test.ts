import { describe, expect, it } from 'vitest';
import { DatabaseCache, OvsdbCacheError, ZERO_UUID } from '../../../../ovsdb/cache/index.js';
import { P1, P2, P3, U1, U2, map, set, testSchema, uuid } from './fixtures.js';

async function withRow(row: Record<string, unknown> = {}) {
  const cache = new DatabaseCache(testSchema());
  await cache.applyUpdate2({ Sw: { [U1]: { initial: { name: 'sw1', ...row } } } });
  return cache;
}

const modify = (cache: DatabaseCache, diff: Record<string, unknown>) =>
  cache.applyUpdate2({ Sw: { [U1]: { modify: diff } } });

describe('update2 initial/insert', () => {
  it('decodes every column kind and fills omitted columns with defaults', async () => {
    const cache = await withRow({
      count: 7,
      tag: 5,
      ports: set(uuid(P1), uuid(P2)),
      addresses: 'mac1',
      external_ids: map({ a: '1' }),
      parent: uuid(U2),
    });
    expect(cache.get('Sw', U1)).toEqual({
      _uuid: U1,
      name: 'sw1',
      count: 7,
      enabled: undefined,
      tag: 5,
      ports: [P1, P2],
      addresses: ['mac1'],
      pair: [],
      external_ids: { a: '1' },
      one_map: {},
      parent: U2,
    });
    await cache.applyUpdate2({ Port: { [P1]: { insert: {} } } });
    expect(cache.get('Port', P1)).toEqual({ _uuid: P1, sw: '', num: 0, ratio: 0 });
    expect(cache.size).toBe(2);
  });

  it('keeps a "__proto__" map key as data', async () => {
    const cache = await withRow({ external_ids: ['map', [['__proto__', 'x']]] });
    const ids = cache.get('Sw', U1)?.['external_ids'] as Record<string, string>;
    expect(Object.keys(ids)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(ids)).toBe(Object.prototype);
  });
});

describe('update2 modify diff semantics (ovsdb-server(7) §4.1.14)', () => {
  it('scalar columns carry the new value', async () => {
    const cache = await withRow({ count: 1 });
    await modify(cache, { name: 'renamed', count: 2 });
    expect(cache.get('Sw', U1)).toMatchObject({ name: 'renamed', count: 2 });
  });

  it('optional columns: set when absent, replaced when present, cleared by an empty set', async () => {
    const cache = await withRow();
    await modify(cache, { tag: 10, enabled: true });
    expect(cache.get('Sw', U1)).toMatchObject({ tag: 10, enabled: true });
    await modify(cache, { tag: set(20) });
    expect(cache.get('Sw', U1)?.['tag']).toBe(20);
    await modify(cache, { tag: set(), enabled: set() });
    expect(cache.get('Sw', U1)).toMatchObject({ tag: undefined, enabled: undefined });
  });

  it('weak optional refs behave like optional atoms', async () => {
    const cache = await withRow({ parent: uuid(U2) });
    await modify(cache, { parent: set() });
    expect(cache.get('Sw', U1)?.['parent']).toBeUndefined();
    await modify(cache, { parent: uuid(U1) });
    expect(cache.get('Sw', U1)?.['parent']).toBe(U1);
  });

  it('sets with max > 1 toggle each element of the diff (symmetric difference)', async () => {
    const cache = await withRow({ ports: set(uuid(P1), uuid(P2)), addresses: set('a', 'b') });
    await modify(cache, { ports: set(uuid(P2), uuid(P3)), addresses: 'c' });
    const row = cache.get('Sw', U1);
    expect([...(row?.['ports'] as string[])].sort()).toEqual([P1, P3]);
    expect([...(row?.['addresses'] as string[])].sort()).toEqual(['a', 'b', 'c']);
    await modify(cache, { addresses: set('a', 'b', 'c') });
    expect(cache.get('Sw', U1)?.['addresses']).toEqual([]);
  });

  it('a set diff that would exceed max is rejected', async () => {
    const cache = await withRow({ pair: set('x', 'y') });
    await expect(modify(cache, { pair: 'z' })).rejects.toBeInstanceOf(OvsdbCacheError);
    expect(cache.get('Sw', U1)?.['pair']).toEqual(['x', 'y']);
  });

  it('maps: absent key added, same value removed, different value replaced', async () => {
    const cache = await withRow({ external_ids: map({ keep: 'k', drop: 'd', change: 'old' }) });
    await modify(cache, { external_ids: map({ drop: 'd', change: 'new', add: 'a' }) });
    expect(cache.get('Sw', U1)?.['external_ids']).toEqual({ keep: 'k', change: 'new', add: 'a' });
  });

  it('a map with max 1 carries its new value, not a diff', async () => {
    const cache = await withRow({ one_map: map({ a: 1 }) });
    await modify(cache, { one_map: map({ a: 1 }) });
    expect(cache.get('Sw', U1)?.['one_map']).toEqual({ a: 1 });
    await modify(cache, { one_map: map({}) });
    expect(cache.get('Sw', U1)?.['one_map']).toEqual({});
  });

  it('never mutates the previous row object', async () => {
    const cache = await withRow({ ports: set(uuid(P1)), external_ids: map({ a: '1' }) });
    const before = cache.get('Sw', U1);
    const snapshot = structuredClone(before);
    await modify(cache, { ports: uuid(P2), external_ids: map({ a: '1', b: '2' }), count: 3 });
    expect(before).toEqual(snapshot);
    expect(cache.get('Sw', U1)).not.toBe(before);
  });

  it('delete removes the row', async () => {
    const cache = await withRow();
    await cache.applyUpdate2({ Sw: { [U1]: { delete: null } } });
    expect(cache.get('Sw', U1)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('update3', () => {
  it('applies like update2 and records the last transaction id', async () => {
    const cache = await withRow();
    await cache.applyUpdate3(U2, { Sw: { [U1]: { modify: { count: 9 } } } });
    expect(cache.get('Sw', U1)?.['count']).toBe(9);
    expect(cache.lastTxnId).toBe(U2);
    await cache.applyUpdate3(ZERO_UUID, {});
    expect(cache.lastTxnId).toBeUndefined();
  });

  it('keeps the old last-txn-id when the message is rejected', async () => {
    const cache = await withRow();
    await cache.applyUpdate3(U2, {});
    await expect(cache.applyUpdate3(U1, { Sw: { [U2]: { modify: {} } } })).rejects.toThrow(
      /not in the cache/,
    );
    expect(cache.lastTxnId).toBe(U2);
  });
});

describe('defaults', () => {
  it('uuid scalar default is the all-zero uuid', () => {
    expect(ZERO_UUID).toBe('00000000-0000-0000-0000-000000000000');
  });
});
