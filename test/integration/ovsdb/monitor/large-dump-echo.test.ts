/**
 * Issue 3: "server echo answered while processing a 100k-row initial dump".
 *
 * A real ovsdb-server probes a silent client after `inactivity_probe` ms and drops it if the
 * echo is not answered within another interval. We connect through a remote with the
 * smallest probe the server accepts (1 s), stay silent, and sync 100,000 rows into the cache.
 * The sync is slowed by a deliberate CPU-bound cost per row (a client index whose key function
 * spins ~30 µs, a stand-in for real per-row work), so processing outlasts several probe
 * intervals on any machine: the session survives only if echoes are answered while the dump
 * is processed. Meanwhile a timer samples the cache as any reader would: it must see the
 * dump either not at all or whole (the cache is always consistent), never a part of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { DatabaseCache } from '../../../../ovsdb/cache/index.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { Monitor } from '../../../../ovsdb/monitor/index.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';

const ROWS = 100_000;
const BATCH = 10_000;
/** Busy work per key function call (ms): 3 s over the dump. */
const COST_MS = 0.03;

let dir: string;
let server: OvsdbServerHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'big-dump-'));
  server = await startOvsdbServer({
    dir,
    name: 'nb',
    schema: 'ovsdb/schemas/ovn-nb.ovsschema',
    extraArgs: ['--remote=db:OVN_Northbound,NB_Global,connections'],
  });
  const admin = await RpcConnection.connect(server.unixRemote);
  try {
    for (let b = 0; b < ROWS / BATCH; b++) {
      const ops: unknown[] = ['OVN_Northbound'];
      for (let i = 0; i < BATCH; i++) {
        const n = b * BATCH + i;
        ops.push({
          op: 'insert',
          table: 'Logical_Switch',
          row: { name: `ls${n}`, external_ids: ['map', [['k', `v${n}`]]] },
        });
      }
      await admin.request('transact', ops);
    }
  } finally {
    await admin.close();
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('answers the server echo while applying a 100k-row initial dump', async () => {
  const sock = path.join(dir, 'probed.sock');
  const admin = await RpcConnection.connect(server.unixRemote);
  await admin.request('transact', [
    'OVN_Northbound',
    {
      op: 'insert',
      table: 'Connection',
      'uuid-name': 'c',
      row: { target: `punix:${sock}`, inactivity_probe: 1000 },
    },
    { op: 'insert', table: 'NB_Global', row: { connections: ['named-uuid', 'c'] } },
  ]);
  await admin.close();

  let conn: RpcConnection | undefined;
  for (let i = 0; i < 50 && !conn; i++) {
    conn = await RpcConnection.connect(`unix:${sock}`, { probeIntervalMs: 0 }).catch(
      () => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
    );
  }
  expect(conn).toBeDefined();
  const session = conn as RpcConnection;
  let closedEarly = false;
  session.once('close', () => (closedEarly = true));

  const schema = nb.schema();
  const cache = new DatabaseCache(schema, {
    tables: { Logical_Switch: ['name', 'external_ids'] },
    sliceRows: 1000,
  });
  // Deliberate per-row cost inside the cache: the key function runs for every row of the dump.
  let keyCalls = 0;
  cache.addIndex('Logical_Switch', 'slow', (row) => {
    keyCalls++;
    const until = performance.now() + COST_MS;
    while (performance.now() < until);
    return String(row['name']);
  });
  const batches: number[] = [];
  let echoesWhenApplied = -1;
  const before = session.stats().echoesAnswered;
  cache.onChange((b) => {
    batches.push(b.changes.length);
    echoesWhenApplied = session.stats().echoesAnswered - before;
  });
  const monitor = new Monitor(schema, {
    database: 'OVN_Northbound',
    tables: { Logical_Switch: { columns: ['name', 'external_ids'] } },
    cache,
  });
  // A reader polling the cache while the dump is processed: what sizes does it see?
  const seen = new Set<string>();
  let samples = 0;
  const sampler = setInterval(() => {
    samples++;
    const size = cache.table('Logical_Switch').size;
    seen.add(`${size}/${cache.lookupCount('Logical_Switch', 'slow', 'ls99999')}`);
  }, 5);
  try {
    await monitor.start(session);
  } finally {
    clearInterval(sampler);
  }

  expect(cache.table('Logical_Switch').size).toBe(ROWS);
  expect(cache.lookupFirst('Logical_Switch', 'slow', 'ls99999')?.['name']).toBe('ls99999');
  expect(cache.lookup('Logical_Switch', 'slow', 'ls12345')).toHaveLength(1);
  // The per-row work ran for every row (>= ROWS x COST_MS of processing: several probe intervals)...
  expect(keyCalls).toBeGreaterThanOrEqual(ROWS);
  // ...the event loop kept running meanwhile, and every reader saw the dump not at all or whole...
  expect(samples).toBeGreaterThan(0);
  expect([...seen].every((s) => s === '0/0' || s === `${ROWS}/1`)).toBe(true);
  expect(batches).toEqual([ROWS]);
  // ...the server's echoes were answered while it was being processed, not after...
  expect(echoesWhenApplied).toBeGreaterThanOrEqual(1);
  // ...so the server kept the session.
  expect(closedEarly).toBe(false);
  expect(await session.request<string[]>('list_dbs', [])).toContain('OVN_Northbound');
  await session.close();
}, 120_000);
