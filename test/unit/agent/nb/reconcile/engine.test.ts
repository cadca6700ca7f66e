import { describe, expect, it } from 'vitest';
import { createNbReconciler, type EngineClient } from '../../../../../agent/nb/reconcile/engine.js';
import { createRunner } from '../../../../../agent/reconcile/runner.js';
import type { Operation, RunResult, TxnBuilder } from '../../../../../ovsdb/index.js';
import { applyOps, desired, ls, lsp, newCache, rowsOf } from './fake-nb.js';

/** A client whose `run` applies the built operations to the cache (one attempt). */
function fakeClient(opts: { fail?: () => Error | undefined } = {}) {
  const cache = newCache();
  const sent: Operation[][] = [];
  const client: EngineClient = {
    cache,
    async run(build: TxnBuilder): Promise<RunResult> {
      await cache.idle();
      const ops = build(cache);
      if (!ops || ops.length === 0) return { results: undefined, ops: undefined, attempts: 1 };
      const err = opts.fail?.();
      if (err) throw err;
      sent.push([...ops]);
      await applyOps(cache, ops);
      return { results: [], ops, attempts: 1 };
    },
  };
  return { client, cache, sent };
}

describe('createNbReconciler', () => {
  it('sends one transaction with assert first, then nothing; stats count ops by kind', async () => {
    const { client, sent } = fakeClient();
    const engine = createNbReconciler({ client }, { lock: 'vpc_agent_nb_writer' });
    engine.setDesired(desired(ls('a', { ports: ['vm1'] }), lsp('a', 'vm1')), { complete: true });
    const first = await engine.reconcileNow();
    expect(first.sent).toBe(true);
    expect(first.counts).toMatchObject({ insert: 2, update: 0, delete: 0 });
    expect(sent[0]![0]).toEqual({ op: 'assert', lock: 'vpc_agent_nb_writer' });
    const second = await engine.reconcileNow();
    expect(second.sent).toBe(false);
    expect(sent).toHaveLength(1);
    expect(engine.stats).toMatchObject({ passes: 2, transactions: 1, ops: { insert: 2 } });
    expect(engine.status().get('Subnet/a')?.state).toBe('ready');
    expect(engine.counts()).toEqual({
      desired: { Logical_Switch: 1, Logical_Switch_Port: 1 },
      owned: { Logical_Switch: 1, Logical_Switch_Port: 1 },
    });
  });

  it('a desired state given as a function is built once, when the pass starts; undefined keeps the last', async () => {
    const { client, cache, sent } = fakeClient();
    const engine = createNbReconciler({ client });
    let builds = 0;
    let ports = ['vm1'];
    const build = () => {
      builds++;
      return desired(ls('a', { ports }), ...ports.map((p) => lsp('a', p)));
    };
    engine.setDesired(build, { complete: true });
    ports = ['vm1', 'vm2'];
    engine.setDesired(build, { complete: true });
    engine.setDesired(build, { complete: true });
    expect(builds).toBe(0);
    await engine.reconcileNow();
    expect(builds).toBe(1); // three requests, one build, with what they all asked for
    expect(rowsOf(cache, 'Logical_Switch_Port')).toHaveLength(2);
    await engine.reconcileNow();
    expect(builds).toBe(1); // nothing new set: the built state is reused
    engine.setDesired(() => undefined, { complete: true });
    await engine.reconcileNow();
    expect(rowsOf(cache, 'Logical_Switch_Port')).toHaveLength(2);
    expect(sent).toHaveLength(1);
  });

  it('repairs drift on owned rows through the runner, and only while writer', async () => {
    const { client, cache } = fakeClient();
    let writer = false;
    const engine = createNbReconciler(
      { client, isWriter: () => writer },
      { runner: { debounceMs: 1, resyncMs: 0 } },
    );
    engine.start();
    engine.setDesired(desired(ls('a'), ls('b')), { complete: true });
    await engine.settled();
    expect(rowsOf(cache, 'Logical_Switch')).toHaveLength(0);
    writer = true;
    engine.trigger('writer');
    await engine.settled();
    expect(rowsOf(cache, 'Logical_Switch')).toHaveLength(2);
    const a = rowsOf(cache, 'Logical_Switch').find((r) => r['name'] === 'a')!;
    await applyOps(cache, [
      { op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', a['_uuid'] as string]] },
    ]);
    await engine.settled();
    expect(
      rowsOf(cache, 'Logical_Switch')
        .map((r) => r['name'])
        .sort(),
    ).toEqual(['a', 'b']);
    await engine.stop();
  });

  it('retries a failed pass with backoff and reports errors per resource and in health', async () => {
    let failures = 2;
    const { client, cache } = fakeClient({
      fail: () => (failures-- > 0 ? new Error('not owner') : undefined),
    });
    const engine = createNbReconciler(
      { client },
      { runner: { debounceMs: 1, resyncMs: 0, minBackoffMs: 1, maxBackoffMs: 2, unhealthyAfter: 2 } },
    );
    engine.start();
    engine.setDesired(desired(ls('a')), { complete: true });
    await engine.settled();
    expect(rowsOf(cache, 'Logical_Switch')).toHaveLength(1);
    expect(engine.stats.failures).toBe(2);
    expect(engine.stats.lastErrors.map((e) => e.message)).toEqual(['not owner', 'not owner']);
    expect(engine.health()).toMatchObject({ healthy: true, failures: 2, consecutiveFailures: 0 });
    expect(engine.status().get('Subnet/a')?.state).toBe('ready');
    await engine.stop();
  });
});

describe('createRunner', () => {
  it('coalesces triggers and runs one more pass when triggered during a pass', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = createRunner(
      async () => {
        runs++;
        if (runs === 1) await gate;
      },
      () => true,
      { name: 't', debounceMs: 1, resyncMs: 0 },
    );
    runner.start();
    await new Promise((r) => setTimeout(r, 10));
    runner.trigger('a');
    runner.trigger('b');
    runner.trigger('c');
    release();
    await runner.settled();
    expect(runs).toBe(2);
    expect(runner.health()).toMatchObject({ passes: 2, healthy: true });
    await runner.stop();
  });

  it('a trigger with a shorter delay brings the scheduled pass forward, never later', async () => {
    const at: number[] = [];
    const runner = createRunner(
      async () => {
        at.push(Date.now());
      },
      () => true,
      { name: 't', debounceMs: 10_000, resyncMs: 0 },
    );
    runner.start(); // 'start' schedules a pass 10 s out
    const t0 = Date.now();
    runner.trigger('urgent', 0);
    await runner.settled();
    expect(at).toHaveLength(1);
    expect(at[0]! - t0).toBeLessThan(1000);
    // A later trigger with the long debounce does not delay an earlier, sooner one.
    runner.trigger('urgent', 0);
    runner.trigger('slow');
    await runner.settled();
    expect(at).toHaveLength(2);
    expect(at[1]! - t0).toBeLessThan(2000);
    await runner.stop();
  });

  it('turns unhealthy after repeated failures', async () => {
    const runner = createRunner(
      async () => {
        throw new Error('boom');
      },
      () => true,
      { name: 't', debounceMs: 1, resyncMs: 0, minBackoffMs: 1, maxBackoffMs: 1, unhealthyAfter: 3 },
    );
    runner.start();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (runner.health().failures >= 3) {
          clearInterval(t);
          resolve();
        }
      }, 2);
    });
    await runner.stop();
    expect(runner.health()).toMatchObject({ healthy: false, lastError: 'boom' });
  });
});
