/**
 * OvsdbClient against a real standalone ovsdb-server (OVN_Northbound): monitor all tables,
 * read-your-writes with `waitForCache`, and reconnect + resync after a server restart.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { run } from '../../../../agent/sandbox/process.js';
import { OvsdbClient } from '../../../../ovsdb/client/index.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { ops } from '../../../../ovsdb/transaction/index.js';
import { FAST, NB, NB_SCHEMA_PATH, nextEvent, normal, record, switchNames, untilCache } from './helpers.js';

const o = ops<nb.Tables>();
let dir: string;
let server: OvsdbServerHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'client-sa-'));
  server = await startOvsdbServer({ dir, name: 'nb', schema: NB_SCHEMA_PATH });
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('OvsdbClient on a standalone server', () => {
  it('monitors every NB table and shows its own write once transact resolves', async () => {
    const client = await OvsdbClient.connect({ remotes: server.unixRemote, database: NB, ...FAST });
    try {
      await client.ready();
      expect(client.schema.name).toBe(NB);
      expect(client.cache.tableNames().sort()).toEqual([...nb.schema().tables.keys()].sort());
      const [lsUuid, lspUuid] = await client.transact(
        [
          o.insert('Logical_Switch', { name: 'sw0', ports: ['p0'] }, { uuidName: 'sw' }),
          o.insert(
            'Logical_Switch_Port',
            { name: 'sw0-p0', addresses: ['00:00:00:00:00:01 10.0.0.1'] },
            {
              uuidName: 'p0',
            },
          ),
        ],
        { waitForCache: true },
      );
      const ls = client.cache.get('Logical_Switch', lsUuid);
      expect(ls?.['name']).toBe('sw0');
      expect(ls?.['ports']).toEqual([lspUuid]);
      expect(client.cache.get('Logical_Switch_Port', lspUuid)?.['addresses']).toEqual([
        '00:00:00:00:00:01 10.0.0.1',
      ]);
      expect(await switchNames(server.unixRemote)).toEqual(['sw0']);
    } finally {
      await client.close();
    }
  });

  it('uses the given schema and reports the server member as standalone', async () => {
    const client = await OvsdbClient.connect({
      remotes: server.unixRemote,
      database: NB,
      schema: nb.schema(),
      monitor: { tables: { Logical_Switch: { columns: ['name'] } } },
      ...FAST,
    });
    try {
      await client.ready();
      expect(client.cache.tableNames()).toEqual(['Logical_Switch']);
      expect([...client.cache.rows('Logical_Switch')].map((r) => r['name'])).toContain('sw0');
      expect(client.isOnline).toBe(true);
      expect(client.member).toMatchObject({ remote: server.unixRemote, model: 'standalone', leader: true });
    } finally {
      await client.close();
    }
  });

  it('reconnects after a restart and resyncs to what a fresh client sees', async () => {
    const client = await OvsdbClient.connect({ remotes: server.unixRemote, database: NB, ...FAST });
    const disconnected = record(client, 'disconnected');
    try {
      await client.ready();
      const resynced = nextEvent(client, 'synced');
      await server.restart();
      await resynced;
      expect(disconnected.length).toBeGreaterThanOrEqual(1);
      // Changes made after the restart by someone else reach the cache through the new monitor.
      await client.transact([o.insert('Logical_Switch', { name: 'after-restart' })], { waitForCache: true });
      const fresh = await OvsdbClient.connect({ remotes: server.unixRemote, database: NB, ...FAST });
      try {
        await fresh.ready();
        await untilCache(
          client.cache,
          () => JSON.stringify(normal(client.cache)) === JSON.stringify(normal(fresh.cache)),
          'caches to agree',
        );
        expect(normal(client.cache)).toEqual(normal(fresh.cache));
        expect([...client.cache.rows('Logical_Switch')].map((r) => r['name']).sort()).toEqual([
          'after-restart',
          'sw0',
        ]);
      } finally {
        await fresh.close();
      }
    } finally {
      await client.close();
    }
  });

  it('survives an online schema conversion (monitor_canceled) and keeps mirroring', async () => {
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (_: object, msg?: string) => void warnings.push(msg ?? ''),
    };
    const client = await OvsdbClient.connect({ remotes: server.unixRemote, database: NB, logger, ...FAST });
    try {
      await client.ready();
      // A compatible upgrade: same major version, one extra column.
      const next = JSON.parse(await readFile(NB_SCHEMA_PATH, 'utf8')) as {
        version: string;
        tables: Record<string, { columns: Record<string, unknown> }>;
      };
      next.version = next.version.replace(/^(\d+)\.(\d+)\.(\d+)$/, (_, a, b) => `${a}.${Number(b) + 1}.0`);
      next.tables['Logical_Switch']!.columns['vpc_agent_test'] = { type: { key: 'string', min: 0, max: 1 } };
      const file = path.join(dir, 'next.ovsschema');
      await writeFile(file, JSON.stringify(next));
      const disconnected = nextEvent(client, 'disconnected');
      const resynced = nextEvent(client, 'synced');
      await run('ovsdb-client', ['--timeout=20', 'convert', server.unixRemote, file]);
      await disconnected;
      // The client was db-change-aware: the server canceled the monitor instead of hanging up.
      expect(warnings).toContain('monitor canceled by the server; reconnecting');
      expect((await resynced).fast).toBe(false);
      await client.transact([o.insert('Logical_Switch', { name: 'after-convert' })], { waitForCache: true });
      expect([...client.cache.rows('Logical_Switch')].map((r) => r['name'])).toContain('after-convert');
    } finally {
      await client.close();
    }
  });

  it('a reply timeout drops the connection; run() rebuilds after the resync and commits once', async () => {
    const client = await OvsdbClient.connect({ remotes: server.unixRemote, database: NB, ...FAST });
    try {
      await client.ready();
      // A stopped server reads nothing: the request waits in the socket, the reply never comes
      // in time. After SIGCONT it may still commit that request — the outcome is unknown.
      process.kill(server.pid, 'SIGSTOP');
      let stopped = true;
      const resume = setTimeout(() => {
        process.kill(server.pid, 'SIGCONT');
        stopped = false;
      }, 600);
      try {
        const direct = await client
          .transact([o.insert('Logical_Switch', { name: 'timed-out' })], { timeoutMs: 150 })
          .then(
            () => undefined,
            (e: unknown) => e as { code?: string; reason?: string },
          );
        expect(direct?.code).toBe('OVSDB_TRY_AGAIN');
        expect(direct?.reason).toBe('timeout');
        expect(stopped).toBe(true);
        // The IDL pattern: the builder decides from the resynced cache, so the switch exists once
        // whether or not the timed-out request committed.
        const build = (cache: typeof client.cache) =>
          [...cache.rows('Logical_Switch')].some((r) => r['name'] === 'timed-out')
            ? []
            : [o.insert('Logical_Switch', { name: 'timed-out' })];
        await client.run(build, { timeoutMs: 2000, maxAttempts: 20 });
      } finally {
        clearTimeout(resume);
        if (stopped) process.kill(server.pid, 'SIGCONT');
      }
      const names = await switchNames(server.unixRemote);
      expect(names.filter((n) => n === 'timed-out')).toEqual(['timed-out']);
    } finally {
      await client.close();
    }
  });

  it('stats() sums the traffic of every connection, across a restart', async () => {
    const client = await OvsdbClient.connect({ remotes: server.unixRemote, database: NB, ...FAST });
    try {
      await client.ready();
      const a = client.stats();
      expect(a.bytesIn).toBeGreaterThan(0);
      expect(a.bytesOut).toBeGreaterThan(0);
      expect(a.messagesIn).toBeGreaterThan(0);
      await client.transact([o.insert('Logical_Switch', { name: 'counted' })]);
      const b = client.stats();
      expect(b.bytesOut).toBeGreaterThan(a.bytesOut);
      expect(b.bytesIn).toBeGreaterThan(a.bytesIn);
      const resynced = nextEvent(client, 'synced');
      await server.restart();
      await resynced;
      // The first connection's traffic is kept; the new one's is added.
      const c = client.stats();
      expect(c.bytesIn).toBeGreaterThan(b.bytesIn);
      expect(c.messagesIn).toBeGreaterThan(b.messagesIn);
    } finally {
      await client.close();
    }
  });
});
