import '../../../harness/env.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { run } from '../../../../agent/sandbox/process.js';
import type { ChangeBatch } from '../../../../ovsdb/cache/index.js';
import { Monitor, type MonitorMethod } from '../../../../ovsdb/monitor/index.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { useTmpDir } from '../../../harness/index.js';
import { NB, dumpTables, nbSchema, normalizeCache } from './helpers.js';

const TABLES = ['Logical_Switch', 'Logical_Switch_Port', 'ACL'] as const;
const spec = Object.fromEntries(TABLES.map((t) => [t, {}]));

describe('monitor mirrors a real OVN_Northbound server', () => {
  const tmp = useTmpDir('mon');
  let srv: OvsdbServerHandle;
  const conns: RpcConnection[] = [];
  const nbctl = (...args: string[]) => run('ovn-nbctl', [`--db=${srv.unixRemote}`, '--timeout=10', ...args]);
  const connect = async () => {
    const c = await RpcConnection.connect(srv.unixRemote);
    conns.push(c);
    return c;
  };

  beforeAll(async () => {
    srv = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: SCHEMAS.nb });
    await nbctl(
      'ls-add',
      'sw0',
      '--',
      'lsp-add',
      'sw0',
      'p0',
      '--',
      'lsp-set-addresses',
      'p0',
      '00:00:00:00:00:01 10.0.0.1',
    );
    await nbctl('acl-add', 'sw0', 'to-lport', '100', 'ip4.src == 10.0.0.0/24', 'allow-related');
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await srv?.stop();
  });

  it('initial dump, then live inserts/updates/deletes, equal ovsdb-client dump', async () => {
    const schema = nbSchema();
    const m = new Monitor(schema, { database: NB, tables: spec });
    const res = await m.start(await connect());
    expect(res).toMatchObject({ method: 'monitor_cond_since', fast: false });
    expect(m.cache.table('Logical_Switch').size).toBe(1);
    expect(normalizeCache(m.cache, TABLES)).toEqual(await dumpTables(schema, srv.unixRemote, TABLES));

    const batches: ChangeBatch[] = [];
    m.cache.onChange((b) => batches.push(b));
    await nbctl(
      'lsp-add',
      'sw0',
      'p1',
      '--',
      'lsp-set-addresses',
      'p1',
      'dynamic',
      '--',
      'set',
      'Logical_Switch_Port',
      'p1',
      'tag_request=7',
      'external_ids:owner=me',
    );
    await nbctl('set', 'Logical_Switch_Port', 'p0', 'tag_request=12', 'external_ids:k=v');
    await nbctl('acl-del', 'sw0');
    await nbctl(
      'remove',
      'Logical_Switch_Port',
      'p1',
      'external_ids',
      'owner',
      '--',
      'add',
      'Logical_Switch_Port',
      'p1',
      'external_ids',
      'new=1',
    );
    const want = await dumpTables(schema, srv.unixRemote, TABLES);
    await expect.poll(() => normalizeCache(m.cache, TABLES)).toEqual(want);

    expect(m.cache.lookup('Logical_Switch_Port', 'name', 'p1')[0]).toMatchObject({
      tag_request: 7,
      external_ids: { new: '1' },
      addresses: ['dynamic'],
    });
    const kinds = batches.flatMap((b) => b.changes.map((c) => `${c.table}:${c.kind}`));
    expect(kinds).toContain('Logical_Switch_Port:insert');
    expect(kinds).toContain('ACL:delete');
    expect(kinds).toContain('Logical_Switch:update');
    expect(m.cache.seqno).toBeGreaterThanOrEqual(3);
  });

  it.each<MonitorMethod>(['monitor_cond_since', 'monitor_cond', 'monitor'])(
    'method %s gives the same cache after the same live changes',
    async (method) => {
      const schema = nbSchema();
      const m = new Monitor(schema, { database: NB, tables: spec, method });
      const res = await m.start(await connect());
      expect(res.method).toBe(method);
      await nbctl('ls-add', `sw-${method}`, '--', 'lsp-add', `sw-${method}`, `p-${method}`);
      await nbctl('set', 'Logical_Switch_Port', 'p0', `external_ids:last=${method}`, 'enabled=false');
      await nbctl('clear', 'Logical_Switch_Port', 'p0', 'tag_request');
      const want = await dumpTables(schema, srv.unixRemote, TABLES);
      await expect.poll(() => normalizeCache(m.cache, TABLES)).toEqual(want);
    },
  );

  it('conditional monitoring and monitor_cond_change move rows in and out of the cache', async () => {
    const schema = nbSchema();
    const m = new Monitor(schema, {
      database: NB,
      tables: { Logical_Switch_Port: { where: [['name', '==', 'p0']] } },
    });
    await m.start(await connect());
    expect([...m.cache.rows('Logical_Switch_Port')].map((r) => r['name'])).toEqual(['p0']);
    await m.setConditions({ Logical_Switch_Port: [['name', '==', 'p1']] });
    expect([...m.cache.rows('Logical_Switch_Port')].map((r) => r['name'])).toEqual(['p1']);
    await nbctl('set', 'Logical_Switch_Port', 'p1', 'external_ids:cond=yes');
    await nbctl('set', 'Logical_Switch_Port', 'p0', 'external_ids:cond=no');
    await expect
      .poll(() => m.cache.lookup('Logical_Switch_Port', 'name', 'p1')[0]?.['external_ids'])
      .toMatchObject({ cond: 'yes' });
    expect(m.cache.lookup('Logical_Switch_Port', 'name', 'p0')).toEqual([]);
  });
});
