/**
 * Transactions against a real ovsdb-server running the vendored OVN_Northbound schema:
 * every RFC 7047 §5.2 operation, the server's error paths mapped to typed errors, and the
 * atomicity guarantee (a failed transaction changes nothing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import {
  abort,
  assertLock,
  comment,
  encodeTransaction,
  ops,
  OvsdbTransactionError,
  transact,
  type Operation,
} from '../../../../ovsdb/transaction/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const schema = nb.schema();
const o = ops<nb.Tables>();
const TABLES = ['Logical_Switch', 'Logical_Switch_Port', 'Address_Set', 'NB_Global'] as const;

let dir: string;
let server: OvsdbServerHandle;
let conn: RpcConnection;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'txn-'));
  server = await startOvsdbServer({
    dir,
    name: 'nb',
    schema: path.join(ROOT, 'ovsdb/schemas/ovn-nb.ovsschema'),
  });
  conn = await RpcConnection.connect(server.unixRemote);
});

afterAll(async () => {
  await conn?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // Root tables only: their deletion garbage-collects the ports they referenced.
  await transact(conn, schema, [
    o.del('Logical_Switch', []),
    o.del('Address_Set', []),
    o.del('NB_Global', []),
  ]);
});

/** Every row of the tables the tests touch, keyed by table; rows sorted by uuid. */
async function dump(): Promise<Record<string, unknown[]>> {
  const results = await transact(
    conn,
    schema,
    TABLES.map((t) => o.select(t)),
  );
  const out: Record<string, unknown[]> = {};
  TABLES.forEach((t, i) => {
    out[t] = (results[i] as { _uuid: string }[]).sort((a, b) => a._uuid.localeCompare(b._uuid));
  });
  return out;
}

/** Runs a transaction expected to fail and returns the error. */
async function failing(txn: readonly Operation[], database?: string): Promise<OvsdbTransactionError> {
  const err = await transact(conn, schema, txn, { database }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OvsdbTransactionError);
  return err as OvsdbTransactionError;
}

/** A switch with two ports, inserted in one transaction through uuid-names. */
async function switchWithPorts(name = 'ls1') {
  const [ls, p1, p2] = await transact(conn, schema, [
    o.insert(
      'Logical_Switch',
      { name, ports: ['p1', 'p2'], external_ids: { owner: 'test' } },
      { uuidName: 'ls' },
    ),
    o.insert(
      'Logical_Switch_Port',
      { name: `${name}-p1`, addresses: ['00:00:00:00:00:01 10.0.0.1'] },
      { uuidName: 'p1' },
    ),
    o.insert('Logical_Switch_Port', { name: `${name}-p2`, tag_request: 10 }, { uuidName: 'p2' }),
  ]);
  return { ls, p1, p2 };
}

describe('operations', () => {
  it('insert rows referring to each other through uuid-names, then select them', async () => {
    const { ls, p1, p2 } = await switchWithPorts();
    const [switches, ports] = await transact(conn, schema, [
      o.select('Logical_Switch', [['_uuid', '==', ls]], ['name', 'ports', 'external_ids']),
      o.select('Logical_Switch_Port', [], ['_uuid', 'name', 'addresses', 'tag_request', 'enabled']),
    ]);
    expect(switches).toHaveLength(1);
    expect(switches[0]?.name).toBe('ls1');
    expect([...(switches[0]?.ports ?? [])].sort()).toEqual([p1, p2].sort());
    expect(switches[0]?.external_ids).toEqual({ owner: 'test' });
    const byName = Object.fromEntries(ports.map((p) => [p.name, p]));
    expect(byName['ls1-p1']).toEqual({
      _uuid: p1,
      name: 'ls1-p1',
      addresses: ['00:00:00:00:00:01 10.0.0.1'],
      tag_request: undefined,
      enabled: undefined,
    });
    expect(byName['ls1-p2']?.tag_request).toBe(10);
  });

  it('one-element sets are sent as bare atoms and the server reads them as sets', async () => {
    const txn = [
      o.insert('Logical_Switch', { name: 'one', ports: ['p'] }, { uuidName: 'ls' }),
      o.insert('Logical_Switch_Port', { name: 'one-p', addresses: ['router'] }, { uuidName: 'p' }),
      o.insert('Address_Set', { name: 'as1', addresses: ['10.0.0.1'] }),
    ] as const;
    const wire = encodeTransaction(schema, undefined, txn);
    expect(wire[1]?.['row']).toEqual({ name: 'one', ports: ['named-uuid', 'p'] });
    expect(wire[2]?.['row']).toEqual({ name: 'one-p', addresses: 'router' });
    const [ls, p] = await transact(conn, schema, txn);
    // Conditions and mutations with a single element take the bare form too.
    const [found, , , after] = await transact(conn, schema, [
      o.select('Logical_Switch', [['ports', 'includes', [p]]], ['name']),
      o.mutate('Address_Set', [['name', '==', 'as1']], [['addresses', 'insert', ['10.0.0.2']]]),
      o.mutate('Address_Set', [['name', '==', 'as1']], [['addresses', 'delete', ['10.0.0.1']]]),
      o.select('Address_Set', [['addresses', '==', ['10.0.0.2']]], ['addresses']),
    ]);
    expect(found).toEqual([{ name: 'one' }]);
    expect(after).toEqual([{ addresses: ['10.0.0.2'] }]);
    const d = await dump();
    expect(d['Logical_Switch']).toEqual([expect.objectContaining({ _uuid: ls, ports: [p] })]);
    expect(d['Logical_Switch_Port']).toEqual([expect.objectContaining({ addresses: ['router'] })]);
  });

  it('insert with an explicit uuid', async () => {
    const uuid = '0b6c3e55-4c36-4b2a-9d0e-6f4e1c0a7d11';
    const [got] = await transact(conn, schema, [o.insert('Logical_Switch', { name: 'fixed' }, { uuid })]);
    expect(got).toBe(uuid);
    const e = await failing([o.insert('Logical_Switch', { name: 'again' }, { uuid })]);
    expect(e.code).toBe('OVSDB_TXN_DUPLICATE_UUID');
    expect(e.opIndex).toBe(0);
  });

  it('select with includes/excludes and ordered conditions', async () => {
    const { ls, p1 } = await switchWithPorts();
    await switchWithPorts('ls2');
    const [inc, exc, tagged] = await transact(conn, schema, [
      o.select('Logical_Switch', [['ports', 'includes', p1]], ['_uuid']),
      o.select('Logical_Switch', [['ports', 'excludes', [p1]]], ['name']),
      o.select(
        'Logical_Switch_Port',
        [
          ['tag_request', '>=', 10],
          ['name', '==', 'ls2-p2'],
        ],
        ['name'],
      ),
    ]);
    expect(inc).toEqual([{ _uuid: ls }]);
    expect(exc).toEqual([{ name: 'ls2' }]);
    expect(tagged).toEqual([{ name: 'ls2-p2' }]);
  });

  it('update returns the count and changes the rows', async () => {
    const { p1, p2 } = await switchWithPorts();
    const [n] = await transact(conn, schema, [
      o.update('Logical_Switch_Port', [['_uuid', '==', p1]], { enabled: false, options: { foo: 'bar' } }),
    ]);
    expect(n).toBe(1);
    const [rows] = await transact(conn, schema, [
      o.select('Logical_Switch_Port', [['name', '!=', 'unrelated']], ['_uuid', 'enabled', 'options']),
    ]);
    expect(rows.find((r) => r._uuid === p1)).toEqual({ _uuid: p1, enabled: false, options: { foo: 'bar' } });
    expect(rows.find((r) => r._uuid === p2)).toEqual({ _uuid: p2, enabled: undefined, options: {} });
  });

  it('mutate sets, maps and integers', async () => {
    const { ls, p1, p2 } = await switchWithPorts();
    await transact(conn, schema, [o.insert('NB_Global', { nb_cfg: 5 })]);
    const counts = await transact(conn, schema, [
      o.mutate(
        'Logical_Switch_Port',
        [['_uuid', '==', p1]],
        [
          ['addresses', 'insert', ['router']],
          ['addresses', 'delete', ['00:00:00:00:00:01 10.0.0.1']],
        ],
      ),
      o.mutate(
        'Logical_Switch',
        [['_uuid', '==', ls]],
        [
          ['external_ids', 'insert', { a: '1', owner: 'ignored: insert keeps existing keys' }],
          ['other_config', 'insert', { x: 'y' }],
          ['ports', 'delete', [p2]],
        ],
      ),
      o.mutate('Logical_Switch_Port', [['_uuid', '==', p2]], [['tag_request', '+=', 5]]),
      o.mutate(
        'NB_Global',
        [],
        [
          ['nb_cfg', '*=', 3],
          ['nb_cfg', '-=', 1],
        ],
      ),
      o.mutate('Logical_Switch', [['_uuid', '==', ls]], [['external_ids', 'delete', ['owner']]]),
    ]);
    expect(counts).toEqual([1, 1, 1, 1, 1]);
    const [port, sw, global] = await transact(conn, schema, [
      o.select('Logical_Switch_Port', [['_uuid', '==', p1]], ['addresses']),
      o.select('Logical_Switch', [['_uuid', '==', ls]], ['external_ids', 'other_config', 'ports']),
      o.select('NB_Global', [], ['nb_cfg']),
    ]);
    expect(port).toEqual([{ addresses: ['router'] }]);
    expect(sw).toEqual([{ external_ids: { a: '1' }, other_config: { x: 'y' }, ports: [p1] }]);
    expect(global).toEqual([{ nb_cfg: 14 }]);
    // p2 lost its only reference and was garbage-collected (non-root table).
    const [gone] = await transact(conn, schema, [o.select('Logical_Switch_Port', [['_uuid', '==', p2]])]);
    expect(gone).toEqual([]);
  });

  it('delete returns the count and removes the rows', async () => {
    await switchWithPorts('a');
    await switchWithPorts('b');
    const [n, rest] = await transact(conn, schema, [
      o.del('Logical_Switch', [['name', '==', 'a']]),
      o.select('Logical_Switch', [], ['name']),
    ]);
    expect(n).toBe(1);
    expect(rest).toEqual([{ name: 'b' }]);
  });

  it('wait that holds lets the transaction through (verify-style optimistic concurrency)', async () => {
    const { ls } = await switchWithPorts();
    const [, n] = await transact(conn, schema, [
      o.verify('Logical_Switch', [['_uuid', '==', ls]], { name: 'ls1', external_ids: { owner: 'test' } }),
      o.update('Logical_Switch', [['_uuid', '==', ls]], { name: 'renamed' }),
    ]);
    expect(n).toBe(1);
    const [waited, rows] = await transact(conn, schema, [
      o.wait('Logical_Switch', [], ['name'], '!=', [{ name: 'ls1' }], 0),
      o.select('Logical_Switch', [], ['name']),
    ]);
    expect(waited).toBeUndefined();
    expect(rows).toEqual([{ name: 'renamed' }]);
    const [, sel] = await transact(conn, schema, [
      o.wait('Logical_Switch', [], ['name'], '==', [{ name: 'renamed' }], 0),
      o.select('Logical_Switch', [], ['name']),
    ]);
    expect(sel).toEqual([{ name: 'renamed' }]);
  });

  it('wait whose condition does not hold times out and applies nothing', async () => {
    const { ls } = await switchWithPorts();
    const stale = await failing([
      o.update('Logical_Switch', [['_uuid', '==', ls]], { other_config: { touched: 'yes' } }),
      o.verify('Logical_Switch', [['_uuid', '==', ls]], { external_ids: { owner: 'someone else' } }),
    ]);
    expect(stale.code).toBe('OVSDB_TXN_TIMED_OUT');
    expect(stale.error).toBe('timed out');
    expect(stale.opIndex).toBe(1);
    expect(stale.op?.op).toBe('wait');
    const blocked = await failing([
      o.wait('Logical_Switch', [['name', '==', 'ls1']], ['name'], '==', [], 50),
    ]);
    expect(blocked.code).toBe('OVSDB_TXN_TIMED_OUT');
    expect(blocked.details).toMatch(/timed out after \d+ ms/);
    const [rows] = await transact(conn, schema, [o.select('Logical_Switch', [], ['other_config'])]);
    expect(rows).toEqual([{ other_config: {} }]);
  });

  it('comment and commit succeed with no result', async () => {
    const results = await transact(conn, schema, [comment('vpc-agent test'), o.commit(true)]);
    expect(results).toEqual([undefined, undefined]);
  });
});

describe('errors from the server', () => {
  it('assert without holding the lock → not owner', async () => {
    const e = await failing([o.insert('Logical_Switch', { name: 'x' }), assertLock('vpc_agent_writer')]);
    expect(e.code).toBe('OVSDB_TXN_NOT_OWNER');
    expect(e.opIndex).toBe(1);
    expect(e.op).toEqual({ op: 'assert', lock: 'vpc_agent_writer' });
  });

  it('abort → aborted', async () => {
    const e = await failing([o.insert('Logical_Switch', { name: 'x' }), abort()]);
    expect(e.code).toBe('OVSDB_TXN_ABORTED');
    expect(e.opIndex).toBe(1);
  });

  it('deleting a strongly referenced row of a non-root table → referential integrity violation at commit', async () => {
    const { p1 } = await switchWithPorts();
    const txn = [o.del('Logical_Switch_Port', [['_uuid', '==', p1]])];
    const e = await failing(txn);
    expect(e.code).toBe('OVSDB_TXN_REFERENTIAL_INTEGRITY');
    expect(e.atCommit).toBe(true);
    expect(e.opIndex).toBe(txn.length);
    expect(e.op).toBeUndefined();
    expect(e.details).toMatch(/Logical_Switch_Port/);
  });

  it('two rows with the same indexed name → constraint violation at commit', async () => {
    const e = await failing([
      o.insert('Address_Set', { name: 'as1' }),
      o.insert('Address_Set', { name: 'as1' }),
    ]);
    expect(e.code).toBe('OVSDB_TXN_CONSTRAINT_VIOLATION');
    expect(e.atCommit).toBe(true);
    expect(e.opIndex).toBe(2);
    expect(e.details).toMatch(/identical values \(as1\) for index on column "name"/);
  });

  it('a mutation leaving the column range → constraint violation at the op', async () => {
    const { p2 } = await switchWithPorts();
    const e = await failing([
      o.mutate('Logical_Switch_Port', [['_uuid', '==', p2]], [['tag_request', '+=', 5000]]),
    ]);
    expect(e.code).toBe('OVSDB_TXN_CONSTRAINT_VIOLATION');
    expect(e.opIndex).toBe(0);
    expect(e.atCommit).toBe(false);
  });

  it('division by zero → domain error; integer overflow → range error', async () => {
    await transact(conn, schema, [o.insert('NB_Global', { nb_cfg: 2 ** 52 })]);
    const dom = await failing([o.mutate('NB_Global', [], [['nb_cfg', '/=', 0]])]);
    expect(dom.code).toBe('OVSDB_TXN_DOMAIN_ERROR');
    const range = await failing([o.mutate('NB_Global', [], [['nb_cfg', '*=', 2 ** 20]])]);
    expect(range.code).toBe('OVSDB_TXN_RANGE_ERROR');
  });

  it('unknown database', async () => {
    const e = await failing([comment('x')], 'No_Such_DB');
    expect(e.code).toBe('OVSDB_TXN_UNKNOWN_DATABASE');
    expect(e.opIndex).toBe(-1);
  });

  it('mapError replaces server errors but not validation errors', async () => {
    const seen: unknown[] = [];
    const mapError = (err: unknown) => {
      seen.push(err);
      return new Error('mapped', { cause: err });
    };
    const mapped = (await transact(conn, schema, [comment('x')], { database: 'No_Such_DB', mapError }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(mapped.message).toBe('mapped');
    expect((mapped.cause as OvsdbTransactionError).code).toBe('OVSDB_TXN_UNKNOWN_DATABASE');
    const bad = [{ op: 'insert', table: 'No_Such_Table', row: {} }] as const;
    const invalid = (await transact(conn, schema, bad, { mapError }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(invalid.name).toBe('OvsdbValidationError');
    expect(seen).toHaveLength(1);
  });

  it('the server agrees with the client-side checks it duplicates (duplicate uuid-name, bad enum)', async () => {
    // Bypass encodeTransaction's checks to hear the server's own verdict.
    const params = encodeTransaction(schema, undefined, [
      o.insert('Logical_Switch', {}, { uuidName: 'a' }),
      o.insert('Logical_Switch', {}, { uuidName: 'b' }),
    ]);
    (params[2] as Record<string, unknown>)['uuid-name'] = 'a';
    const dup = await conn.request<{ error?: string }[]>('transact', params);
    expect(dup[1]?.error).toBe('duplicate uuid-name');
    const bad = await conn.request<{ error?: string }[]>('transact', [
      'OVN_Northbound',
      { op: 'insert', table: 'ACL', row: { action: 'permit' } },
    ]);
    expect(bad[0]?.error).toBe('constraint violation');
  });
});

describe('atomicity', () => {
  it('a failed transaction changes nothing', async () => {
    const { ls, p1 } = await switchWithPorts();
    await transact(conn, schema, [o.insert('Address_Set', { name: 'keep', addresses: ['10.0.0.1'] })]);
    const before = await dump();
    // Failing at an op: every earlier op is rolled back.
    const atOp = await failing([
      o.insert('Logical_Switch', { name: 'new', ports: ['np'] }),
      o.insert('Logical_Switch_Port', { name: 'np' }, { uuidName: 'np' }),
      o.update('Logical_Switch', [['_uuid', '==', ls]], { name: 'changed' }),
      o.mutate('Address_Set', [['name', '==', 'keep']], [['addresses', 'insert', ['10.0.0.2']]]),
      o.del('Logical_Switch_Port', [['name', '==', 'ls1-p2']]),
      o.mutate('Logical_Switch', [['_uuid', '==', ls]], [['ports', 'delete', [p1]]]),
      assertLock('nobody_holds_this'),
    ]);
    expect(atOp.code).toBe('OVSDB_TXN_NOT_OWNER');
    expect(await dump()).toEqual(before);
    // Failing at commit: every op succeeded, the commit did not.
    const atCommit = await failing([
      o.update('Logical_Switch', [['_uuid', '==', ls]], { name: 'changed' }),
      o.insert('Address_Set', { name: 'dup' }),
      o.insert('Address_Set', { name: 'dup' }),
    ]);
    expect(atCommit.atCommit).toBe(true);
    expect(await dump()).toEqual(before);
  });
});
