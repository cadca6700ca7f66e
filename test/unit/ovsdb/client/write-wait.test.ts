/**
 * `waitForCache`: a transaction resolves only once the cache shows the rows it inserted.
 */
import { describe, expect, it } from 'vitest';
import { DatabaseCache } from '../../../../ovsdb/cache/index.js';
import { WriteTracker } from '../../../../ovsdb/client/write-wait.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { ops } from '../../../../ovsdb/transaction/index.js';

const o = ops<nb.Tables>();
const U1 = 'aaaaaaaa-0000-0000-0000-000000000001';
const U2 = 'aaaaaaaa-0000-0000-0000-000000000002';

function cache() {
  return new DatabaseCache(nb.schema(), { tables: { Logical_Switch: undefined, ACL: undefined } });
}

describe('WriteTracker', () => {
  it('resolves at once when the insert was applied before the reply', async () => {
    const c = cache();
    const t = new WriteTracker(c, () => true);
    await c.applyUpdate2({ Logical_Switch: { [U1]: { insert: { name: 'a' } } } });
    await t.wait([o.insert('Logical_Switch', { name: 'a' })], [U1], 50);
    expect(c.get('Logical_Switch', U1)?.['name']).toBe('a');
  });

  it('waits for an insert that arrives after the reply', async () => {
    const c = cache();
    const t = new WriteTracker(c, () => true);
    let resolved = false;
    const p = t.wait([o.insert('Logical_Switch', { name: 'b' })], [U2], 5000).then(() => (resolved = true));
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    await c.applyUpdate2({ Logical_Switch: { [U2]: { insert: { name: 'b' } } } });
    await p;
    expect(resolved).toBe(true);
  });

  it('ignores tables whose inserts will not show, and times out on missing rows', async () => {
    const c = cache();
    const skip = new WriteTracker(c, (t) => t !== 'ACL');
    await skip.wait([o.insert('ACL', { priority: 1 })], [U1], 50);
    const t = new WriteTracker(c, () => true);
    await expect(t.wait([o.insert('Logical_Switch', { name: 'c' })], [U1], 20)).rejects.toMatchObject({
      code: 'OVSDB_WRITE_NOT_SEEN',
    });
  });
});
