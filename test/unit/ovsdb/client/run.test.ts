/**
 * The build-and-retry loop of `OvsdbClient.run` against a scripted host: outcome-unknown
 * failures wait for a resync and rebuild, failed `wait` preconditions wait for a newer cache,
 * other errors pass through, retries are bounded.
 */
import { describe, expect, it } from 'vitest';
import { DatabaseCache } from '../../../../ovsdb/cache/index.js';
import { OvsdbClientError, OvsdbTryAgainError } from '../../../../ovsdb/client/errors.js';
import {
  isPreconditionFailure,
  retryDelay,
  runWithRetry,
  type RunHost,
} from '../../../../ovsdb/client/run.js';
import { nb } from '../../../../ovsdb/models/index.js';
import { OvsdbTransactionError, ops, type Operation } from '../../../../ovsdb/transaction/index.js';

const o = ops<nb.Tables>();
const FAST = { minBackoffMs: 1, maxBackoffMs: 2 };

/** A host whose transact outcomes are scripted; `epoch` advances when a reconnect is simulated. */
function host(outcomes: ((ops: readonly Operation[]) => unknown[])[]) {
  const cache = new DatabaseCache(nb.schema(), { tables: { Logical_Switch: undefined } });
  let epoch = 1;
  const sent: (readonly Operation[])[] = [];
  const epochWaits: number[] = [];
  const h: RunHost = {
    cache: () => cache,
    epoch: () => epoch,
    whenOnline: async () => undefined,
    whenEpochAfter: async (e) => {
      epochWaits.push(e);
      epoch = e + 1;
    },
    transact: async (ops) => {
      sent.push(ops);
      const next = outcomes.shift();
      if (!next) throw new Error('unexpected transact');
      return next(ops);
    },
  };
  return { h, cache, sent, epochWaits };
}

const insertSw = (name: string) => [o.insert('Logical_Switch', { name })];

describe('runWithRetry', () => {
  it('returns the results of the first successful attempt', async () => {
    const { h, sent } = host([() => ['u1']]);
    const r = await runWithRetry(h, () => insertSw('a'), FAST);
    expect(r).toEqual({ results: ['u1'], ops: insertSw('a'), attempts: 1 });
    expect(sent).toHaveLength(1);
  });

  it('sends nothing when the builder has nothing to do', async () => {
    const { h, sent } = host([]);
    expect(await runWithRetry(h, () => undefined, FAST)).toEqual({
      results: undefined,
      ops: undefined,
      attempts: 1,
    });
    expect(await runWithRetry(h, () => [], FAST)).toMatchObject({ results: undefined });
    expect(sent).toHaveLength(0);
  });

  it('after an unknown outcome waits for a resync, then rebuilds from the refreshed cache', async () => {
    const { h, cache, sent, epochWaits } = host([
      () => {
        throw new OvsdbTryAgainError('disconnected', 'lost');
      },
    ]);
    let calls = 0;
    const build = (c: DatabaseCache) => {
      calls++;
      return [...c.rows('Logical_Switch')].some((r) => r['name'] === 'a') ? undefined : insertSw('a');
    };
    // The resync shows that the first attempt committed.
    const resync = h.whenEpochAfter;
    h.whenEpochAfter = async (e) => {
      await cache.applyUpdate2({
        Logical_Switch: { 'aaaaaaaa-0000-0000-0000-000000000001': { insert: { name: 'a' } } },
      });
      return resync(e);
    };
    const r = await runWithRetry(h, build, FAST);
    expect(r).toEqual({ results: undefined, ops: undefined, attempts: 2 });
    expect(calls).toBe(2);
    expect(sent).toHaveLength(1);
    expect(epochWaits).toEqual([1]);
  });

  it('retries a failed wait precondition and passes other server errors through', async () => {
    const timedOut = (ops: readonly Operation[]) => {
      throw new OvsdbTransactionError(0, 'timed out', undefined, ops[0], false);
    };
    const { h, sent } = host([timedOut, () => [undefined, 'u2']]);
    const guarded = () => [
      o.wait('Logical_Switch', [['name', '==', 'a']], ['name'], '==', [], 0),
      ...insertSw('a'),
    ];
    expect(await runWithRetry(h, guarded, FAST)).toMatchObject({ results: [undefined, 'u2'], attempts: 2 });
    expect(sent).toHaveLength(2);

    const constraint = () => {
      throw new OvsdbTransactionError(1, 'constraint violation', undefined, undefined, false);
    };
    const second = host([constraint]);
    await expect(runWithRetry(second.h, () => insertSw('b'), FAST)).rejects.toMatchObject({
      code: 'OVSDB_TXN_CONSTRAINT_VIOLATION',
    });
    expect(second.sent).toHaveLength(1);
  });

  it('gives up with OVSDB_RUN_EXHAUSTED after maxAttempts, carrying the last error', async () => {
    const fail = () => {
      throw new OvsdbTryAgainError('cluster-error', 'cluster error');
    };
    const { h, sent } = host([fail, fail, fail]);
    const err = await runWithRetry(h, () => insertSw('c'), { ...FAST, maxAttempts: 3 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OvsdbClientError);
    expect(err).toMatchObject({ code: 'OVSDB_RUN_EXHAUSTED' });
    expect((err as Error).cause).toBeInstanceOf(OvsdbTryAgainError);
    expect(sent).toHaveLength(3);
  });
});

describe('isPreconditionFailure / retryDelay', () => {
  it('recognizes "timed out" only on a wait operation', () => {
    const w = [o.wait('Logical_Switch', [], ['name'], '==', [], 0)];
    expect(isPreconditionFailure(new OvsdbTransactionError(0, 'timed out', undefined, w[0], false), w)).toBe(
      true,
    );
    const ins = insertSw('x');
    expect(
      isPreconditionFailure(new OvsdbTransactionError(0, 'timed out', undefined, ins[0], false), ins),
    ).toBe(false);
    expect(isPreconditionFailure(new Error('x'), w)).toBe(false);
  });

  it('doubles up to the cap with jitter down to half', () => {
    expect(retryDelay(1, 50, 2000, () => 1)).toBe(50);
    expect(retryDelay(3, 50, 2000, () => 1)).toBe(200);
    expect(retryDelay(10, 50, 2000, () => 1)).toBe(2000);
    expect(retryDelay(10, 50, 2000, () => 0)).toBe(1000);
  });
});
