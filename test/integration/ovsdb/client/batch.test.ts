/**
 * createTxnBatcher against a real Open_vSwitch ovsdb-server (test/harness/ovs-db.ts): concurrent
 * callers go in one joined transaction, a planner that throws fails alone, and a transaction the
 * server refuses is split so that only the bad change fails.
 */
import { describe, expect, it } from 'vitest';
import { NODE_OVS_MONITOR } from '../../../../agent/node/ovs/index.js';
import { planAttach, type OvsPortSpec } from '../../../../agent/node/ports/ovs.js';
import {
  createTxnBatcher,
  ops as typedOps,
  type RunOptions,
  type TxnBuilder,
  type vswitch,
} from '../../../../ovsdb/index.js';
import { useOvsDb } from '../../../harness/ovs-db.js';

const o = typedOps<vswitch.Tables>();
const ovs = useOvsDb('batch', NODE_OVS_MONITOR);

const spec = (i: number): OvsPortSpec => ({
  name: `tap${i}`,
  lsp: `vm${i}.ns`,
  mac: `0a:00:00:00:01:${i.toString(16).padStart(2, '0')}`,
  netns: `ns${i}`,
  network: 'default/net1',
  ifname: 'eth0',
  dhcp: false,
  owner: 'test',
});

/** The batcher over the client, counting the transactions actually sent. */
function counted() {
  let sent = 0;
  const client = {
    run: (build: TxnBuilder, opts?: RunOptions) =>
      ovs.client.run((cache) => {
        const ops = build(cache);
        if (ops && ops.length > 0) sent++;
        return ops;
      }, opts),
  };
  return { batcher: createTxnBatcher(client, { waitForCache: true }), sent: () => sent };
}

const ports = () => [...ovs.client.cache.rows('Port')].map((r) => String(r['name']));

describe('createTxnBatcher', () => {
  it('joins 30 concurrent attaches into at most two transactions, each caller seeing its own ops', async () => {
    await ovs.vsctlSeen('add-br', 'br-int');
    const { batcher, sent } = counted();
    const out = await Promise.all(
      Array.from({ length: 30 }, (_, i) => batcher.run((cache, tag) => planAttach(cache, spec(i), tag))),
    );
    expect(sent()).toBeLessThanOrEqual(2);
    expect(out.every((r) => r.ops !== undefined && r.ops.length === 3)).toBe(true);
    for (let i = 0; i < 30; i++) expect(ports()).toContain(`tap${i}`);
    // Again: nothing to do for anyone, nothing sent.
    const again = await Promise.all(
      Array.from({ length: 30 }, (_, i) => batcher.run((cache, tag) => planAttach(cache, spec(i), tag))),
    );
    expect(again.every((r) => r.ops === undefined)).toBe(true);
    expect(sent()).toBeLessThanOrEqual(2);
  });

  it('a planner that throws fails alone; the others commit', async () => {
    const { batcher } = counted();
    const results = await Promise.allSettled([
      batcher.run((cache, tag) => planAttach(cache, spec(40), tag)),
      batcher.run(() => {
        throw new Error('bad port');
      }),
      batcher.run((cache, tag) => planAttach(cache, spec(41), tag)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('bad port');
    expect(ports()).toEqual(expect.arrayContaining(['tap40', 'tap41']));
  });

  it('a transaction the server refuses is split: only the bad change fails', async () => {
    const { batcher, sent } = counted();
    // A port reference to a row that does not exist: the whole joined transaction fails with a
    // referential integrity violation.
    const dup = (cache: Parameters<Parameters<typeof batcher.run>[0]>[0]) => {
      const br = cache.lookup('Bridge', 'name', 'br-int')[0]!;
      return [
        o.mutate(
          'Bridge',
          [['_uuid', '==', br._uuid]],
          [['ports', 'insert', ['5e1f0000-0000-4000-8000-000000000001']]],
        ),
      ];
    };
    const first = batcher.run((cache, tag) => planAttach(cache, spec(50), tag));
    const results = await Promise.allSettled([
      first,
      batcher.run((cache, tag) => planAttach(cache, spec(51), tag)),
      batcher.run(dup),
      batcher.run((cache, tag) => planAttach(cache, spec(52), tag)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/referential integrity/i);
    expect(ports()).toEqual(expect.arrayContaining(['tap50', 'tap51', 'tap52']));
    expect(ovs.client.cache.lookup('Bridge', 'name', 'br-int')).toHaveLength(1);
    // first alone; the other three joined and refused; then one by one.
    expect(sent()).toBe(1 + 1 + 3);
  });

  it('a failure that is not about the content (the server unreachable, time used up) fails the batch once, not once per caller', async () => {
    let calls = 0;
    const down = {
      run: () => {
        calls++;
        return Promise.reject(new Error('cannot reach the database'));
      },
    };
    const batcher = createTxnBatcher(down, { waitForCache: true });
    const first = batcher.run((cache, tag) => planAttach(cache, spec(60), tag));
    const rest = [61, 62, 63].map((i) => batcher.run((cache, tag) => planAttach(cache, spec(i), tag)));
    const results = await Promise.allSettled([first, ...rest]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    // All four joined (they arrived in one tick): one call, and no retry of each on its own.
    expect(calls).toBe(1);
  });
});
