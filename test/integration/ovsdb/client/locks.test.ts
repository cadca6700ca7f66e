/**
 * Locks against a real ovsdb-server (RFC 7047 §4.1.8-10): two clients contend for one lock,
 * `assertLock` guards writes, the waiter gets `locked` when the owner's session dies, `steal`
 * moves the lock and the victim gets `stolen`, and a lock is re-requested after reconnecting.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { OvsdbClient } from '../../../../ovsdb/client/index.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { OvsdbTransactionError, ops } from '../../../../ovsdb/transaction/index.js';
import { FAST, NB, NB_SCHEMA_PATH } from './helpers.js';

const o = ops<nb.Tables>();
const LOCK = 'vpc_agent_nb_writer';
let dir: string;
let server: OvsdbServerHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'client-lock-'));
  server = await startOvsdbServer({ dir, name: 'nb', schema: NB_SCHEMA_PATH });
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function newClient(): Promise<OvsdbClient> {
  const c = await OvsdbClient.connect({
    remotes: server.unixRemote,
    database: NB,
    schema: nb.schema(),
    monitor: { tables: { Logical_Switch: { columns: ['name'] } } },
    ...FAST,
  });
  await c.ready();
  return c;
}

const guardedInsert = (name: string) => [o.assertLock(LOCK), o.insert('Logical_Switch', { name })] as const;

describe('OvsdbClient locks', () => {
  it('elects one owner, guards writes with assert, hands over on disconnect and steal', async () => {
    const a = await newClient();
    const b = await newClient();
    try {
      const la = a.lock(LOCK);
      await la.acquired;
      expect(la.isOwner).toBe(true);

      const lb = b.lock(LOCK);
      const bLocked = once(lb, 'locked');
      // B's request is queued on the server: not the owner.
      await b.transact([o.comment('barrier')]);
      expect(lb.isOwner).toBe(false);

      await a.transact(guardedInsert('from-a'), { waitForCache: true });
      const err = await b.transact(guardedInsert('from-b')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OvsdbTransactionError);
      expect((err as OvsdbTransactionError).code).toBe('OVSDB_TXN_NOT_OWNER');
      expect((err as OvsdbTransactionError).opIndex).toBe(0);

      // A's session dies: the server gives the lock to B; A loses it and queues again.
      const aReleased = once(la, 'released');
      await a.reconnect();
      expect(await aReleased).toEqual(['disconnected']);
      await bLocked;
      expect(lb.isOwner).toBe(true);
      await b.transact(guardedInsert('from-b'), { waitForCache: true });
      await a.ready();
      await a.transact([o.comment('barrier')]);
      expect(la.isOwner).toBe(false);

      // A steals it back; B is told.
      const bStolen = once(lb, 'stolen');
      await la.steal();
      await bStolen;
      expect(la.isOwner).toBe(true);
      expect(lb.isOwner).toBe(false);
      const err2 = await b.transact(guardedInsert('from-b-2')).catch((e: unknown) => e);
      expect((err2 as OvsdbTransactionError).code).toBe('OVSDB_TXN_NOT_OWNER');

      // A closes: B, still queued, gets the lock again.
      const bAgain = once(lb, 'locked');
      await a.close();
      await bAgain;
      expect(lb.isOwner).toBe(true);

      const names = [...b.cache.rows('Logical_Switch')].map((r) => r['name']).sort();
      expect(names).toEqual(['from-a', 'from-b']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('unlock releases the lock and rejects a pending acquire', async () => {
    const a = await newClient();
    const b = await newClient();
    try {
      const la = a.lock('other');
      await la.acquired;
      const lb = b.lock('other');
      const lbLocked = once(lb, 'locked');
      const released = once(la, 'released');
      await la.unlock();
      expect(await released).toEqual(['unlock']);
      await lbLocked;
      expect(lb.isOwner).toBe(true);
      const lc = a.lock('other');
      expect(lc).not.toBe(la);
      await lc.unlock();
      await expect(lc.acquired).rejects.toMatchObject({ code: 'OVSDB_LOCK_RELEASED' });
      // RFC 7047 §3.1 <id>: the server would refuse this name.
      expect(() => a.lock('has-dash')).toThrow(expect.objectContaining({ code: 'OVSDB_BAD_LOCK_NAME' }));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
