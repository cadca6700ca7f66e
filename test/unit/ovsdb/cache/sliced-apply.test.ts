/**
 * Large messages are processed in slices without ever exposing part of a message: index keys
 * are computed while planning (between yields), tables that are empty are built off to the
 * side and swapped in, and the non-allocating index lookups.
 */
import { describe, expect, it } from 'vitest';
import { DatabaseCache, OvsdbCacheError, type Row } from '../../../../ovsdb/cache/index.js';
import { map, P1, P2, testSchema, U1, U2 } from './fixtures.js';

const uuidOf = (i: number) => `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`;
const owner = (r: Row) => (r['external_ids'] as Record<string, string>)['owner'];

/** `n` full Sw rows named s0.. with owner `o<i % owners>`. */
function dump(n: number, owners = 3, from = 0): Record<string, unknown> {
  const rows: Record<string, unknown> = {};
  for (let i = from; i < from + n; i++) {
    rows[uuidOf(i)] = { initial: { name: `s${i}`, external_ids: map({ owner: `o${i % owners}` }) } };
  }
  return rows;
}

/** Samples `probe()` on every turn of the event loop until `done` settles. */
async function sampleWhile<T>(done: Promise<T>, probe: () => string): Promise<{ value: T; seen: string[] }> {
  const seen: string[] = [];
  let finished = false;
  const tick = (): void => {
    if (finished) return;
    seen.push(probe());
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { value: await done, seen };
  } finally {
    finished = true;
  }
}

describe('sliced application of a large message', () => {
  it('runs the key functions between yields, before anything is visible, once per row', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    let calls = 0;
    cache.addIndex('Sw', 'owner', (r) => {
      calls++;
      return owner(r);
    });
    const { seen } = await sampleWhile(cache.applyUpdate2({ Sw: dump(1000) }), () => {
      const size = cache.table('Sw').size;
      return `${size}/${cache.lookupCount('Sw', 'owner', 'o1')}/${calls > 0 && size === 0 ? 'early' : ''}`;
    });
    // Key functions ran while the loop was turning and nothing was visible yet...
    expect(seen).toContain('0/0/early');
    // ...and readers saw the message not at all or whole.
    expect(seen.every((s) => s.startsWith('0/0/') || s === '1000/333/')).toBe(true);
    expect(calls).toBe(1000);
    expect(cache.lookupCount('Sw', 'owner', 'o1')).toBe(333);
    expect(cache.lookupFirst('Sw', 'name', 's7')?._uuid).toBe(uuidOf(7));
  });

  it('a unique clash deep in a large first load changes nothing, and the cache still works', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    const events: number[] = [];
    cache.onChange((b) => events.push(b.changes.length));
    const rows = dump(500);
    rows[U1] = { initial: { name: 's3' } }; // clashes with row 3 on the unique schema index "name"
    const err = (await cache.applyUpdate2({ Sw: rows }).catch((e: unknown) => e)) as OvsdbCacheError;
    expect(err).toBeInstanceOf(OvsdbCacheError);
    expect(err.code).toBe('OVSDB_CACHE_INDEX_VIOLATION');
    expect(cache.size).toBe(0);
    expect(cache.lookupCount('Sw', 'name', 's3')).toBe(0);
    expect(events).toEqual([]);
    await cache.applyUpdate2({ Sw: dump(500) });
    expect(cache.size).toBe(500);
    expect(cache.lookupFirst('Sw', 'name', 's3')?._uuid).toBe(uuidOf(3));
  });

  it('a unique client index clash in a large update3 keeps the last transaction id', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    cache.addIndex('Sw', 'owner', owner, { unique: true });
    await cache.applyUpdate3(P1, {
      Sw: { [U1]: { insert: { name: 'x', external_ids: map({ owner: 'a' }) } } },
    });
    const rows = dump(200, 1000, 10);
    rows[U2] = { insert: { name: 'y', external_ids: map({ owner: 'a' }) } };
    await expect(cache.applyUpdate3(P2, { Sw: rows })).rejects.toMatchObject({
      code: 'OVSDB_CACHE_INDEX_VIOLATION',
    });
    expect(cache.lastTxnId).toBe(P1);
    expect(cache.size).toBe(1);
  });

  it('a key function that throws fails the message before anything changes', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    cache.addIndex('Sw', 'picky', (r) => {
      if (r['name'] === 's250') throw new Error('picky');
      return owner(r);
    });
    await expect(cache.applyUpdate2({ Sw: dump(300) })).rejects.toThrow('picky');
    expect(cache.size).toBe(0);
    await cache.applyUpdate2({ Sw: dump(200) });
    await expect(cache.applyUpdate2({ Sw: dump(100, 3, 200) })).rejects.toThrow('picky');
    expect(cache.size).toBe(200);
    expect(cache.lookupCount('Sw', 'picky', 'o0')).toBe(67);
  });

  it('an index added while a large message is being planned is filled for its rows', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    const applying = cache.applyUpdate2({ Sw: dump(1000) });
    await new Promise((r) => setImmediate(r)); // the plan is under way
    cache.addIndex('Sw', 'late', owner);
    await applying;
    expect(cache.lookupCount('Sw', 'late', 'o2')).toBe(333);
    await cache.applyUpdate2({ Sw: { [uuidOf(2)]: { delete: null } } });
    expect(cache.lookupCount('Sw', 'late', 'o2')).toBe(332);
  });

  it('a large resync over existing rows moves, adds and drops index keys', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    cache.addIndex('Sw', 'owner', owner);
    await cache.applyUpdate2({ Sw: dump(600) });
    // Rows 0..299 go, 300..599 change owner (4 owners now), 600..899 arrive.
    const { seen, value } = await sampleWhile(cache.replace({ Sw: dump(600, 4, 300) }, 'update2'), () =>
      String(cache.table('Sw').size),
    );
    expect(new Set(seen)).toEqual(new Set(['600']));
    expect(value.filter((c) => c.kind === 'delete')).toHaveLength(300);
    expect(value.filter((c) => c.kind === 'insert')).toHaveLength(300);
    expect(cache.size).toBe(600);
    const want = new Map<string, number>();
    for (let i = 300; i < 900; i++) want.set(`o${i % 4}`, (want.get(`o${i % 4}`) ?? 0) + 1);
    for (const [o, n] of want) expect(cache.lookupCount('Sw', 'owner', o)).toBe(n);
    expect(cache.lookupFirst('Sw', 'name', 's10')).toBeUndefined();
    expect(cache.lookupFirst('Sw', 'name', 's899')?._uuid).toBe(uuidOf(899));
  });
});

describe('slice bounds', () => {
  it('yields after sliceMs however few rows that is (costly key functions)', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 1e9, sliceMs: 5 });
    // 0.2 ms a row: the clock is read every 32 rows (6.4 ms), so slices end on time, not count.
    cache.addIndex('Sw', 'slow', (r) => {
      const until = performance.now() + 0.2;
      while (performance.now() < until);
      return owner(r);
    });
    const { seen } = await sampleWhile(cache.applyUpdate2({ Sw: dump(200) }), () =>
      String(cache.table('Sw').size),
    );
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set(['0']));
    expect(cache.lookupCount('Sw', 'slow', 'o0')).toBe(67);
  });

  it('a resync runs key functions for changed rows only', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 50 });
    let calls = 0;
    cache.addIndex('Sw', 'owner', (r) => {
      calls++;
      return owner(r);
    });
    await cache.applyUpdate2({ Sw: dump(300) });
    calls = 0;
    const rows = dump(300);
    rows[uuidOf(5)] = { initial: { name: 's5', external_ids: map({ owner: 'new' }) } };
    await cache.replace({ Sw: rows }, 'update2');
    expect(calls).toBe(2); // row 5: its old and its new version
    expect(cache.lookupFirst('Sw', 'owner', 'new')?._uuid).toBe(uuidOf(5));
  });
});

describe('non-allocating lookups', () => {
  it('lookupFirst, lookupCount and lookupEach agree with lookup, unique or not', async () => {
    const cache = new DatabaseCache(testSchema());
    cache.addIndex('Sw', 'owner', owner);
    await cache.applyUpdate2({ Sw: dump(10) });
    for (const [index, key] of [
      ['owner', 'o0'],
      ['owner', 'none'],
      ['name', 's4'],
      ['name', 'none'],
    ] as const) {
      const all = cache.lookup('Sw', index, key);
      const each: Row[] = [];
      cache.lookupEach('Sw', index, key, (r) => each.push(r));
      expect(each).toEqual(all);
      expect(cache.lookupCount('Sw', index, key)).toBe(all.length);
      expect(cache.lookupFirst('Sw', index, key)).toBe(all[0]);
    }
    expect(cache.lookupCount('Sw', 'owner', 'o0')).toBe(4);
    const index = cache.table('Sw').index('owner');
    expect(index?.first('o1')).toBe(uuidOf(1));
    expect(index?.count('o1')).toBe(3);
    expect(() => cache.lookupFirst('Sw', 'nope', 'x')).toThrow(/no index "nope"/);
  });
});
