import { describe, expect, it } from 'vitest';
import { nb } from '../../../../ovsdb/models/index.js';
import { OvsdbRpcError } from '../../../../ovsdb/rpc/errors.js';
import {
  comment,
  decodeTransactResult,
  del,
  insert,
  mutate,
  OvsdbTransactionError,
  OvsdbValidationError,
  select,
  transact,
  txnErrorCode,
  update,
  wait,
  type Requester,
} from '../../../../ovsdb/transaction/index.js';

const schema = nb.schema();
const U1 = '11111111-2222-4333-8444-555555555555';
const U2 = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

const txn = [
  insert('Logical_Switch', { name: 'a' }),
  select('Logical_Switch', [], ['_uuid', 'name', 'ports', 'external_ids', 'other_config']),
  update('Logical_Switch', [], { name: 'b' }),
  mutate('Logical_Switch', [], [['external_ids', 'insert', { k: 'v' }]]),
  del('Logical_Switch', [['name', '==', 'x']]),
  wait('Logical_Switch', [], ['name'], '==', []),
  comment('c'),
] as const;

function caught(fn: () => unknown): OvsdbTransactionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OvsdbTransactionError);
    return err as OvsdbTransactionError;
  }
  throw new Error('expected an OvsdbTransactionError');
}

describe('decodeTransactResult', () => {
  it('returns per-operation results', () => {
    const results = decodeTransactResult(schema, txn, [
      { uuid: ['uuid', U1] },
      {
        rows: [
          {
            _uuid: ['uuid', U1],
            name: 'a',
            ports: ['set', [['uuid', U2]]],
            external_ids: ['map', [['k', 'v']]],
            other_config: ['map', []],
          },
          {
            _uuid: ['uuid', U2],
            name: 'z',
            ports: ['uuid', U1],
            external_ids: ['map', []],
            other_config: ['map', []],
          },
        ],
      },
      { count: 2 },
      { count: 1 },
      { count: 0 },
      {},
      {},
    ]);
    expect(results).toEqual([
      U1,
      [
        { _uuid: U1, name: 'a', ports: [U2], external_ids: { k: 'v' }, other_config: {} },
        { _uuid: U2, name: 'z', ports: [U1], external_ids: {}, other_config: {} },
      ],
      2,
      1,
      0,
      undefined,
      undefined,
    ]);
  });

  it('throws for the failed operation, carrying index, error, details, syntax and the op', () => {
    const e = caught(() =>
      decodeTransactResult(schema, txn, [
        { uuid: ['uuid', U1] },
        { rows: [] },
        {
          error: 'constraint violation',
          details: 'Cannot update immutable column',
          syntax: '{"op":"update"}',
        },
        null,
        null,
        null,
        null,
      ]),
    );
    expect(e.code).toBe('OVSDB_TXN_CONSTRAINT_VIOLATION');
    expect(e.opIndex).toBe(2);
    expect(e.op).toBe(txn[2]);
    expect(e.error).toBe('constraint violation');
    expect(e.details).toBe('Cannot update immutable column');
    expect(e.syntax).toBe('{"op":"update"}');
    expect(e.atCommit).toBe(false);
    expect(e.message).toBe('operation 2 (update): constraint violation: Cannot update immutable column');
  });

  it('the extra element after all results is the commit error', () => {
    const ops = [
      insert('Logical_Switch_Port', { name: 'p' }),
      insert('Logical_Switch', { name: 'a' }),
    ] as const;
    const e = caught(() =>
      decodeTransactResult(schema, ops, [
        { uuid: ['uuid', U1] },
        { uuid: ['uuid', U2] },
        { error: 'referential integrity violation', details: 'cannot delete' },
      ]),
    );
    expect(e.code).toBe('OVSDB_TXN_REFERENTIAL_INTEGRITY');
    expect(e.opIndex).toBe(2);
    expect(e.atCommit).toBe(true);
    expect(e.op).toBeUndefined();
    expect(e.message).toBe('commit: referential integrity violation: cannot delete');
  });

  it.each([
    ['referential integrity violation', 'OVSDB_TXN_REFERENTIAL_INTEGRITY'],
    ['constraint violation', 'OVSDB_TXN_CONSTRAINT_VIOLATION'],
    ['resources exhausted', 'OVSDB_TXN_RESOURCES_EXHAUSTED'],
    ['I/O error', 'OVSDB_TXN_IO_ERROR'],
    ['duplicate uuid-name', 'OVSDB_TXN_DUPLICATE_UUID_NAME'],
    ['duplicate uuid', 'OVSDB_TXN_DUPLICATE_UUID'],
    ['domain error', 'OVSDB_TXN_DOMAIN_ERROR'],
    ['range error', 'OVSDB_TXN_RANGE_ERROR'],
    ['timed out', 'OVSDB_TXN_TIMED_OUT'],
    ['not supported', 'OVSDB_TXN_NOT_SUPPORTED'],
    ['aborted', 'OVSDB_TXN_ABORTED'],
    ['not owner', 'OVSDB_TXN_NOT_OWNER'],
    ['unknown database', 'OVSDB_TXN_UNKNOWN_DATABASE'],
    ['syntax error', 'OVSDB_TXN_SYNTAX_ERROR'],
    ['not allowed', 'OVSDB_TXN_NOT_ALLOWED'],
    ['permission error', 'OVSDB_TXN_PERMISSION_DENIED'],
    ['cluster error', 'OVSDB_TXN_CLUSTER_ERROR'],
    ['something new', 'OVSDB_TXN_FAILED'],
    ['toString', 'OVSDB_TXN_FAILED'],
  ])('maps "%s" to %s', (error, code) => {
    expect(txnErrorCode(error)).toBe(code);
    const ops = [comment('x')] as const;
    expect(caught(() => decodeTransactResult(schema, ops, [{ error }])).code).toBe(code);
  });

  it.each([
    ['not an array', { error: 'x' }, /not an array/],
    ['too short', [{ uuid: ['uuid', U1] }], /1 result\(s\) for 7/],
    ['null result without an error', [null, null, null, null, null, null, null], /result is null/],
    ['bad uuid', [{ uuid: U1 }, {}, {}, {}, {}, {}, {}], /bad "uuid"/],
    ['bad count', [{ uuid: ['uuid', U1] }, { rows: [] }, {}, {}, {}, {}, {}], /bad "count"/],
    [
      'unknown column in rows',
      [{ uuid: ['uuid', U1] }, { rows: [{ zz: 1 }] }, {}, {}, {}, {}, {}],
      /unknown column/,
    ],
  ])('rejects a malformed reply: %s', (_name, reply, re) => {
    expect(() => decodeTransactResult(schema, txn, reply)).toThrow(re);
  });
});

describe('transact', () => {
  function fake(reply: unknown | (() => never)): Requester & { calls: [string, unknown[]][] } {
    const calls: [string, unknown[]][] = [];
    return {
      calls,
      async request<T>(method: string, params: unknown[]): Promise<T> {
        calls.push([method, params]);
        if (typeof reply === 'function') return (reply as () => never)();
        return reply as T;
      },
    };
  }

  it('sends one transact request and decodes its reply', async () => {
    const rpc = fake([{ uuid: ['uuid', U1] }, { count: 1 }]);
    const [uuid, count] = await transact(rpc, schema, [
      insert('Logical_Switch', { name: 'a' }),
      mutate('Logical_Switch', [['name', '==', 'a']], [['external_ids', 'insert', { x: 'y' }]]),
    ]);
    expect(uuid).toBe(U1);
    expect(count).toBe(1);
    expect(rpc.calls).toEqual([
      [
        'transact',
        [
          'OVN_Northbound',
          { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } },
          {
            op: 'mutate',
            table: 'Logical_Switch',
            where: [['name', '==', 'a']],
            mutations: [['external_ids', 'insert', ['map', [['x', 'y']]]]],
          },
        ],
      ],
    ]);
  });

  it('sends nothing when validation fails', async () => {
    const rpc = fake([]);
    await expect(transact(rpc, schema, [insert('Logical_Switch', { name: 1 })])).rejects.toBeInstanceOf(
      OvsdbValidationError,
    );
    expect(rpc.calls).toHaveLength(0);
  });

  it('maps an "unknown database" request error', async () => {
    const rpc = fake(() => {
      throw new OvsdbRpcError('transact', { error: 'unknown database', details: 'no db Nope' });
    });
    const err = (await transact(rpc, schema, [comment('x')], { database: 'Nope' }).catch(
      (e: unknown) => e,
    )) as OvsdbTransactionError | undefined;
    expect(err).toBeInstanceOf(OvsdbTransactionError);
    expect(err?.code).toBe('OVSDB_TXN_UNKNOWN_DATABASE');
    expect(err?.opIndex).toBe(-1);
    expect(err?.details).toBe('no db Nope');
    expect(err?.cause).toBeInstanceOf(OvsdbRpcError);
    expect(rpc.calls[0]?.[1][0]).toBe('Nope');
  });

  it('passes other request errors through', async () => {
    const boom = new Error('disconnected');
    const rpc = fake(() => {
      throw boom;
    });
    await expect(transact(rpc, schema, [comment('x')])).rejects.toBe(boom);
  });
});
