import { describe, expect, it } from 'vitest';
import type { RowChange } from '../../../../ovsdb/index.js';
import { isDrift } from '../../../../agent/node/ovs/reconciler.js';
import {
  createReconcileLoop,
  statusOf,
  type ObjectStatus,
  type PassContext,
  type Reconciler,
} from '../../../../agent/reconcile/reconciler.js';

/** A reconciler over a set of names: desired = the input's names, apply records what it was told. */
function recorder() {
  const calls = { desired: 0, plans: [] as { names: string[]; prune: boolean; reasons: string[] }[] };
  let fail = 0;
  const status = new Map<string, ObjectStatus>();
  const r: Reconciler<{ names: string[] }, string[], { names: string[]; prune: boolean }, number> = {
    name: 'test',
    desired: (input) => {
      calls.desired++;
      return input.names.length === 0 ? undefined : [...input.names];
    },
    plan: (names, ctx: PassContext) => {
      calls.plans.push({ names, prune: ctx.prune, reasons: [...ctx.reasons] });
      return { names, prune: ctx.prune };
    },
    apply: async (p) => {
      if (fail > 0) {
        fail--;
        throw new Error('apply failed');
      }
      for (const n of p.names) status.set(n, { state: 'ready' });
      return p.names.length;
    },
    status: () => status,
  };
  return { r, calls, failNext: (n: number) => (fail = n) };
}

describe('createReconcileLoop', () => {
  it('builds desired once per input, prunes only while the latest load is complete, reports results', async () => {
    const { r, calls } = recorder();
    const results: number[] = [];
    const loop = createReconcileLoop(r, {
      runner: { debounceMs: 1, resyncMs: 0 },
      onResult: (n) => results.push(n),
    });
    expect(await loop.runOnce()).toBeUndefined(); // no input yet: nothing planned
    expect(calls.plans).toHaveLength(0);

    loop.set({ names: ['a', 'b'] }, { complete: false });
    expect(await loop.runOnce(['resync'])).toBe(2);
    expect(await loop.runOnce(['drift'])).toBe(2);
    expect(calls.desired).toBe(1); // two passes, one build
    expect(calls.plans.map((p) => p.prune)).toEqual([false, false]);
    expect(calls.plans[1]!.reasons).toEqual(['drift']);

    loop.set({ names: ['a'] }, { complete: true });
    loop.start();
    await loop.settled();
    expect(calls.plans.at(-1)).toMatchObject({ names: ['a'], prune: true });
    expect(results).toEqual([1]); // the runner's pass, not runOnce, reports results
    expect(loop.desired()).toEqual(['a']);
    expect(loop.status().get('a')).toEqual({ state: 'ready' });

    // An input that adds nothing new keeps the previous desired state (and its pruning flag follows the load).
    loop.set({ names: [] }, { complete: false });
    expect(await loop.runOnce()).toBe(1);
    expect(calls.plans.at(-1)).toMatchObject({ names: ['a'], prune: false });
    await loop.stop();
  });

  it('retries a failed apply (the runner owns retries) and stays disabled while enabled() is false', async () => {
    const { r, calls, failNext } = recorder();
    let on = false;
    const loop = createReconcileLoop(r, {
      enabled: () => on,
      runner: { debounceMs: 1, resyncMs: 0, minBackoffMs: 1, maxBackoffMs: 5 },
    });
    loop.start();
    loop.set({ names: ['x'] }, { complete: true });
    await loop.settled();
    expect(calls.plans).toHaveLength(0);
    on = true;
    failNext(2);
    loop.trigger('enabled', 0);
    await loop.settled();
    expect(calls.plans).toHaveLength(3);
    expect(loop.health()).toMatchObject({ healthy: true, failures: 2, consecutiveFailures: 0 });
    await loop.stop();
  });
});

describe('statusOf', () => {
  it('marks objects a problem names degraded with its first message, the rest ready', () => {
    const s = statusOf(
      ['A', 'B'],
      [{ resource: 'B', message: 'no NIC' }, { resource: 'B', message: 'later' }, { message: 'x' }],
      't',
    );
    expect(Object.fromEntries(s)).toEqual({
      A: { state: 'ready', at: 't' },
      B: { state: 'degraded', message: 'no NIC', at: 't' },
    });
  });
});

describe('node OVS drift', () => {
  const update = (table: string, old: Record<string, unknown>, neu: Record<string, unknown>): RowChange =>
    ({
      table,
      kind: 'update',
      uuid: 'u',
      old: { _uuid: 'u', ...old },
      new: { _uuid: 'u', ...neu },
    }) as RowChange;

  it('ignores what vswitchd rewrites by itself and catches configuration edits', () => {
    expect(
      isDrift(update('Interface', { statistics: { rx_bytes: 1 } }, { statistics: { rx_bytes: 2 } })),
    ).toBe(false);
    expect(isDrift(update('Open_vSwitch', { next_cfg: 1, cur_cfg: 0 }, { next_cfg: 2, cur_cfg: 1 }))).toBe(
      false,
    );
    expect(
      isDrift(update('Interface', { link_state: 'up', ofport: 3 }, { link_state: 'down', ofport: -1 })),
    ).toBe(false);
    expect(isDrift(update('Port', { trunks: [10] }, { trunks: [10, 20] }))).toBe(true);
    // Equal values decoded into new objects are not an edit.
    expect(isDrift(update('Bridge', { other_config: { a: '1' } }, { other_config: { a: '1' } }))).toBe(false);
    expect(isDrift(update('Open_vSwitch', { external_ids: { m: '1' } }, { external_ids: { m: '2' } }))).toBe(
      true,
    );
    expect(isDrift({ table: 'Port', kind: 'delete', uuid: 'u', old: { _uuid: 'u' } } as RowChange)).toBe(
      true,
    );
    expect(isDrift(update('Logical_Switch', { a: 1 }, { a: 2 }))).toBe(false);
  });

  it("leaves workload ports and br-int's port list to the ports reconciler", () => {
    const vmPort = { _uuid: 'p', name: 'h1', external_ids: { 'vpc-agent.io/key': 'vm-port/h1' } };
    expect(isDrift({ table: 'Port', kind: 'insert', uuid: 'p', new: vmPort } as RowChange)).toBe(false);
    expect(isDrift({ table: 'Interface', kind: 'delete', uuid: 'p', old: vmPort } as RowChange)).toBe(false);
    expect(
      isDrift(update('Bridge', { name: 'br-int', ports: ['a'] }, { name: 'br-int', ports: ['a', 'b'] })),
    ).toBe(false);
    // A provider bridge losing a port, or another Port going, still is.
    expect(
      isDrift(
        update('Bridge', { name: 'br-vswitch1', ports: ['a', 'b'] }, { name: 'br-vswitch1', ports: ['a'] }),
      ),
    ).toBe(true);
    expect(
      isDrift({ table: 'Port', kind: 'insert', uuid: 'q', new: { _uuid: 'q', name: 'eth1' } } as RowChange),
    ).toBe(true);
  });
});
