/**
 * OvsdbClient against a real 3-member RAFT cluster (OVN_Northbound): leader-only membership
 * (followers are skipped, never used), fast resync (`monitor_cond_since` with the last txn id)
 * after a forced reconnect and after the leader is killed, and failover to the new leader.
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
import { OvsdbClient, type ConnectedInfo } from '../../../../ovsdb/client/index.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { ops } from '../../../../ovsdb/transaction/index.js';
import { FAST, NB, NB_SCHEMA_PATH, nextEvent, record } from './helpers.js';

const o = ops<nb.Tables>();
let dir: string;
let cluster: OvsdbClusterHandle;
const remoteOf = (i: number) => cluster.members[i]!.unixRemote;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'client-cl-'));
  cluster = await startOvsdbCluster({ dir, name: 'nb', schema: NB_SCHEMA_PATH });
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The members' remotes with the leader last, so a leader-only client must skip both followers. */
async function remotesLeaderLast(): Promise<string[]> {
  const li = await waitForLeader(cluster);
  return [0, 1, 2]
    .filter((i) => i !== li)
    .concat(li)
    .map(remoteOf);
}

/** Records, for each `connected` event, the event and which member `cluster/status` calls leader. */
function auditConnections(client: OvsdbClient): { info: ConnectedInfo; leaderRemote: Promise<string> }[] {
  const seen: { info: ConnectedInfo; leaderRemote: Promise<string> }[] = [];
  client.on('connected', (info) => {
    seen.push({ info, leaderRemote: cluster.leaderIndex().then((i) => (i < 0 ? 'none' : remoteOf(i))) });
  });
  return seen;
}

describe('OvsdbClient on a RAFT cluster', () => {
  it('connects to the leader only, skipping followers', async () => {
    const remotes = await remotesLeaderLast();
    const client = OvsdbClient.create({ remotes, database: NB, ...FAST });
    const rejected = record(client, 'memberRejected');
    const audit = auditConnections(client);
    try {
      await client.start();
      await client.ready();
      const leader = remoteOf(await cluster.leaderIndex());
      expect(client.remote).toBe(leader);
      expect(client.member).toMatchObject({ model: 'clustered', leader: true });
      expect(rejected.map((r) => [r.remote, r.reason])).toEqual([
        [remotes[0], 'not-leader'],
        [remotes[1], 'not-leader'],
      ]);
      expect(audit).toHaveLength(1);
      expect(audit[0]!.info.remote).toBe(leader);
      expect(await audit[0]!.leaderRemote).toBe(leader);
    } finally {
      await client.close();
    }
  });

  it('resyncs fast after a reconnect and after the leader is killed, never using a follower', async () => {
    const client = OvsdbClient.create({ remotes: cluster.remotes, database: NB, ...FAST });
    const audit = auditConnections(client);
    const synced = record(client, 'synced');
    const leaderChanges = record(client, 'leaderChanged');
    try {
      await client.start();
      await client.ready();
      expect(synced[0]?.fast).toBe(false);
      await client.transact([o.insert('Logical_Switch', { name: 'before' })], { waitForCache: true });

      const again = nextEvent(client, 'synced');
      await client.reconnect();
      expect(await again).toMatchObject({ fast: true, method: 'monitor_cond_since' });

      // Kill the leader we use; the client must fail over to the newly elected leader.
      const old = await cluster.leaderIndex();
      expect(client.remote).toBe(remoteOf(old));
      const failedOver = nextEvent(client, 'synced', (s) => s.remote !== remoteOf(old));
      await cluster.members[old]!.kill('SIGKILL');
      const s = await failedOver;
      expect(s.fast).toBe(true);
      const now = await waitForLeader(cluster);
      expect(client.remote).toBe(remoteOf(now));
      expect(leaderChanges.some((c) => c.previous === remoteOf(old) && c.remote === remoteOf(now))).toBe(
        true,
      );

      // The cache survived the failover and follows the new leader.
      await client.transact([o.insert('Logical_Switch', { name: 'after' })], { waitForCache: true });
      const names = [...client.cache.rows('Logical_Switch')].map((r) => r['name']).sort();
      expect(names).toEqual(['after', 'before']);

      expect(audit.length).toBeGreaterThanOrEqual(3);
      for (const a of audit) {
        expect(a.info).toMatchObject({ model: 'clustered', leader: true });
        expect(await a.leaderRemote).toBe(a.info.remote);
      }
      await cluster.members[old]!.restart();
    } finally {
      await client.close();
    }
  });
});
