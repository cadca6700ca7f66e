/**
 * The reconcile contract at benchmark scale (1,000 subnets in 100 VPCs, 10,000 ports through
 * IPAM: 16,600 rows): the first pass inserts everything in one transaction; a second pass —
 * and a pass over a freshly rebuilt desired state — sends nothing; one drifted row costs one
 * update. Counts only: speed is measured in bench/nb, not asserted here.
 */
import { describe, expect, it } from 'vitest';
import { buildNorthbound } from '../../../../../agent/nb/build/index.js';
import { createNbReconciler, type EngineClient } from '../../../../../agent/nb/reconcile/engine.js';
import { planReconcile } from '../../../../../agent/nb/reconcile/plan.js';
import type { Operation, RunResult, TxnBuilder } from '../../../../../ovsdb/index.js';
import { scaleTopology } from '../scale-topology.js';
import { applyOps, newCache } from './fake-nb.js';

describe('reconcile at scale', () => {
  it('16,600 rows: one insert transaction, then no-op passes send nothing; one drift, one update', async () => {
    const input = scaleTopology();
    const cache = newCache();
    const sent: Operation[][] = [];
    const client: EngineClient = {
      cache,
      async run(build: TxnBuilder): Promise<RunResult> {
        await cache.idle();
        const ops = build(cache);
        if (!ops || ops.length === 0) return { results: undefined, ops: undefined, attempts: 1 };
        sent.push([...ops]);
        await applyOps(cache, ops);
        return { results: [], ops, attempts: 1 };
      },
    };
    const engine = createNbReconciler({ client }, { lock: 'vpc_agent_nb_writer' });
    engine.setDesired(buildNorthbound(input), { complete: true });

    const first = await engine.reconcileNow();
    expect(first.sent).toBe(true);
    expect(first.desiredRows).toBe(16_600);
    expect(first.counts).toEqual({ insert: 16_600, update: 0, delete: 0, mutate: 0, wait: 0 });
    expect(first.problems).toBe(0);

    const second = await engine.reconcileNow();
    expect(second.sent).toBe(false);
    expect(second.desiredRows).toBe(16_600);
    expect(sent).toHaveLength(1);

    // A rebuilt desired state (new objects, same input) is still converged.
    engine.setDesired(buildNorthbound(input), { complete: true });
    expect((await engine.reconcileNow()).sent).toBe(false);
    expect(planReconcile(buildNorthbound(input), cache).ops).toEqual([]);
    expect(engine.stats).toMatchObject({ passes: 3, transactions: 1 });
    expect(engine.counts().owned['Logical_Switch_Port']).toBe(11_000);

    // Drift on one port: exactly one update, of that column only.
    const port = [...cache.rows('Logical_Switch_Port')].find((r) => r['name'] === 's42-3.vm7')!;
    await applyOps(cache, [
      {
        op: 'update',
        table: 'Logical_Switch_Port',
        where: [['_uuid', '==', port._uuid]],
        row: { addresses: [] },
      },
    ]);
    const repair = planReconcile(buildNorthbound(input), cache);
    expect(repair.counts).toEqual({ insert: 0, update: 1, delete: 0, mutate: 0, wait: 0 });
    expect(Object.keys((repair.ops[0] as { row: object }).row)).toEqual(['addresses']);
  }, 60_000);
});
