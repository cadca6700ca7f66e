import { describe, expect, expectTypeOf, it } from 'vitest';
import { nb } from '../../../../ovsdb/models/index.js';
import { parseSchema } from '../../../../ovsdb/schema.js';
import {
  abort,
  assertLock,
  comment,
  commit,
  del,
  encodeTransaction,
  insert,
  mutate,
  ops,
  select,
  update,
  verify,
  wait,
  type Operation,
  type ResultsOf,
} from '../../../../ovsdb/transaction/index.js';

const schema = nb.schema();
const U1 = '11111111-2222-4333-8444-555555555555';
const U2 = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** A small schema covering types the NB schema lacks (reals, integer-keyed maps, booleans). */
const toy = parseSchema({
  name: 'Toy',
  version: '1.0.0',
  tables: {
    T: {
      isRoot: true,
      columns: {
        r: { type: { key: { type: 'real', minReal: 0, maxReal: 10 } } },
        ints: { type: { key: 'integer', min: 0, max: 'unlimited' } },
        imap: { type: { key: 'integer', value: 'boolean', min: 0, max: 'unlimited' } },
        fixed: { type: 'string', mutable: false },
        two: { type: { key: 'string', min: 0, max: 2 } },
        code: { type: { key: { type: 'string', minLength: 2, maxLength: 3 } } },
      },
    },
  },
});

describe('builders + encodeTransaction: exact wire JSON', () => {
  it('insert with uuid-name and named-uuid references in one transaction', () => {
    const params = encodeTransaction(schema, undefined, [
      insert(
        'Logical_Switch_Port',
        { name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.1'] },
        { uuidName: 'p1' },
      ),
      insert(
        'Logical_Switch',
        { name: 'ls1', ports: ['p1'], external_ids: { owner: 'me' } },
        { uuidName: 'ls' },
      ),
    ]);
    expect(JSON.stringify(params)).toBe(
      JSON.stringify([
        'OVN_Northbound',
        {
          op: 'insert',
          table: 'Logical_Switch_Port',
          row: { name: 'p1', addresses: '00:00:00:00:00:01 10.0.0.1' },
          'uuid-name': 'p1',
        },
        {
          op: 'insert',
          table: 'Logical_Switch',
          row: {
            name: 'ls1',
            ports: ['named-uuid', 'p1'],
            external_ids: ['map', [['owner', 'me']]],
          },
          'uuid-name': 'ls',
        },
      ]),
    );
  });

  it('insert with an explicit uuid and a forward named-uuid reference', () => {
    const params = encodeTransaction(schema, 'NB', [
      insert('Logical_Switch', { name: 'a', ports: ['later'] }, { uuid: U1 }),
      insert('Logical_Switch_Port', { name: 'x' }, { uuidName: 'later' }),
    ]);
    expect(params[0]).toBe('NB');
    expect(params[1]).toEqual({
      op: 'insert',
      table: 'Logical_Switch',
      row: { name: 'a', ports: ['named-uuid', 'later'] },
      uuid: U1,
    });
  });

  it('select, update, mutate, delete', () => {
    const params = encodeTransaction(schema, undefined, [
      select('Logical_Switch', [['name', '==', 'ls1']], ['name', '_uuid']),
      select('ACL'),
      update('Logical_Switch_Port', [['_uuid', '==', U1]], { enabled: false, type: '' }),
      mutate(
        'Logical_Switch',
        [['ports', 'includes', U2]],
        [
          ['ports', 'delete', [U2]],
          ['external_ids', 'insert', { k: 'v' }],
          ['other_config', 'delete', ['a', 'b']],
          ['other_config', 'delete', { c: 'd' }],
        ],
      ),
      mutate('ACL', [['priority', '>=', 100]], [['priority', '+=', 1]]),
      del('Logical_Switch', [
        ['name', '!=', 'keep'],
        ['external_ids', 'excludes', { owner: 'other' }],
      ]),
    ]);
    expect(params.slice(1)).toEqual([
      { op: 'select', table: 'Logical_Switch', where: [['name', '==', 'ls1']], columns: ['name', '_uuid'] },
      { op: 'select', table: 'ACL', where: [] },
      {
        op: 'update',
        table: 'Logical_Switch_Port',
        where: [['_uuid', '==', ['uuid', U1]]],
        row: { enabled: false, type: '' },
      },
      {
        op: 'mutate',
        table: 'Logical_Switch',
        where: [['ports', 'includes', ['uuid', U2]]],
        mutations: [
          ['ports', 'delete', ['uuid', U2]],
          ['external_ids', 'insert', ['map', [['k', 'v']]]],
          ['other_config', 'delete', ['set', ['a', 'b']]],
          ['other_config', 'delete', ['map', [['c', 'd']]]],
        ],
      },
      { op: 'mutate', table: 'ACL', where: [['priority', '>=', 100]], mutations: [['priority', '+=', 1]] },
      {
        op: 'delete',
        table: 'Logical_Switch',
        where: [
          ['name', '!=', 'keep'],
          ['external_ids', 'excludes', ['map', [['owner', 'other']]]],
        ],
      },
    ]);
  });

  it('optional columns: undefined is the empty set', () => {
    const [, op] = encodeTransaction(schema, undefined, [
      update('Logical_Switch_Port', [['enabled', '==', undefined]], { enabled: undefined, tag_request: 5 }),
    ]);
    expect(op).toEqual({
      op: 'update',
      table: 'Logical_Switch_Port',
      where: [['enabled', '==', ['set', []]]],
      row: { enabled: ['set', []], tag_request: 5 },
    });
  });

  it('wait, verify, commit, abort, comment, assert', () => {
    const params = encodeTransaction(schema, undefined, [
      wait(
        'Logical_Switch',
        [['name', '==', 'ls1']],
        ['name', 'ports'],
        '!=',
        [{ name: 'ls1', ports: [] }],
        250,
      ),
      verify('Logical_Switch', [['_uuid', '==', U1]], { external_ids: { a: 'b' } }),
      commit(true),
      commit(),
      abort(),
      comment('hello'),
      assertLock('vpc_agent'),
    ]);
    expect(params.slice(1)).toEqual([
      {
        op: 'wait',
        table: 'Logical_Switch',
        where: [['name', '==', 'ls1']],
        columns: ['name', 'ports'],
        until: '!=',
        rows: [{ name: 'ls1', ports: ['set', []] }],
        timeout: 250,
      },
      {
        op: 'wait',
        table: 'Logical_Switch',
        where: [['_uuid', '==', ['uuid', U1]]],
        columns: ['external_ids'],
        until: '==',
        rows: [{ external_ids: ['map', [['a', 'b']]] }],
        timeout: 0,
      },
      { op: 'commit', durable: true },
      { op: 'commit', durable: false },
      { op: 'abort' },
      { op: 'comment', comment: 'hello' },
      { op: 'assert', lock: 'vpc_agent' },
    ]);
  });

  it('reals, integer-keyed maps, arithmetic on integer sets', () => {
    const [, a, b] = encodeTransaction(toy, undefined, [
      insert('T', { r: 2.5, ints: [1, 2], imap: { 7: true }, fixed: 'f', code: 'ab' }),
      mutate(
        'T',
        [['r', '<', 5]],
        [
          ['ints', '*=', 3],
          ['r', '/=', 2],
          ['imap', 'delete', [7]],
        ],
      ),
    ]);
    expect(a).toEqual({
      op: 'insert',
      table: 'T',
      row: { r: 2.5, ints: ['set', [1, 2]], imap: ['map', [[7, true]]], fixed: 'f', code: 'ab' },
    });
    expect(b).toEqual({
      op: 'mutate',
      table: 'T',
      where: [['r', '<', 5]],
      mutations: [
        ['ints', '*=', 3],
        ['r', '/=', 2],
        ['imap', 'delete', 7],
      ],
    });
  });

  it('typed builders check tables, columns and values at compile time', () => {
    const nbOps = ops<nb.Tables>();
    const txn = [
      nbOps.insert('Logical_Switch', { name: 'ls', ports: ['p'] }),
      nbOps.insert('Logical_Switch_Port', { name: 'p' }, { uuidName: 'p' }),
      nbOps.select('ACL', [['action', '==', 'drop']], ['priority']),
      nbOps.mutate('Logical_Switch', [['name', '==', 'ls']], [['external_ids', 'insert', { a: 'b' }]]),
      nbOps.del('Logical_Switch', [['name', '==', 'ls']]),
      nbOps.comment('c'),
    ] as const;
    expectTypeOf<ResultsOf<typeof txn>>().toEqualTypeOf<
      [string, string, (Partial<nb.ACL> & { _uuid?: string; _version?: string })[], number, number, undefined]
    >();
    // @ts-expect-error unknown column
    nbOps.insert('Logical_Switch', { nmae: 'x' });
    // @ts-expect-error enum value
    nbOps.update('ACL', [], { action: 'permit' });
    // @ts-expect-error unknown table
    nbOps.select('Logical_Swtich');
    expect(encodeTransaction(schema, undefined, txn)).toHaveLength(7);
  });
});

/** Runs encodeTransaction and returns the validation error's fields. */
function invalid(ops: Operation[], s = schema) {
  try {
    encodeTransaction(s, undefined, ops);
  } catch (err) {
    const e = err as { code: string; opIndex: number; table?: string; column?: string; reason: string };
    expect(e.code).toBe('OVSDB_TXN_INVALID');
    return { opIndex: e.opIndex, table: e.table, column: e.column, reason: e.reason };
  }
  throw new Error('expected a validation error');
}

describe('encodeTransaction: validation errors name op index, table and column', () => {
  const ok = comment('first');
  it.each([
    ['unknown table', [ok, select('Nope')], { opIndex: 1, table: 'Nope', reason: /unknown table/ }],
    [
      'unknown column in a row',
      [ok, insert('Logical_Switch', { nmae: 'x' })],
      { opIndex: 1, table: 'Logical_Switch', column: 'nmae', reason: /unknown column/ },
    ],
    [
      'unknown column in a condition',
      [select('Logical_Switch', [['bogus', '==', 1]])],
      { opIndex: 0, column: 'bogus', reason: /unknown column/ },
    ],
    [
      'unknown column in select columns',
      [select('Logical_Switch', [], ['name', 'bogus'])],
      { column: 'bogus', reason: /unknown column/ },
    ],
    [
      'column listed twice',
      [select('Logical_Switch', [], ['name', 'name'])],
      { column: 'name', reason: /twice/ },
    ],
    ['wrong type', [insert('Logical_Switch', { name: 5 })], { column: 'name', reason: /not a string/ }],
    [
      'wrong type in a set',
      [insert('Logical_Switch_Port', { addresses: ['a', 1] })],
      { reason: /not a string/ },
    ],
    ['wrong map value', [insert('Logical_Switch', { external_ids: { a: 1 } })], { reason: /not a string/ }],
    ['map not a record', [insert('Logical_Switch', { external_ids: ['a'] })], { reason: /not a record/ }],
    ['enum', [insert('ACL', { action: 'permit' })], { table: 'ACL', column: 'action', reason: /not one of/ }],
    [
      'range',
      [insert('ACL', { priority: 40000 })],
      { column: 'priority', reason: /greater than the maximum 32767/ },
    ],
    [
      'range below',
      [insert('ACL', { priority: -1 })],
      { column: 'priority', reason: /less than the minimum 0/ },
    ],
    ['not an integer', [insert('ACL', { priority: 1.5 })], { reason: /not an integer/ }],
    ['scalar given an array', [insert('ACL', { priority: [1] })], { reason: /not a single value/ }],
    ['too many values', [insert('Logical_Switch_Port', { tag_request: [1, 2] })], { reason: /at most 1/ }],
    [
      'duplicate set values',
      [insert('Logical_Switch_Port', { addresses: ['a', 'a'] })],
      { reason: /duplicate/ },
    ],
    ['bad uuid', [insert('Logical_Switch', { ports: ['not-a-uuid'] })], { reason: /neither a uuid nor/ }],
    [
      'immutable column in update',
      [update('T', [], { fixed: 'x' })],
      { table: 'T', column: 'fixed', reason: /immutable/ },
      toy,
    ],
    [
      'immutable column in mutate',
      [mutate('T', [], [['fixed', 'insert', 'x']])],
      { reason: /immutable/ },
      toy,
    ],
    [
      '_uuid in update',
      [update('Logical_Switch', [], { _uuid: U1 })],
      { column: '_uuid', reason: /cannot be written/ },
    ],
    [
      '_uuid in insert',
      [insert('Logical_Switch', { _uuid: U1 })],
      { column: '_uuid', reason: /cannot be written/ },
    ],
    ['_uuid in mutate', [mutate('Logical_Switch', [], [['_uuid', '+=', 1]])], { reason: /immutable/ }],
    [
      'insert on a scalar',
      [mutate('Logical_Switch', [], [['name', 'insert', 'x']])],
      { column: 'name', reason: /mutator "insert" does not apply/ },
    ],
    [
      'arithmetic on a string',
      [mutate('Logical_Switch', [], [['name', '+=', 1]])],
      { reason: /"\+=" does not apply/ },
    ],
    ['arithmetic on a map', [mutate('T', [], [['imap', '+=', 1]])], { reason: /does not apply/ }, toy],
    [
      '%= on a real',
      [mutate('T', [], [['r', '%=', 2]])],
      { column: 'r', reason: /"%=" does not apply/ },
      toy,
    ],
    ['unknown mutator', [mutate('T', [], [['ints', '^=' as '+=', 2]])], { reason: /unknown mutator/ }, toy],
    [
      'arith argument not a number',
      [mutate('T', [], [['ints', '+=', 'x']])],
      { reason: /not an integer/ },
      toy,
    ],
    [
      'insert beyond max',
      [mutate('T', [], [['two', 'insert', ['a', 'b', 'c']]])],
      { reason: /at most 2/ },
      toy,
    ],
    ['string length', [insert('T', { code: 'abcd' })], { column: 'code', reason: /longer than 3/ }, toy],
    ['real range', [insert('T', { r: 11 })], { column: 'r', reason: /greater than the maximum 10/ }, toy],
    ['integer map key', [insert('T', { imap: { x: true } })], { reason: /not an integer/ }, toy],
    [
      '< on a string',
      [select('Logical_Switch', [['name', '<', 'm']])],
      { column: 'name', reason: /function "<" does not apply/ },
    ],
    ['< on a set', [select('T', [['ints', '<', 1]])], { reason: /does not apply/ }, toy],
    [
      'unknown function',
      [select('Logical_Switch', [['name', '~=' as '==', 'm']])],
      { reason: /unknown condition/ },
    ],
    ['condition value enum', [select('ACL', [['action', '==', 'permit']])], { reason: /not one of/ }],
    ['malformed condition', [select('ACL', [['action', '=='] as never])], { reason: /malformed condition/ }],
    [
      'duplicate uuid-name',
      [insert('Logical_Switch', {}, { uuidName: 'a' }), insert('Logical_Switch', {}, { uuidName: 'a' })],
      { opIndex: 1, reason: /duplicate uuid-name "a"/ },
    ],
    [
      'invalid uuid-name',
      [insert('Logical_Switch', {}, { uuidName: '1x' })],
      { reason: /invalid uuid-name/ },
    ],
    ['invalid explicit uuid', [insert('Logical_Switch', {}, { uuid: 'x' })], { reason: /invalid uuid/ }],
    [
      'reference to an undeclared uuid-name',
      [ok, insert('Logical_Switch', { name: 'a', ports: ['ghost'] })],
      { opIndex: 1, table: 'Logical_Switch', column: 'ports', reason: /uuid-name "ghost" is not declared/ },
    ],
    [
      'undeclared uuid-name in a condition',
      [select('Logical_Switch', [['_uuid', '==', 'ghost']])],
      { column: '_uuid', reason: /"ghost" is not declared/ },
    ],
    ['wait until', [wait('ACL', [], ['name'], '<>' as '==', [])], { reason: /"until"/ }],
    ['wait timeout', [wait('ACL', [], ['name'], '==', [], -1)], { reason: /"timeout"/ }],
    [
      'wait row column',
      [wait('ACL', [], ['name'], '==', [{ nope: 1 }])],
      { column: 'nope', reason: /unknown column/ },
    ],
    ['commit durable', [{ op: 'commit', durable: 'yes' } as never], { reason: /"durable"/ }],
    ['assert lock name', [assertLock('bad lock')], { reason: /invalid lock name/ }],
    ['unknown op', [{ op: 'frobnicate' } as never], { reason: /unknown operation/ }],
  ] as [string, Operation[], Record<string, unknown>, ReturnType<typeof parseSchema>?][])(
    '%s',
    (_name, txn, want, s) => {
      const got = invalid(txn, s ?? schema);
      for (const [k, v] of Object.entries(want)) {
        if (v instanceof RegExp) expect(got[k as keyof typeof got]).toMatch(v);
        else expect(got[k as keyof typeof got]).toBe(v);
      }
    },
  );

  it('message names op index, table and column', () => {
    expect(() => encodeTransaction(schema, undefined, [ok, insert('ACL', { priority: 99999 })])).toThrow(
      /^operation 1 \(table ACL, column priority\): 99999 is greater than the maximum 32767$/,
    );
  });
});
