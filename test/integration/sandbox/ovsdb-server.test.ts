import '../../harness/env.js';
import { describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../agent/sandbox/central.js';
import {
  clusterStatus,
  startOvsdbCluster,
  startOvsdbServer,
  waitForLeader,
} from '../../../agent/sandbox/ovsdb-server.js';
import { isAlive, listeningTcpPorts, run, waitUntil } from '../../../agent/sandbox/process.js';
import { useTmpDir } from '../../harness/index.js';

const listDbs = async (remote: string) =>
  (await run('ovsdb-client', ['--timeout=5', 'list-dbs', remote])).stdout;
const nbctl = async (db: string, ...args: string[]) =>
  (await run('ovn-nbctl', [`--db=${db}`, '--timeout=10', ...args])).stdout.trim();

describe('startOvsdbServer (standalone)', () => {
  const tmp = useTmpDir('ovsdb');

  it('serves on unix and tcp, keeps data and ports across restart, stops idempotently', async () => {
    const srv = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: SCHEMAS.nb, tcp: true });
    try {
      expect(srv.unixRemote).toBe(`unix:${tmp.dir}/nb.sock`);
      expect(srv.tcpRemote).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
      expect(await listDbs(srv.unixRemote)).toContain('OVN_Northbound');
      expect(await listDbs(srv.tcpRemote!)).toContain('OVN_Northbound');
      await nbctl(srv.unixRemote, 'ls-add', 'sw0');

      const firstPid = srv.pid;
      await srv.restart();
      expect(srv.pid).not.toBe(firstPid);
      expect(await isAlive(firstPid)).toBe(false);
      expect(await listeningTcpPorts(srv.pid)).toContain(Number(srv.tcpRemote!.split(':')[2]));
      expect(await nbctl(srv.tcpRemote!, 'ls-list')).toContain('(sw0)');
    } finally {
      await srv.stop();
    }
    expect(await isAlive(srv.pid)).toBe(false);
    await expect(srv.stop()).resolves.toBeUndefined();
  });

  it('comes back after an abrupt kill', async () => {
    const srv = await startOvsdbServer({ dir: tmp.dir, name: 'sb', schema: SCHEMAS.sb });
    try {
      await srv.kill();
      expect(await isAlive(srv.pid)).toBe(false);
      await srv.restart();
      expect(await listDbs(srv.unixRemote)).toContain('OVN_Southbound');
    } finally {
      await srv.stop();
    }
  });
});

describe('startOvsdbCluster', () => {
  const tmp = useTmpDir('raft');

  it('elects a leader with 3 members, and a new one after the leader is killed', async () => {
    const cluster = await startOvsdbCluster({ dir: tmp.dir, name: 'nb', schema: SCHEMAS.nb, tcp: true });
    try {
      expect(cluster.members).toHaveLength(3);
      expect(cluster.dbName).toBe('OVN_Northbound');
      for (const m of cluster.members) {
        expect((await clusterStatus(m, cluster.dbName))?.status).toBe('cluster member');
      }
      const leader = await cluster.leaderIndex();
      expect(leader).toBeGreaterThanOrEqual(0);
      const unix = cluster.members.map((m) => m.unixRemote).join(',');
      await nbctl(unix, 'ls-add', 'before');

      await cluster.members[leader]!.kill();
      const next = await waitForLeader(cluster);
      expect(next).not.toBe(leader);
      await nbctl(unix, 'ls-add', 'after');
      expect(await nbctl(unix, 'ls-list')).toMatch(/\(before\)[\s\S]*\(after\)|\(after\)[\s\S]*\(before\)/);

      await cluster.members[leader]!.restart();
      await expect(waitForMember(cluster.members[leader]!, cluster.dbName)).resolves.toBe('cluster member');
    } finally {
      await cluster.stop();
    }
    for (const m of cluster.members) expect(await isAlive(m.pid)).toBe(false);
  });
});

async function waitForMember(m: { pid: number; ctlPath: string }, db: string): Promise<string | undefined> {
  return waitUntil(
    async () => {
      const s = await clusterStatus(m, db);
      return s?.status === 'cluster member' ? s.status : undefined;
    },
    { what: 'restarted member to rejoin' },
  );
}
