import { describe, expect, it } from 'vitest';
import { Monitor, buildMonitorRequests, type MonitorRpc } from '../../../ovsdb/monitor/index.js';
import { OvsdbRpcError } from '../../../ovsdb/rpc/errors.js';
import { P1, U1, U2, U3, map, set, testSchema, uuid } from './cache/fixtures.js';

const ZERO = '00000000-0000-0000-0000-000000000000';

type Handler = (params: unknown[]) => void | Promise<void>;

/** A scripted server: answers requests from `replies` and lets the test push notifications. */
class FakeRpc implements MonitorRpc {
  readonly sent: { method: string; params: unknown[] }[] = [];
  private readonly handlers = new Map<string, Set<Handler>>();
  constructor(private readonly replies: Record<string, (params: unknown[]) => unknown>) {}

  async request<T>(method: string, params: unknown[]): Promise<T> {
    this.sent.push({ method, params });
    const r = this.replies[method];
    if (!r) throw new OvsdbRpcError(method, 'unknown method');
    return r(params) as T;
  }
  onNotification(method: string, handler: Handler): () => void {
    let s = this.handlers.get(method);
    if (!s) this.handlers.set(method, (s = new Set()));
    s.add(handler);
    return () => s.delete(handler);
  }
  async notify(method: string, params: unknown[]): Promise<void> {
    for (const h of this.handlers.get(method) ?? []) await h(params);
  }
  methods(): string[] {
    return this.sent.map((s) => s.method);
  }
}

const tables = { Sw: {}, Port: { columns: ['sw', 'num'] } };
const initial = { Sw: { [U1]: { initial: { name: 'a', ports: set(uuid(P1)) } } } };

describe('monitor requests', () => {
  it('encodes columns, select and where through the schema', () => {
    const reqs = buildMonitorRequests(
      testSchema(),
      {
        Sw: {
          columns: ['name', 'external_ids'],
          where: [['external_ids', 'includes', { owner: 'me' }], ['_uuid', '==', U1], true],
          select: { initial: true, modify: false },
        },
      },
      true,
    );
    expect(reqs).toEqual({
      Sw: [
        {
          columns: ['name', 'external_ids'],
          select: { initial: true, modify: false },
          where: [['external_ids', 'includes', map({ owner: 'me' })], ['_uuid', '==', uuid(U1)], true],
        },
      ],
    });
    expect(() => buildMonitorRequests(testSchema(), { Sw: { where: [true] } }, false)).toThrow(
      /monitor_cond/,
    );
    expect(() => buildMonitorRequests(testSchema(), { Sw: { columns: ['nope'] } }, true)).toThrow(/nope/);
  });
});

describe('Monitor protocol negotiation', () => {
  it('uses monitor_cond_since and records the transaction id', async () => {
    const rpc = new FakeRpc({
      set_db_change_aware: () => ({}),
      monitor_cond_since: () => [false, U3, initial],
    });
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    const res = await m.start(rpc);
    expect(res).toMatchObject({ method: 'monitor_cond_since', fast: false, found: false, changes: 1 });
    expect(rpc.methods()).toEqual(['set_db_change_aware', 'monitor_cond_since']);
    expect(rpc.sent[1]?.params[3]).toBe(ZERO);
    expect(rpc.sent[1]?.params[2]).toMatchObject({ Port: [{ columns: ['sw', 'num'] }] });
    expect(m.cache.lastTxnId).toBe(U3);
    expect(m.cache.get('Sw', U1)?.['ports']).toEqual([P1]);
  });

  it('pipelines set_db_change_aware with the monitor request and reports its failure after the sync', async () => {
    let releaseAware!: () => void;
    const awareReplied = new Promise<void>((r) => (releaseAware = r));
    const rpc = new FakeRpc({
      set_db_change_aware: () => awareReplied.then(() => ({})),
      monitor_cond_since: () => [false, U3, initial],
    });
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    const started = m.start(rpc);
    await new Promise((r) => setImmediate(r));
    // Both requests are out before the first reply arrived.
    expect(rpc.methods()).toEqual(['set_db_change_aware', 'monitor_cond_since']);
    releaseAware();
    await expect(started).resolves.toMatchObject({ method: 'monitor_cond_since' });

    const failing = new FakeRpc({
      set_db_change_aware: () => {
        throw new OvsdbRpcError('set_db_change_aware', { error: 'not allowed' });
      },
      monitor_cond_since: () => [false, U3, initial],
    });
    await expect(
      new Monitor(testSchema(), { database: 'Test', tables }).start(failing),
    ).rejects.toMatchObject({
      error: 'not allowed',
    });
  });

  it('falls back to monitor_cond, then to monitor, on "unknown method"', async () => {
    const v2 = new FakeRpc({ monitor_cond: () => initial });
    const m2 = new Monitor(testSchema(), { database: 'Test', tables });
    expect(await m2.start(v2)).toMatchObject({ method: 'monitor_cond', fast: false });
    expect(v2.methods()).toEqual(['set_db_change_aware', 'monitor_cond_since', 'monitor_cond']);

    const v1 = new FakeRpc({ monitor: () => ({ Sw: { [U1]: { new: { name: 'a', ports: uuid(P1) } } } }) });
    const m1 = new Monitor(testSchema(), { database: 'Test', tables });
    expect(await m1.start(v1)).toMatchObject({ method: 'monitor', fast: false });
    expect(m1.cache.dump()).toEqual(m2.cache.dump());
    // The negotiated method is remembered for the next session.
    const again = new FakeRpc({ monitor: () => ({}), monitor_cancel: () => ({}) });
    await m1.start(again);
    expect(again.methods()).toEqual(['set_db_change_aware', 'monitor']);
    // Restarting on the same live session cancels the previous monitor first.
    await m1.start(again);
    expect(again.sent[2]).toEqual({ method: 'monitor_cancel', params: [again.sent[1]?.params[1]] });
  });

  it('does not swallow other errors', async () => {
    const rpc = new FakeRpc({
      monitor_cond_since: () => {
        throw new OvsdbRpcError('monitor_cond_since', { error: 'unknown database' });
      },
    });
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    await expect(m.start(rpc)).rejects.toThrow(/unknown database/);
  });
});

describe('Monitor resync', () => {
  it('fast resync applies only the changes since the last transaction id', async () => {
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    await m.start(new FakeRpc({ monitor_cond_since: () => [false, U2, initial] }));
    const before = m.cache.get('Sw', U1);
    const rpc = new FakeRpc({
      monitor_cond_since: () => [true, U3, { Sw: { [U2]: { insert: { name: 'b' } } } }],
    });
    const res = await m.start(rpc);
    expect(rpc.sent[1]?.params[3]).toBe(U2);
    expect(res).toMatchObject({ fast: true, found: true, changes: 1, lastTxnId: U3 });
    expect(m.cache.get('Sw', U1)).toBe(before);
    expect(m.cache.size).toBe(2);
  });

  it('a full resync replaces the contents and reports only net changes', async () => {
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    await m.start(
      new FakeRpc({ monitor_cond: () => ({ Sw: { ...initial.Sw, [U2]: { initial: { name: 'b' } } } }) }),
    );
    const res = await m.start(
      new FakeRpc({ monitor_cond: () => ({ Sw: { ...initial.Sw, [U3]: { initial: { name: 'c' } } } }) }),
    );
    expect(res).toMatchObject({ fast: false, changes: 2 });
    expect(Object.keys(m.cache.dump()['Sw'] ?? {}).sort()).toEqual([U1, U3].sort());
  });
});

describe('Monitor notifications', () => {
  it('applies update3 for its own id only, after the reply', async () => {
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    const rpc = new FakeRpc({ monitor_cond_since: () => [false, U3, initial] });
    await m.start(rpc);
    const id = rpc.sent[1]?.params[1];
    await rpc.notify('update3', ['someone-else', U1, { Sw: { [U2]: { insert: { name: 'x' } } } }]);
    expect(m.cache.size).toBe(1);
    await rpc.notify('update3', [id, U2, { Sw: { [U1]: { modify: { name: 'z' } } } }]);
    expect(m.cache.get('Sw', U1)?.['name']).toBe('z');
    expect(m.cache.lastTxnId).toBe(U2);
  });

  it('a notification racing the reply waits for it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rpc = new FakeRpc({ monitor_cond: async () => (await gate, initial) });
    const m = new Monitor(testSchema(), { database: 'Test', tables, method: 'monitor_cond' });
    const started = m.start(rpc);
    await new Promise((r) => setImmediate(r));
    const id = rpc.sent.at(-1)?.params[1];
    const pushed = rpc.notify('update2', [id, { Sw: { [U1]: { modify: { name: 'after' } } } }]);
    release();
    await started;
    await pushed;
    expect(m.cache.get('Sw', U1)?.['name']).toBe('after');
  });

  it('monitor_cond_change swaps the id and conditions', async () => {
    const rpc = new FakeRpc({ monitor_cond: () => initial, monitor_cond_change: () => ({}) });
    const m = new Monitor(testSchema(), { database: 'Test', tables, method: 'monitor_cond' });
    await m.start(rpc);
    const oldId = rpc.sent.at(-1)?.params[1];
    await m.setConditions({ Sw: [['name', '==', 'b']] });
    const change = rpc.sent.at(-1);
    expect(change?.method).toBe('monitor_cond_change');
    expect(change?.params[0]).toBe(oldId);
    expect(change?.params[2]).toEqual({ Sw: [{ where: [['name', '==', 'b']] }] });
    await rpc.notify('update2', [change?.params[1], { Sw: { [U1]: { delete: null } } }]);
    expect(m.cache.size).toBe(0);
    await rpc.notify('update2', [oldId, { Sw: { [U2]: { insert: {} } } }]);
    expect(m.cache.size).toBe(0);
  });

  it('monitor_canceled emits an event and forces a full resync next time', async () => {
    const rpc = new FakeRpc({ monitor_cond_since: () => [false, U3, initial] });
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    let canceled = 0;
    m.on('canceled', () => canceled++);
    await m.start(rpc);
    await rpc.notify('monitor_canceled', [rpc.sent[1]?.params[1]]);
    expect(canceled).toBe(1);
    expect(m.active).toBe(false);
    const again = new FakeRpc({ monitor_cond_since: () => [false, U3, initial] });
    await m.start(again);
    expect(again.sent[1]?.params[3]).toBe(ZERO);
  });

  it('a bad update leaves the cache intact, reports the error and resyncs', async () => {
    let n = 0;
    const rpc = new FakeRpc({
      monitor_cond_since: () => [
        false,
        U3,
        n++ === 0 ? initial : { Sw: { [U2]: { initial: { name: 'b' } } } },
      ],
      monitor_cancel: () => ({}),
    });
    const m = new Monitor(testSchema(), { database: 'Test', tables });
    const errors: unknown[] = [];
    m.on('error', (e) => errors.push(e));
    let syncs = 0;
    const resynced = new Promise<void>((r) => m.on('sync', () => ++syncs === 2 && r()));
    await m.start(rpc);
    await rpc.notify('update3', [rpc.sent[1]?.params[1], U1, { Sw: { [U2]: { modify: { name: 'x' } } } }]);
    expect(errors).toHaveLength(1);
    await resynced;
    expect(rpc.methods()).toContain('monitor_cancel');
    expect(Object.keys(m.cache.dump()['Sw'] ?? {})).toEqual([U2]);
  });
});
