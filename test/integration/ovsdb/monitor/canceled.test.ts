/**
 * Online schema conversion (`ovsdb-client convert`) against a real server: with
 * `set_db_change_aware` (ovsdb-server(7) §4.1.18) the server cancels our monitor with a
 * `monitor_canceled` notification (RFC 7047 §4.1.7 as extended) and keeps the session; the
 * client re-monitors and resyncs. Without it, the server simply drops the connection.
 */
import '../../../harness/env.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { run, waitUntil } from '../../../../agent/sandbox/process.js';
import { Monitor } from '../../../../ovsdb/monitor/index.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { useTmpDir } from '../../../harness/index.js';
import { NB, dumpTables, nbSchema, normalizeCache } from './helpers.js';

const TABLES = ['Logical_Switch'] as const;

describe('monitor_canceled on schema conversion', () => {
  const tmp = useTmpDir('cancel');
  let srv: OvsdbServerHandle;
  const conns: RpcConnection[] = [];
  const nbctl = (...args: string[]) => run('ovn-nbctl', [`--db=${srv.unixRemote}`, '--timeout=10', ...args]);
  const convert = () => run('ovsdb-client', ['--timeout=10', 'convert', srv.unixRemote, SCHEMAS.nb]);

  beforeAll(async () => {
    srv = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: SCHEMAS.nb });
    await nbctl('ls-add', 'before');
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await srv?.stop();
  });

  it('db-change-aware: canceled event, session kept, re-monitor resyncs', async () => {
    const schema = nbSchema();
    const conn = await RpcConnection.connect(srv.unixRemote);
    conns.push(conn);
    const m = new Monitor(schema, { database: NB, tables: { Logical_Switch: {} } });
    const canceled = new Promise<void>((resolve) => m.on('canceled', resolve));
    await m.start(conn);
    await convert();
    await canceled;
    expect(m.active).toBe(false);
    expect(conn.isClosed).toBe(false);

    await nbctl('ls-add', 'after');
    const res = await m.start(conn);
    expect(res).toMatchObject({ fast: false });
    expect(normalizeCache(m.cache, TABLES)).toEqual(await dumpTables(schema, srv.unixRemote, TABLES));
    await nbctl('ls-add', 'live');
    await expect
      .poll(() => [...m.cache.rows('Logical_Switch')].map((r) => r['name']).sort())
      .toEqual(['after', 'before', 'live']);
  });

  it('without set_db_change_aware the server drops the session instead', async () => {
    const conn = await RpcConnection.connect(srv.unixRemote);
    conns.push(conn);
    const m = new Monitor(nbSchema(), { database: NB, tables: { Logical_Switch: {} }, dbChangeAware: false });
    let canceled = 0;
    m.on('canceled', () => canceled++);
    await m.start(conn);
    await convert();
    await waitUntil(async () => conn.isClosed, { what: 'the server to drop the session', timeoutMs: 10_000 });
    expect(canceled).toBe(0);
  });
});
