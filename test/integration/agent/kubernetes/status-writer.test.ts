/**
 * The status writer against the fake API server, with the agent's knowledge given directly (a
 * NAT gateway's status as the NAT reconciler reports it): every node writes what is its own.
 *
 * - the node that runs a gateway writes its EIP and rules (`ready`, `ip`, `mac`, `nat`, `v4ip`,
 *   `Ready`), while the Northbound writer on another node writes `Validated` on the same objects:
 *   both conditions stand, neither undoes the other (merge + resourceVersion, retried on 409);
 * - a node that does not run the gateway writes nothing of it;
 * - 429 waits and is counted; a refusal (422) is not retried until the status to write changes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { nextSnapshot, type Snapshot } from '../../../../agent/pipeline/snapshot.js';
import type { ObjectStatus } from '../../../../agent/reconcile/reconciler.js';
import { decodeManifestText } from '../../../../agent/resources/loader.js';
import { createStatusWriter, type StatusWriter } from '../../../../agent/sources/kubernetes/status.js';
import type { StatusInputs } from '../../../../agent/sources/kubernetes/status-model.js';
import { until } from '../nb/helpers.js';
import { collector, silent, useFakeApi } from './helpers.js';

const NAT = path.resolve('examples/vpc-nat-gateway/nat-gateway.yaml');
const FAST = { debounceMs: 10, resyncMs: 50, backoffInitialMs: 20, backoffMaxMs: 200 };

type Status = Record<string, unknown> & { conditions?: Record<string, unknown>[] };

const natStatus = (ready: boolean) =>
  new Map<string, ObjectStatus & { fields: Record<string, string | boolean> }>([
    ['VpcNatGateway/gw1', { state: 'ready', fields: { netns: 'vpc-nat-gw-gw1', ready: true } }],
    [
      'IptablesEIP/eip-gw1',
      ready
        ? {
            state: 'ready',
            fields: { ip: '10.115.55.200', mac: '02:aa:00:00:00:01', nat: 'dnat,snat', ready },
          }
        : {
            state: 'error',
            message: 'nft: busy',
            fields: { ip: '10.115.55.200', mac: '02:aa:00:00:00:01', nat: 'dnat,snat', ready },
          },
    ],
    ['IptablesSnatRule/snat-lan', { state: 'ready', fields: { v4ip: '10.115.55.200', ready: true } }],
    ['IptablesDnatRule/dnat-web', { state: 'ready', fields: { v4ip: '10.115.55.200', ready: true } }],
  ]);

describe('status writer: each node writes its own', () => {
  const ctx = useFakeApi();

  it('the gateway node writes NAT status, the writer writes Validated; both stand; others write nothing', async () => {
    const { fake } = ctx;
    const { docs } = decodeManifestText(await readFile(NAT, 'utf8'), NAT);
    for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
    const source = ctx.source();
    const seen = collector();
    await source.start(seen.on);
    const snap: Snapshot = nextSnapshot(undefined, await seen.until((s) => s.complete, 'complete'));
    expect(snap.errors).toEqual([]);

    let ready = false;
    const base =
      (over: Partial<StatusInputs>): (() => StatusInputs) =>
      () => ({
        node: 'n',
        writer: false,
        snapshot: snap,
        nb: new Map(),
        ipam: { stats: [], allocations: [] },
        nat: undefined,
        ...over,
      });
    const writers: StatusWriter[] = [];
    const start = (inputs: () => StatusInputs, registry?: Registry) => {
      const w = createStatusWriter(
        { target: source.statusTarget(), inputs, log: silent, ...(registry ? { registry } : {}) },
        FAST,
      );
      writers.push(w);
      w.start();
      return w;
    };
    try {
      // The node running gw1 (not the NB writer), the NB writer (not running it), a third node.
      const registry = new Registry();
      const gwNode = start(() => ({ ...base({ node: 'node-a' })(), nat: natStatus(ready) }), registry);
      const nbWriter = start(base({ node: 'node-b', writer: true }));
      const bystander = start(base({ node: 'node-c', nat: new Map() }), registry); // one counter per registry
      const eip = () => fake.list('IptablesEIP')[0]!['status'] as Status | undefined;
      const types = (s: Status | undefined) =>
        (s?.conditions ?? []).map((c) => `${String(c['type'])}=${String(c['status'])}`).sort();
      await until(() => types(eip()).join() === 'Ready=False,Validated=True', 'both conditions on the EIP');
      expect(eip()).toMatchObject({
        ready: false,
        ip: '10.115.55.200',
        mac: '02:aa:00:00:00:01',
        nat: 'dnat,snat',
      });
      const ready0 = eip()!.conditions!.find((c) => c['type'] === 'Ready')!;
      expect(ready0).toMatchObject({ reason: 'ReconcileFailed', message: 'nft: busy' });
      const dnat = fake.list('IptablesDnatRule')[0]!['status'] as Status;
      await until(
        () => types(fake.list('IptablesDnatRule')[0]!['status'] as Status).length === 2,
        'rule conditions',
      );
      expect(dnat).toMatchObject({ ready: true, v4ip: '10.115.55.200', natGwDp: 'gw1' });

      // The gateway recovers: the node flips Ready; the writer's Validated stays.
      ready = true;
      gwNode.schedule();
      await until(() => eip()?.['ready'] === true, 'ready');
      await until(() => types(eip()).join() === 'Ready=True,Validated=True', 'Ready flipped, Validated kept');

      // Converged: nothing more is written by anyone.
      for (const w of writers) await w.settled();
      const n = fake.statusWrites.length;
      const checks = gwNode.stats().checks;
      await until(() => gwNode.stats().checks >= checks + 4, 'more checks');
      for (const w of writers) await w.settled();
      expect(fake.statusWrites.length).toBe(n);
      // The bystander wrote nothing at all; the gateway node wrote no cluster-wide status.
      expect(bystander.stats().writes).toEqual({});
      const byNode = gwNode.stats().writes;
      expect(Object.keys(byNode).every((k) => /^(IptablesEIP|Iptables\w+Rule|VpcNatGateway)\//.test(k))).toBe(
        true,
      );
      expect(nbWriter.stats().writes['Subnet/ok']).toBeGreaterThanOrEqual(1);
      expect(await registry.getSingleMetricAsString('vpc_agent_kube_status_writes_total')).toMatch(
        /\{kind="IptablesEIP",result="ok"\} [1-9]/,
      );

      // 429 waits and is counted.
      fake.failStatusWrites(1, 429);
      ready = false;
      gwNode.schedule();
      await until(() => eip()?.['ready'] === false, 'written after 429');
      expect(gwNode.stats().writes['IptablesEIP/throttled']).toBe(1);
    } finally {
      for (const w of writers) await w.stop();
    }
  });

  it('a refused write (422) is logged and counted once, not retried until the status changes', async () => {
    const { fake } = ctx;
    const { docs } = decodeManifestText(await readFile(NAT, 'utf8'), NAT);
    for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
    const source = ctx.source();
    const seen = collector();
    await source.start(seen.on);
    const snap = nextSnapshot(undefined, await seen.until((s) => s.complete, 'complete'));
    let ready = true;
    const w = createStatusWriter(
      {
        target: source.statusTarget(),
        log: silent,
        inputs: () => ({
          node: 'node-a',
          writer: false,
          snapshot: snap,
          nb: new Map(),
          ipam: { stats: [], allocations: [] },
          nat: new Map([...natStatus(ready)].filter(([k]) => !k.includes('Rule'))),
        }),
      },
      FAST,
    );
    try {
      fake.failStatusWrites(2, 422); // the gateway's and the EIP's first writes
      w.start();
      await until(
        () =>
          (w.stats().writes['IptablesEIP/rejected'] ?? 0) +
            (w.stats().writes['VpcNatGateway/rejected'] ?? 0) ===
          2,
        'refused',
      );
      const checks = w.stats().checks;
      await until(() => w.stats().checks >= checks + 4, 'more checks');
      await w.settled();
      expect(fake.statusWrites).toEqual([]);
      // What is to be written changes: written now.
      ready = false;
      w.schedule();
      await until(() => fake.statusWrites.some((x) => x.kind === 'IptablesEIP'), 'written after the change');
    } finally {
      await w.stop();
    }
  });
});
