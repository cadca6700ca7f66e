/**
 * Resync after a reconnect. `monitor_cond_since` (ovsdb-server(7) §4.1.15) resumes from our
 * last transaction id only if the server keeps transaction history: ovsdb-server does so for
 * clustered databases; a standalone one answers found=false with the zero uuid (measured here,
 * OVS 3.1), so the client must do a full resync and emit only the net changes.
 */
import '../../../harness/env.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../../agent/sandbox/central.js';
import {
  startOvsdbCluster,
  startOvsdbServer,
  type OvsdbClusterHandle,
  type OvsdbServerHandle,
} from '../../../../agent/sandbox/ovsdb-server.js';
import { run } from '../../../../agent/sandbox/process.js';
import type { ChangeBatch } from '../../../../ovsdb/cache/index.js';
import { Monitor } from '../../../../ovsdb/monitor/index.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { useTmpDir } from '../../../harness/index.js';
import { NB, dumpTables, nbSchema, normalizeCache } from './helpers.js';

const TABLES = ['Logical_Switch', 'Logical_Switch_Port'] as const;
const ZERO = '00000000-0000-0000-0000-000000000000';

/** Monitors `remote`, drops the session, lets another client change things, reconnects. */
async function reconnectScenario(remote: string) {
  const nbctl = (...args: string[]) => run('ovn-nbctl', [`--db=${remote}`, '--timeout=10', ...args]);
  const schema = nbSchema();
  const m = new Monitor(schema, { database: NB, tables: { Logical_Switch: {}, Logical_Switch_Port: {} } });
  for (let i = 0; i < 20; i++) await nbctl('ls-add', `sw${i}`, '--', 'lsp-add', `sw${i}`, `p${i}`);
  const conn1 = await RpcConnection.connect(remote);
  const first = await m.start(conn1);
  await nbctl('set', 'Logical_Switch_Port', 'p0', 'external_ids:seen=1');
  await expect
    .poll(() => m.cache.lookup('Logical_Switch_Port', 'name', 'p0')[0]?.['external_ids'])
    .toEqual({ seen: '1' });
  const txnBefore = m.cache.lastTxnId;
  await conn1.close();

  // Missed while disconnected: one insert (switch + port), one modify, one delete.
  await nbctl('ls-add', 'new', '--', 'lsp-add', 'new', 'pnew');
  await nbctl('set', 'Logical_Switch_Port', 'p1', 'tag_request=42');
  await nbctl('ls-del', 'sw2');

  const batches: ChangeBatch[] = [];
  m.cache.onChange((b) => batches.push(b));
  const conn2 = await RpcConnection.connect(remote);
  try {
    const second = await m.start(conn2);
    const want = await dumpTables(schema, remote, TABLES);
    expect(normalizeCache(m.cache, TABLES)).toEqual(want);
    const changes = batches
      .flatMap((b) => b.changes)
      .map((c) => `${c.kind} ${c.table} ${String((c.new ?? c.old)?.['name'])}`);
    return { first, second, txnBefore, changes: changes.sort(), causes: batches.map((b) => b.cause) };
  } finally {
    await conn2.close();
  }
}

/** Exactly what was missed: switch "new" (with its new port in `ports`) and port "pnew" inserted, p1 modified, sw2 and its port deleted. */
const MISSED = [
  'delete Logical_Switch sw2',
  'delete Logical_Switch_Port p2',
  'insert Logical_Switch new',
  'insert Logical_Switch_Port pnew',
  'update Logical_Switch_Port p1',
].sort();

describe('resync after reconnect', () => {
  const tmp = useTmpDir('resync');
  let cluster: OvsdbClusterHandle | undefined;
  let standalone: OvsdbServerHandle | undefined;

  beforeAll(async () => {
    cluster = await startOvsdbCluster({ dir: `${tmp.dir}/raft`, name: 'nb', schema: SCHEMAS.nb, size: 1 });
    standalone = await startOvsdbServer({ dir: `${tmp.dir}/std`, name: 'nb', schema: SCHEMAS.nb });
  });
  afterAll(async () => {
    await cluster?.stop();
    await standalone?.stop();
  });

  it('clustered: monitor_cond_since finds our last-txn-id and applies only the missed changes', async () => {
    const r = await reconnectScenario(cluster!.members[0]!.unixRemote);
    expect(r.first).toMatchObject({ method: 'monitor_cond_since', fast: false, found: false });
    expect(r.txnBefore).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.txnBefore).not.toBe(ZERO);
    expect(r.second).toMatchObject({ method: 'monitor_cond_since', fast: true, found: true, changes: 5 });
    expect(r.second.lastTxnId).not.toBe(r.txnBefore);
    expect(r.changes).toEqual(MISSED);
    expect(r.causes).toEqual(['update3']);
  });

  it('standalone: no transaction history, so a full resync that still emits only the net changes', async () => {
    const r = await reconnectScenario(standalone!.unixRemote);
    expect(r.txnBefore).toBeUndefined();
    expect(r.second).toMatchObject({ method: 'monitor_cond_since', fast: false, found: false });
    expect(r.changes).toEqual(MISSED);
    expect(r.causes).toEqual(['resync']);
  });
});
