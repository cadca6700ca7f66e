import { describe, expect, it } from 'vitest';
import { DatabaseCache, OvsdbCacheError, type ChangeBatch } from '../../../../ovsdb/cache/index.js';
import { P1, P2, P3, U1, U2, U3, map, set, testSchema, uuid } from './fixtures.js';

const sw = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });

describe('RFC 7047 update (old/new)', () => {
  it('inserts, modifies with the new values and deletes', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate({ Sw: { [U1]: { new: sw('a', { ports: set(uuid(P1)), tag: set() }) } } });
    expect(cache.get('Sw', U1)).toMatchObject({ name: 'a', ports: [P1], tag: undefined });
    await cache.applyUpdate({
      Sw: { [U1]: { old: { tag: set() }, new: sw('a', { ports: set(uuid(P1), uuid(P2)), tag: 3 }) } },
    });
    expect(cache.get('Sw', U1)).toMatchObject({ ports: [P1, P2], tag: 3 });
    await cache.applyUpdate({ Sw: { [U1]: { old: sw('a') } } });
    expect(cache.size).toBe(0);
  });

  it('rejects an update without old and new', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate({ Sw: { [U1]: { new: sw('a') } } });
    await expect(cache.applyUpdate({ Sw: { [U1]: {} } })).rejects.toBeInstanceOf(OvsdbCacheError);
  });
});

describe('atomicity', () => {
  const bad: [string, unknown][] = [
    ['a wrong atom type', { Sw: { [U3]: { insert: { name: 42 } } } }],
    ['an unknown column', { Sw: { [U3]: { insert: { name: 'c', bogus: 1 } } } }],
    ['a modify of a missing row', { Sw: { [U3]: { modify: { count: 1 } } } }],
    ['an insert of an existing row', { Sw: { [U2]: { insert: { name: 'z' } } } }],
    ['an unknown table', { Nope: { [U3]: { insert: {} } } }],
    ['a unique-index clash', { Sw: { [U3]: { insert: { name: 'b' } } } }],
    ['two members in one row-update2', { Sw: { [U3]: { insert: {}, delete: null } } }],
  ];
  it.each(bad)('a message with %s in the middle changes nothing', async (_what, badTable) => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate2({ Sw: { [U1]: { initial: sw('a') }, [U2]: { initial: sw('b') } } });
    const before = cache.dump();
    const seq = cache.seqno;
    const events: ChangeBatch[] = [];
    cache.onChange((b) => events.push(b));
    // Good changes before and after the bad part: the Port insert and the Sw modify.
    const { Sw: badSw, ...otherBad } = badTable as { Sw?: object };
    const withGood = {
      Port: { [P1]: { insert: { sw: 'x', num: 1 } } },
      ...otherBad,
      Sw: { ...badSw, [U1]: { modify: { count: 5 } } },
    };
    await expect(cache.applyUpdate2(withGood)).rejects.toBeInstanceOf(OvsdbCacheError);
    expect(cache.dump()).toEqual(before);
    expect(cache.seqno).toBe(seq);
    expect(events).toEqual([]);
    expect(cache.lookup('Sw', 'name', 'a').map((r) => r._uuid)).toEqual([U1]);
  });

  it('accepts a name moving between rows within one message', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate2({ Sw: { [U1]: { initial: sw('a') } } });
    await cache.applyUpdate2({ Sw: { [U2]: { insert: sw('a') }, [U1]: { modify: { name: 'b' } } } });
    expect(cache.lookup('Sw', 'name', 'a')[0]?._uuid).toBe(U2);
    expect(cache.lookup('Sw', 'name', 'b')[0]?._uuid).toBe(U1);
  });

  it('rejects two rows of one message claiming the same unique key, naming both, on a first load too', async () => {
    for (const existing of [false, true]) {
      const cache = new DatabaseCache(testSchema());
      if (existing) await cache.applyUpdate2({ Sw: { [U3]: { initial: sw('z') } } });
      const err = (await cache
        .replace({ Sw: { [U1]: { initial: sw('a') }, [U2]: { initial: sw('a') } } }, 'update2')
        .catch((e: unknown) => e)) as OvsdbCacheError;
      expect(err).toMatchObject({ code: 'OVSDB_CACHE_INDEX_VIOLATION' });
      expect(err.message).toContain(`held by ${U1} and ${U2}`);
      expect(cache.size).toBe(existing ? 1 : 0);
    }
  });
});

describe('indexes', () => {
  it('schema indexes follow insert, modify and delete', async () => {
    const cache = new DatabaseCache(testSchema());
    expect(cache.table('Sw').indexNames()).toEqual(['name']);
    await cache.applyUpdate2({ Sw: { [U1]: { insert: sw('a') } } });
    expect(cache.lookup('Sw', 'name', 'a')).toEqual([cache.get('Sw', U1)]);
    await cache.applyUpdate2({ Sw: { [U1]: { modify: { name: 'b' } } } });
    expect(cache.lookup('Sw', 'name', 'a')).toEqual([]);
    expect(cache.lookup('Sw', 'name', 'b')[0]?._uuid).toBe(U1);
    await cache.applyUpdate2({ Sw: { [U1]: { delete: null } } });
    expect(cache.lookup('Sw', 'name', 'b')).toEqual([]);
  });

  it('composite schema indexes are keyed by the JSON of the values', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate2({ Port: { [P1]: { insert: { sw: 's', num: 1 } } } });
    const key = cache.table('Port').index('sw,num');
    expect(key?.get(JSON.stringify(['s', 1]))).toEqual([P1]);
  });

  it('client indexes (single and multi-valued) are updated incrementally', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate2({
      Sw: { [U1]: { initial: sw('a', { external_ids: map({ owner: 'o1' }), addresses: set('m1', 'm2') }) } },
    });
    cache.addIndex('Sw', 'owner', (r) => (r['external_ids'] as Record<string, string>)['owner']);
    cache.addIndex('Sw', 'addr', (r) => r['addresses'] as string[]);
    expect(cache.lookup('Sw', 'owner', 'o1').map((r) => r._uuid)).toEqual([U1]);
    await cache.applyUpdate2({
      Sw: {
        [U2]: { insert: sw('b', { external_ids: map({ owner: 'o1' }), addresses: 'm2' }) },
        [U1]: { modify: { external_ids: map({ owner: 'o2' }), addresses: 'm1' } },
      },
    });
    expect(cache.lookup('Sw', 'owner', 'o1').map((r) => r._uuid)).toEqual([U2]);
    expect(cache.lookup('Sw', 'owner', 'o2').map((r) => r._uuid)).toEqual([U1]);
    expect(cache.lookup('Sw', 'addr', 'm1')).toEqual([]);
    expect(new Set(cache.lookup('Sw', 'addr', 'm2').map((r) => r._uuid))).toEqual(new Set([U1, U2]));
    await cache.applyUpdate2({ Sw: { [U2]: { delete: null } } });
    expect(cache.lookup('Sw', 'owner', 'o1')).toEqual([]);
    expect(cache.lookup('Sw', 'addr', 'm2').map((r) => r._uuid)).toEqual([U1]);
  });

  it('a unique client index rejects a clash, at definition and on update', async () => {
    const cache = new DatabaseCache(testSchema());
    const owner = (r: { [k: string]: unknown }) => (r['external_ids'] as Record<string, string>)['owner'];
    await cache.applyUpdate2({ Sw: { [U1]: { initial: sw('a', { external_ids: map({ owner: 'x' }) }) } } });
    cache.addIndex('Sw', 'owner', owner, { unique: true });
    await expect(
      cache.applyUpdate2({ Sw: { [U2]: { insert: sw('b', { external_ids: map({ owner: 'x' }) }) } } }),
    ).rejects.toMatchObject({ code: 'OVSDB_CACHE_INDEX_VIOLATION' });
    expect(cache.size).toBe(1);
    expect(() => cache.addIndex('Sw', 'owner', owner)).toThrow(/already exists/);
  });
});

describe('events and seqno', () => {
  it('emits one batch per message after it is applied', async () => {
    const cache = new DatabaseCache(testSchema());
    const seen: { batch: ChangeBatch; size: number }[] = [];
    cache.onChange((batch) => seen.push({ batch, size: cache.size }));
    await cache.applyUpdate2({ Sw: { [U1]: { initial: sw('a') }, [U2]: { initial: sw('b') } } });
    await cache.applyUpdate2({ Sw: { [U1]: { modify: { count: 1 } }, [U2]: { delete: null } } });
    await cache.applyUpdate2({});
    expect(seen.map((s) => s.size)).toEqual([2, 1]);
    expect(seen.map((s) => s.batch.seqno)).toEqual([1, 2]);
    expect(cache.seqno).toBe(2);
    const [mod, del] = seen[1]!.batch.changes;
    expect(mod).toMatchObject({
      table: 'Sw',
      kind: 'update',
      uuid: U1,
      old: { count: 0 },
      new: { count: 1 },
    });
    expect(del).toMatchObject({ kind: 'delete', uuid: U2, old: { name: 'b' } });
    expect(del?.new).toBeUndefined();
  });

  it('a throwing listener does not break the cache', async () => {
    const errors: unknown[] = [];
    const cache = new DatabaseCache(testSchema(), { onListenerError: (e) => errors.push(e) });
    cache.onChange(() => {
      throw new Error('boom');
    });
    await cache.applyUpdate2({ Sw: { [U1]: { initial: sw('a') } } });
    expect(cache.size).toBe(1);
    expect(errors).toHaveLength(1);
  });
});

describe('replace (full resync) and clear', () => {
  it('emits only the net changes and keeps unchanged rows by identity', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.applyUpdate2({
      Sw: {
        [U1]: { initial: sw('same', { addresses: set('x', 'y') }) },
        [U2]: { initial: sw('changes') },
        [U3]: { initial: sw('goes') },
      },
    });
    const same = cache.get('Sw', U1);
    const batches: ChangeBatch[] = [];
    cache.onChange((b) => batches.push(b));
    const changes = await cache.replace(
      {
        Sw: {
          [U1]: { initial: sw('same', { addresses: set('y', 'x') }) },
          [U2]: { initial: sw('changes', { count: 4 }) },
        },
        Port: { [P3]: { initial: { sw: 'p' } } },
      },
      'update2',
      P2,
    );
    expect(changes.map((c) => [c.kind, c.uuid]).sort()).toEqual(
      [
        ['delete', U3],
        ['insert', P3],
        ['update', U2],
      ].sort(),
    );
    expect(cache.get('Sw', U1)).toBe(same);
    expect(cache.lookup('Sw', 'name', 'goes')).toEqual([]);
    expect(cache.lastTxnId).toBe(P2);
    expect(batches.map((b) => b.cause)).toEqual(['resync']);
  });

  it('replace accepts RFC 7047 contents and clear() empties everything', async () => {
    const cache = new DatabaseCache(testSchema());
    await cache.replace({ Sw: { [U1]: { new: sw('a') } } }, 'update');
    expect(cache.lookup('Sw', 'name', 'a')).toHaveLength(1);
    const changes = await cache.clear();
    expect(changes).toMatchObject([{ kind: 'delete', uuid: U1 }]);
    expect(cache.size).toBe(0);
    expect(cache.lookup('Sw', 'name', 'a')).toEqual([]);
  });
});

describe('large messages', () => {
  it('yields to the event loop while decoding yet emits one batch at the end', async () => {
    const cache = new DatabaseCache(testSchema(), { sliceRows: 100 });
    const rows: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) {
      const u = `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`;
      rows[u] = { initial: sw(`s${i}`, { external_ids: map({ i: String(i) }) }) };
    }
    let ticks = 0;
    let sizeDuringTicks = -1;
    const timer = setInterval(() => {
      ticks++;
      sizeDuringTicks = Math.max(sizeDuringTicks, cache.size);
    }, 0);
    const batches: number[] = [];
    cache.onChange((b) => batches.push(b.changes.length));
    await cache.applyUpdate2({ Sw: rows });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(sizeDuringTicks).toBe(0);
    expect(batches).toEqual([1000]);
    expect(cache.estimateBytesPerRow()).toBeGreaterThan(100);
  });
});
