/**
 * The agent's OVSDB client metrics on a real one-member clustered NB ovsdb-server: transaction
 * durations and failures by code (the client's `transaction` event), fast and full resyncs after
 * reconnects (`monitor_cond_since` resumes), and the monitor cache's rows per table.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, watchOvsdbClient } from '../../../agent/metrics/index.js';
import { SCHEMAS } from '../../../agent/sandbox/central.js';
import { startOvsdbCluster, type OvsdbClusterHandle } from '../../../agent/sandbox/ovsdb-server.js';
import { waitUntil } from '../../../agent/sandbox/process.js';
import { insert, nb, OvsdbClient, wait } from '../../../ovsdb/index.js';
import { makeTmpDir } from '../../harness/index.js';

let dir: string;
let cluster: OvsdbClusterHandle;
let client: OvsdbClient;
const metrics = createMetrics({}, { processMetrics: false });
const DB = { database: 'OVN_Northbound' };

async function value(name: string, labels: Record<string, string> = {}) {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

beforeAll(async () => {
  dir = await makeTmpDir('ovsdbm');
  cluster = await startOvsdbCluster({ dir, name: 'nb', schema: SCHEMAS.nb, size: 1 });
  client = OvsdbClient.create({
    remotes: cluster.members.map((m) => m.unixRemote),
    database: 'OVN_Northbound',
    schema: nb.schema(),
    monitor: { tables: { Logical_Switch: { columns: ['name'] }, NB_Global: { columns: ['name'] } } },
  });
  watchOvsdbClient(metrics, 'OVN_Northbound', client);
  await client.start();
  await client.ready();
});

afterAll(async () => {
  await client?.close();
  await Promise.all(cluster?.members.map((m) => m.stop()) ?? []);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('OVSDB client metrics', () => {
  it('times every transaction and counts failed ones by error code', async () => {
    await client.transact([insert('Logical_Switch', { name: 'ls-a' })]);
    await client.transact([insert('Logical_Switch', { name: 'ls-b' })]);
    // A verify that no longer holds: the server refuses it ("timed out").
    await expect(
      client.transact([
        wait('Logical_Switch', [['name', '==', 'ls-a']], ['name'], '==', [{ name: 'other' }], 0),
      ]),
    ).rejects.toMatchObject({ code: 'OVSDB_TXN_TIMED_OUT' });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /^vpc_agent_ovsdb_transaction_duration_seconds_count\{database="OVN_Northbound"\} 3$/m,
    );
    expect(
      await value('vpc_agent_ovsdb_transaction_errors_total', { ...DB, code: 'OVSDB_TXN_TIMED_OUT' }),
    ).toBe(1);
  });

  it('reports the cache’s rows per monitored table', async () => {
    await waitUntil(
      async () => (await value('vpc_agent_ovsdb_cache_rows', { ...DB, table: 'Logical_Switch' })) === 2,
      {
        what: 'two switches in the cache',
        timeoutMs: 5000,
      },
    );
    expect(await value('vpc_agent_ovsdb_cache_rows', { ...DB, table: 'NB_Global' })).toBe(0);
  });

  it('counts a reconnect that resumes from the last transaction id as a fast resync', async () => {
    expect(await value('vpc_agent_ovsdb_resyncs_total', { ...DB, result: 'fast' })).toBe(0);
    const synced = new Promise((resolve) => client.once('synced', resolve));
    await client.reconnect();
    expect(await synced).toMatchObject({ fast: true });
    expect(await value('vpc_agent_ovsdb_resyncs_total', { ...DB, result: 'fast' })).toBe(1);
    expect(await value('vpc_agent_ovsdb_resyncs_total', { ...DB, result: 'full' })).toBe(0);
    expect(await value('vpc_agent_ovsdb_reconnects_total', DB)).toBe(1);
  });
});
