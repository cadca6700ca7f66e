/**
 * Exactly-once writes across a leader crash: a stream of 240 "insert unless it exists"
 * transactions through `client.run` (four concurrent writers) while the RAFT leader is
 * SIGKILLed mid-stream. The client must fail over to the new leader, and afterwards every
 * switch must exist exactly once — none lost, none applied twice (ovsdb(7) "Understanding
 * Cluster Consistency": a resent write is at-least-once, a rebuilt one is not).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startOvsdbCluster,
  waitForLeader,
  type OvsdbClusterHandle,
} from '../../../../agent/sandbox/ovsdb-server.js';
import type { DatabaseCache } from '../../../../ovsdb/cache/index.js';
import { OvsdbClient, type RunResult } from '../../../../ovsdb/client/index.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { ops } from '../../../../ovsdb/transaction/index.js';
import { FAST, NB, NB_SCHEMA_PATH, record, switchNames } from './helpers.js';

const o = ops<nb.Tables>();
const TOTAL = 240;
const WRITERS = 4;
const KILL_AFTER = 80;

let dir: string;
let cluster: OvsdbClusterHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'client-fo-'));
  cluster = await startOvsdbCluster({ dir, name: 'nb', schema: NB_SCHEMA_PATH });
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * "Insert switch `name` unless the cache has it", guarded on the server by a `wait` that
 * fails ("timed out") if a switch of that name already exists.
 */
function insertUnlessExists(name: string) {
  return (cache: DatabaseCache) => {
    if (cache.lookup('Logical_Switch', 'byName', name).length > 0) return undefined;
    return [
      o.wait('Logical_Switch', [['name', '==', name]], ['name'], '==', [], 0),
      o.insert('Logical_Switch', { name, external_ids: { 'vpc-agent.io/test': 'failover' } }),
    ];
  };
}

describe('OvsdbClient.run across a leader crash', () => {
  it(`applies ${TOTAL} writes exactly once while the leader is SIGKILLed`, async () => {
    const client = OvsdbClient.create({
      remotes: cluster.remotes,
      database: NB,
      schema: nb.schema(),
      ...FAST,
    });
    const synced = record(client, 'synced');
    const disconnected = record(client, 'disconnected');
    try {
      await client.start();
      await client.ready();
      client.cache.addIndex('Logical_Switch', 'byName', (r) => r['name'] as string);
      const firstLeader = await cluster.leaderIndex();
      expect(client.remote).toBe(cluster.members[firstLeader]!.unixRemote);

      let done = 0;
      let killed: Promise<void> | undefined;
      const results: RunResult[] = [];
      const names = Array.from({ length: TOTAL }, (_, i) => `fo-${String(i).padStart(3, '0')}`);
      const writer = async (w: number) => {
        for (let i = w; i < TOTAL; i += WRITERS) {
          results.push(await client.run(insertUnlessExists(names[i]!), { maxAttempts: 20 }));
          if (++done === KILL_AFTER) killed = cluster.members[firstLeader]!.kill('SIGKILL');
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await killed;

      // The client failed over: a new leader, a disconnect seen, a later sync on another member.
      const newLeader = await waitForLeader(cluster);
      expect(newLeader).not.toBe(firstLeader);
      expect(client.remote).toBe(cluster.members[newLeader]!.unixRemote);
      expect(disconnected.length).toBeGreaterThanOrEqual(1);
      expect(synced.at(-1)?.remote).toBe(cluster.members[newLeader]!.unixRemote);

      // Every write present exactly once, counted by an independent client on the new leader.
      const onServer = (await switchNames(cluster.members[newLeader]!.unixRemote)).filter((n) =>
        n.startsWith('fo-'),
      );
      const counts = new Map<string, number>();
      for (const n of onServer) counts.set(n, (counts.get(n) ?? 0) + 1);
      expect(onServer).toHaveLength(TOTAL);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      expect([...counts.keys()].sort()).toEqual(names);
      // And the cache agrees.
      const cached = [...client.cache.rows('Logical_Switch')].map((r) => r['name'] as string);
      expect(cached.filter((n) => n.startsWith('fo-')).sort()).toEqual(names);
      expect(results).toHaveLength(TOTAL);
      const retried = results.filter((r) => r.attempts > 1).length;
      const committedUnseen = results.filter((r) => r.attempts > 1 && r.results === undefined).length;
      console.info(
        `failover: ${retried}/${TOTAL} writes retried, ${committedUnseen} of them had committed before the crash`,
      );
    } finally {
      await client.close();
    }
  });
});
