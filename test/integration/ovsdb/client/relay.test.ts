/**
 * OvsdbClient through a real relay ovsdb-server (ovsdb-server(1) "relay:<db>:<remotes>",
 * ovsdb(7) "Relay Service Model"): the relay is accepted even with leader-only on (a relay
 * has no leader), its replica syncs, writes made through it are forwarded to the source and
 * come back as updates, and writes made at the source reach the client through the relay.
 * This is how node agents will read the Southbound database at scale.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { OvsdbClient } from '../../../../ovsdb/client/index.js';
import type { nb } from '../../../../ovsdb/models/index.js';
import { ops } from '../../../../ovsdb/transaction/index.js';
import { FAST, NB, NB_SCHEMA_PATH, switchNames, untilCache } from './helpers.js';

const o = ops<nb.Tables>();
let dir: string;
let source: OvsdbServerHandle;
let relay: OvsdbServerHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'client-relay-'));
  source = await startOvsdbServer({ dir, name: 'nb', schema: NB_SCHEMA_PATH });
  relay = await startOvsdbServer({
    dir,
    name: 'nb-relay',
    schema: NB_SCHEMA_PATH,
    relay: { database: NB, source: source.unixRemote },
  });
});

afterAll(async () => {
  await relay?.stop();
  await source?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const names = (client: OvsdbClient) =>
  [...client.cache.rows('Logical_Switch')].map((r) => r['name'] as string).sort();

describe('OvsdbClient on a relay', () => {
  it('syncs through the relay, forwards writes to the source and mirrors writes made at the source', async () => {
    const seed = await OvsdbClient.connect({ remotes: source.unixRemote, database: NB, ...FAST });
    await seed.transact([o.insert('Logical_Switch', { name: 'before' })]);

    const client = await OvsdbClient.connect({ remotes: relay.unixRemote, database: NB, ...FAST });
    try {
      await client.ready();
      expect(client.leaderOnly).toBe(true);
      expect(client.member?.model).toBe('relay');
      await untilCache(client.cache, () => names(client).includes('before'), 'the relay copy to sync');

      // A write through the relay lands at the source and comes back as an update.
      const [uuid] = await client.transact([o.insert('Logical_Switch', { name: 'via-relay' })], {
        waitForCache: true,
      });
      expect(client.cache.get('Logical_Switch', uuid)?.['name']).toBe('via-relay');
      expect((await switchNames(source.unixRemote)).sort()).toEqual(['before', 'via-relay']);

      // A write at the source reaches the relay client's cache.
      await seed.transact([o.insert('Logical_Switch', { name: 'at-source' })]);
      await untilCache(client.cache, () => names(client).includes('at-source'), 'the source write to arrive');
      expect(names(client)).toEqual(['at-source', 'before', 'via-relay']);

      // A transaction the source rejects (a reference to a row that does not exist) fails
      // through the relay with the source's error, and nothing is applied.
      const err = await client
        .transact([
          o.insert('Logical_Switch', { name: 'dangling', ports: ['1b2c3d4e-0000-4000-8000-000000000001'] }),
        ])
        .then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
      expect(err?.code).toBe('OVSDB_TXN_REFERENTIAL_INTEGRITY');
      expect((await switchNames(source.unixRemote)).includes('dangling')).toBe(false);
    } finally {
      await client.close();
      await seed.close();
    }
  });
});
