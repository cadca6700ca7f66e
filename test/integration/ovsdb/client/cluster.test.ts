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
  clusterStatus,
  startOvsdbCluster,
  waitForLeader,
  type OvsdbClusterHandle,
} from '../../../../agent/sandbox/ovsdb-server.js';
import { run, waitUntil } from '../../../../agent/sandbox/process.js';
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

/** Waits until every member has joined and all agree on one leader. */
async function settled(): Promise<void> {
  await waitUntil(
    async () => {
      const st = await Promise.all(cluster.members.map((m) => clusterStatus(m, cluster.dbName)));
      // `Leader:` is "self" on the leader and its short id elsewhere, "unknown" during elections.
      return (
        st.every((x) => x?.status === 'cluster member' && x.leader !== 'unknown') &&
        st.filter((x) => x?.role === 'leader').length === 1
      );
    },
    { what: 'cluster to settle', timeoutMs: 30_000, intervalMs: 100 },
  );
}

/**
 * Records each `connected` event with the role that member itself reports through
 * `cluster/status` (asked right away, independently of the client's `_Server` view).
 */
function auditConnections(client: OvsdbClient): { info: ConnectedInfo; role: Promise<string | undefined> }[] {
  const seen: { info: ConnectedInfo; role: Promise<string | undefined> }[] = [];
  client.on('connected', (info) => {
    const member = cluster.members.find((m) => m.unixRemote === info.remote)!;
    seen.push({ info, role: clusterStatus(member, cluster.dbName).then((st) => st?.role) });
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
      expect(await audit[0]!.role).toBe('leader');
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
        expect(await a.role).toBe('leader');
      }
      await cluster.members[old]!.restart();
      await settled();
    } finally {
      await client.close();
    }
  });

  it('leaves a leader that hands leadership over, and follows the new leader', async () => {
    await settled();
    const old = await waitForLeader(cluster);
    const client = OvsdbClient.create({ remotes: cluster.remotes, database: NB, ...FAST });
    const audit = auditConnections(client);
    const events: string[] = [];
    client.on('leaderChanged', (c) => events.push(`leaderChanged ${c.previous} -> ${c.remote}`));
    client.on('synced', (c) => events.push(`synced ${c.remote} fast=${c.fast}`));
    client.on('memberRejected', (c) => events.push(`rejected ${c.remote} ${c.reason}`));
    try {
      await client.start();
      await client.ready();
      expect(client.remote).toBe(remoteOf(old));
      expect(audit.map((a) => a.info.remote)).toEqual([remoteOf(old)]);
      expect(await audit[0]!.role).toBe('leader');
      // `_Server` tells the client first: leadership leaves its member while the process lives on.
      const left = nextEvent(client, 'leaderChanged');
      const resynced = nextEvent(client, 'synced');
      // ovsdb-server's own test hook: the leader stays up and transfers leadership.
      await run('ovs-appctl', [
        '-t',
        cluster.members[old]!.ctlPath,
        'cluster/failure-test',
        'transfer-leadership',
      ]);
      expect(await left).toEqual({ remote: undefined, previous: remoteOf(old) });
      const s = await resynced.catch((err: unknown) => {
        throw new Error(`${String(err)}; events: ${events.join('; ')}`);
      });
      expect(s.fast).toBe(true);
      // Usually another member leads now (an election may hand it back, which is fine too).
      const now = await waitForLeader(cluster);
      expect(client.remote).toBe(remoteOf(now));
      for (const [i, a] of audit.entries()) {
        expect([i, a.info.remote, await a.role]).toEqual([i, a.info.remote, 'leader']);
      }
      await client.transact([o.insert('Logical_Switch', { name: 'after-transfer' })], { waitForCache: true });
    } finally {
      await client.close();
    }
  });
});
