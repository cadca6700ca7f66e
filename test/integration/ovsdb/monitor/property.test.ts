/**
 * Property test: while another client (`ovsdb-client transact`) runs a long random sequence
 * of inserts/updates/mutates/deletes on Logical_Switch, Logical_Switch_Port and ACL, three
 * monitors (one per protocol version) must each end up equal, row by row, to a fresh
 * `ovsdb-client dump`.
 */
import '../../../harness/env.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { Monitor, type MonitorMethod } from '../../../../ovsdb/monitor/index.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { useTmpDir } from '../../../harness/index.js';
import { NB, dumpTables, nbSchema, normalizeCache, selectUuids, transact } from './helpers.js';

const TABLES = ['Logical_Switch', 'Logical_Switch_Port', 'ACL'] as const;
const METHODS: MonitorMethod[] = ['monitor_cond_since', 'monitor_cond', 'monitor'];

const sw = fc.integer({ min: 0, max: 3 }).map((i) => `ls${i}`);
const port = fc.integer({ min: 0, max: 7 }).map((i) => `lp${i}`);
const addrs = fc.subarray([
  '00:00:00:00:00:01',
  '00:00:00:00:00:02 10.0.0.2',
  'dynamic',
  'router',
  'unknown',
]);
const KEYS = ['a', 'b', 'owner', 'vpc-agent.io/owner'];
const key = fc.constantFrom(...KEYS);
const prio = fc.integer({ min: 0, max: 5 }).map((p) => p * 100);
const nameEq = (n: string) => [['name', '==', n]];

/** One random change; `remote` is the server; each returns the operations to send. */
type Cmd = (remote: string) => Promise<unknown[] | undefined>;

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(sw, key, fc.string({ maxLength: 6 }))
      .map(([s, k, v]): Cmd => async () => [
        { op: 'insert', table: 'Logical_Switch', row: { name: s, external_ids: ['map', [[k, v]]] } },
      ]),
  },
  {
    weight: 1,
    arbitrary: sw.map((s): Cmd => async () => [{ op: 'delete', table: 'Logical_Switch', where: nameEq(s) }]),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(sw, port, addrs, fc.option(fc.integer({ min: 1, max: 4095 }), { freq: 2 }))
      .map(([s, p, a, tag]): Cmd => async () => [
        {
          op: 'insert',
          table: 'Logical_Switch_Port',
          'uuid-name': 'np',
          row: { name: p, addresses: ['set', a], tag: tag === null ? ['set', []] : tag },
        },
        {
          op: 'mutate',
          table: 'Logical_Switch',
          where: nameEq(s),
          mutations: [['ports', 'insert', ['named-uuid', 'np']]],
        },
      ]),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(port, addrs)
      .map(([p, a]): Cmd => async () => [
        { op: 'update', table: 'Logical_Switch_Port', where: nameEq(p), row: { addresses: ['set', a] } },
      ]),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        port,
        fc.option(fc.integer({ min: 0, max: 4095 }), { freq: 2 }),
        fc.option(fc.boolean(), { freq: 2 }),
      )
      .map(([p, tag, en]): Cmd => async () => [
        {
          op: 'update',
          table: 'Logical_Switch_Port',
          where: nameEq(p),
          row: { tag_request: tag ?? ['set', []], enabled: en ?? ['set', []] },
        },
      ]),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(port, key, fc.option(fc.string({ maxLength: 6 }), { freq: 2 }))
      .map(([p, k, v]): Cmd => async () => [
        {
          op: 'mutate',
          table: 'Logical_Switch_Port',
          where: nameEq(p),
          mutations: [
            v === null
              ? ['external_ids', 'delete', ['set', KEYS]]
              : ['external_ids', 'insert', ['map', [[k, v]]]],
          ],
        },
      ]),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(port, key, fc.string({ maxLength: 6 }))
      .map(([p, k, v]): Cmd => async () => [
        { op: 'update', table: 'Logical_Switch_Port', where: nameEq(p), row: { options: ['map', [[k, v]]] } },
      ]),
  },
  {
    weight: 1,
    arbitrary: port.map((p): Cmd => async (remote) => {
      const uuids = await selectUuids(remote, 'Logical_Switch_Port', nameEq(p));
      if (uuids.length === 0) return undefined;
      const del = ['set', uuids.map((u) => ['uuid', u])];
      return [{ op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['ports', 'delete', del]] }];
    }),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(sw, prio, fc.constantFrom('allow', 'allow-related', 'drop', 'reject'), fc.boolean())
      .map(([s, pr, action, log]): Cmd => async () => [
        {
          op: 'insert',
          table: 'ACL',
          'uuid-name': 'na',
          row: { priority: pr, direction: 'to-lport', match: `ip4 && ${pr}`, action, log },
        },
        {
          op: 'mutate',
          table: 'Logical_Switch',
          where: nameEq(s),
          mutations: [['acls', 'insert', ['named-uuid', 'na']]],
        },
      ]),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(prio, fc.option(fc.string({ maxLength: 8 }), { freq: 2 }))
      .map(([pr, name]): Cmd => async () => [
        {
          op: 'update',
          table: 'ACL',
          where: [['priority', '==', pr]],
          row: { name: name ?? ['set', []], log: name !== null },
        },
      ]),
  },
  {
    weight: 1,
    arbitrary: prio.map((pr): Cmd => async (remote) => {
      const uuids = await selectUuids(remote, 'ACL', [['priority', '==', pr]]);
      if (uuids.length === 0) return undefined;
      const del = ['set', uuids.map((u) => ['uuid', u])];
      return [{ op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['acls', 'delete', del]] }];
    }),
  },
  {
    weight: 1,
    arbitrary: sw.map((s): Cmd => async () => [
      { op: 'update', table: 'Logical_Switch', where: nameEq(s), row: { ports: ['set', []] } },
    ]),
  },
);

/**
 * A fixed start for every run so each diff path is certainly exercised (the random part
 * may miss some): set toggles on ports/acls, map key add and removal, optional set/clear.
 */
const PREAMBLE: Cmd[] = [
  async () => [
    {
      op: 'insert',
      table: 'Logical_Switch_Port',
      'uuid-name': 'p',
      row: {
        name: 'cov-p',
        external_ids: [
          'map',
          [
            ['a', '1'],
            ['b', '2'],
          ],
        ],
      },
    },
    {
      op: 'insert',
      table: 'ACL',
      'uuid-name': 'a',
      row: { priority: 1, direction: 'to-lport', match: '1', action: 'drop' },
    },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'cov', ports: ['named-uuid', 'p'] } },
    {
      op: 'mutate',
      table: 'Logical_Switch',
      where: nameEq('cov'),
      mutations: [['acls', 'insert', ['named-uuid', 'a']]],
    },
  ],
  async () => [
    {
      op: 'mutate',
      table: 'Logical_Switch_Port',
      where: nameEq('cov-p'),
      mutations: [['external_ids', 'delete', ['set', ['a']]]],
    },
    {
      op: 'update',
      table: 'Logical_Switch_Port',
      where: nameEq('cov-p'),
      row: { addresses: 'router', tag_request: 5 },
    },
    { op: 'update', table: 'ACL', where: [['priority', '==', 1]], row: { name: 'cov-acl' } },
  ],
  async () => [
    { op: 'update', table: 'Logical_Switch_Port', where: nameEq('cov-p'), row: { tag_request: ['set', []] } },
    { op: 'update', table: 'ACL', where: [['priority', '==', 1]], row: { name: ['set', []] } },
  ],
  async () => [{ op: 'delete', table: 'Logical_Switch', where: nameEq('cov') }],
];

describe('cache equals a fresh dump after random changes by another client', () => {
  const tmp = useTmpDir('prop');
  let srv: OvsdbServerHandle;
  const conns: RpcConnection[] = [];

  beforeAll(async () => {
    srv = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: SCHEMAS.nb });
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await srv?.stop();
  });

  it('for monitor_cond_since, monitor_cond and monitor alike', { timeout: 180_000 }, async () => {
    const schema = nbSchema();
    const monitors = await Promise.all(
      METHODS.map(async (method) => {
        const conn = await RpcConnection.connect(srv.unixRemote);
        conns.push(conn);
        const m = new Monitor(schema, {
          database: NB,
          tables: Object.fromEntries(TABLES.map((t) => [t, {}])),
          method,
        });
        await m.start(conn);
        return m;
      }),
    );
    let applied = 0;
    // Evidence that the sequences built real state: rows per table seen, and modifies seen.
    const maxRows = Object.fromEntries(TABLES.map((t) => [t, 0]));
    const modifiedColumns = new Set<string>();
    monitors[0]!.cache.onChange((b) => {
      for (const c of b.changes) {
        if (c.kind !== 'update') continue;
        for (const k of Object.keys(c.new!))
          if (c.new![k] !== c.old![k]) modifiedColumns.add(`${c.table}.${k}`);
        const oldIds = c.old!['external_ids'] as Record<string, string>;
        const newIds = c.new!['external_ids'] as Record<string, string>;
        if (Object.keys(oldIds).some((k) => !(k in newIds))) modifiedColumns.add('map key removed');
      }
    });
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 60, maxLength: 100 }), async (cmds) => {
        for (const c of [...PREAMBLE, ...cmds]) {
          const ops = await c(srv.unixRemote);
          if (!ops) continue;
          const res = await transact(srv.unixRemote, ops);
          if (!res.some((r) => r && 'error' in r)) applied++;
        }
        const want = await dumpTables(schema, srv.unixRemote, TABLES);
        for (const t of TABLES) maxRows[t] = Math.max(maxRows[t]!, Object.keys(want[t]!).length);
        for (const m of monitors) {
          await expect.poll(() => normalizeCache(m.cache, TABLES), { timeout: 10_000 }).toEqual(want);
          expect(m.active).toBe(true);
        }
      }),
      { numRuns: 3 },
    );
    // The sequences really exercised the server (not just failed transactions), every diff path included.
    expect(applied).toBeGreaterThan(60);
    expect(monitors.map((m) => m.method)).toEqual(METHODS);
    for (const t of TABLES) expect(maxRows[t], t).toBeGreaterThan(0);
    for (const col of [
      'Logical_Switch.ports',
      'Logical_Switch.acls',
      'Logical_Switch_Port.addresses',
      'Logical_Switch_Port.external_ids',
      'Logical_Switch_Port.tag_request',
      'ACL.name',
      'map key removed',
    ]) {
      expect(modifiedColumns, col).toContain(col);
    }
  });
});
