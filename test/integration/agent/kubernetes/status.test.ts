/**
 * Status write-back: the whole agent reading from the fake API server (no real one can run here)
 * against a real NB + SB + northd, writing status back through the fake's `/status` subresource
 * and Events.
 *
 * - a status-only change in the watch delivers no snapshot (status never feeds a pass);
 * - Subnet `v4availableIPs`/`v4usingIPs`/ranges follow the ports in Northbound; Vpc status;
 * - a converged agent writes nothing more over many checks and passes (no loop);
 * - failed writes (500, 409) are retried and counted;
 * - a bad Subnet gets `Validated=False` and one Warning Event naming the field, not one per pass;
 *   fixed and broken again, the same Event's count goes up;
 * - an agent that is not the Northbound writer writes no cluster-wide status until it becomes it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNbWriter } from '../../../../agent/nb/writer.js';
import { decodeManifestText } from '../../../../agent/resources/loader.js';
import { listManifestFiles } from '../../../../agent/resources/index.js';
import { createAgent, type Agent } from '../../../../agent/run.js';
import type { FakeKubeApiServer } from '../../../harness/fake-kube-apiserver.js';
import { connectNb, nbctl, until, useCentral } from '../nb/helpers.js';
import { collector, silent, subnet, useFakeApi, vpc } from './helpers.js';

const SEED = path.resolve('examples/vpc-two-subnets');
const STATUS_FAST = { debounceMs: 20, resyncMs: 100, backoffInitialMs: 20, backoffMaxMs: 200 };

async function loadSeed(fake: FakeKubeApiServer) {
  for (const file of await listManifestFiles(SEED)) {
    const { docs } = decodeManifestText(await readFile(file, 'utf8'), file);
    for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
  }
}

type Status = Record<string, unknown> & { conditions?: Record<string, unknown>[] };
const statusOf = (fake: FakeKubeApiServer, kind: string, name: string): Status | undefined =>
  fake.list(kind).find((o) => o.metadata.name === name)?.['status'] as Status | undefined;
const condition = (s: Status | undefined, type: string) => s?.conditions?.find((c) => c['type'] === type);

/** Patches an object's status over HTTP, as another client would. */
async function patchStatus(fake: FakeKubeApiServer, plural: string, name: string, status: unknown) {
  const res = await fetch(`${fake.url}/apis/kubeovn.io/v1/${plural}/${name}/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ status }),
  });
  expect(res.status).toBe(200);
}

/** Waits for `n` more status checks of the agent's writer. */
async function checksPass(agent: Agent, n: number) {
  const from = agent.statusWork()!.writer.stats().checks;
  await until(() => agent.statusWork()!.writer.stats().checks >= from + n, `${n} status checks`);
}

describe('status write-back to the Kubernetes API', () => {
  const env = useCentral();
  const ctx = useFakeApi();

  it('a status-only change in the watch is not a change: no snapshot, no pass', async () => {
    const { fake } = ctx;
    fake.apply(vpc('vpc-s'));
    const source = ctx.source();
    const seen = collector();
    await source.start(seen.on);
    await seen.until((s) => s.items.length === 1, 'first snapshot');
    const before = seen.seen.length;
    await patchStatus(fake, 'vpcs', 'vpc-s', { standby: true });
    await until(
      () => source.statusTarget().observed('Vpc', 'vpc-s')?.status?.['standby'] === true,
      'status seen',
    );
    expect(source.stats().unchanged).toBe(1);
    // A spec change still is one (and arrives after the status event, so that one was delivered).
    fake.apply(vpc('vpc-s', { namespaces: ['ns1'] }));
    await seen.until((s) => JSON.stringify(s.items[0]?.doc).includes('ns1'), 'spec change delivered');
    expect(seen.seen.length).toBe(before + 1);
    expect(source.statusTarget().observed('Vpc', 'vpc-s')?.status).toEqual({ standby: true });
    // The fake's PUT of /status, as the real one: a stale resourceVersion is a 409; the status
    // is replaced, the spec kept.
    const put = (rv: string) =>
      fetch(`${fake.url}/apis/kubeovn.io/v1/vpcs/vpc-s/status`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          metadata: { name: 'vpc-s', resourceVersion: rv },
          spec: {},
          status: { default: false },
        }),
      });
    expect((await put('1')).status).toBe(409);
    const rv = fake.list('Vpc')[0]!.metadata.resourceVersion!;
    expect((await put(rv)).status).toBe(200);
    expect(fake.list('Vpc')[0]).toMatchObject({ spec: { namespaces: ['ns1'] }, status: { default: false } });
    await until(
      () => source.statusTarget().observed('Vpc', 'vpc-s')?.status?.['default'] === false,
      'PUT seen',
    );
    expect(seen.seen.length).toBe(before + 1);
  });

  it('Subnet counts follow the ports; Vpc status; converged means no more writes; failures retried', async () => {
    const { central } = env;
    const { fake } = ctx;
    await loadSeed(fake);
    fake.failStatusWrites(3, 500); // the first writes fail and are retried
    const agent = createAgent(
      { log: silent, source: ctx.source() },
      {
        manifests: '(kubernetes)',
        nb: central.nb.unix,
        debounceMs: 20,
        lockName: 'test_status_counts',
        node: 'node-a',
        statusWriter: STATUS_FAST,
      },
    );
    try {
      await agent.start();
      const ready = (name: string) =>
        condition(statusOf(fake, 'Subnet', name), 'Ready')?.['status'] === 'True';
      await until(() => ready('vswitch1-subnet') && ready('vswitch2-subnet'), 'subnets Ready');
      const s1 = statusOf(fake, 'Subnet', 'vswitch1-subnet')!;
      const stats = agent.ipam.stats().find((x) => x.subnet === 'vswitch1-subnet')!;
      expect(s1['v4availableIPs']).toBe(Number(stats.available));
      expect(s1['v4usingIPs']).toBe(stats.used);
      expect(condition(s1, 'Validated')).toMatchObject({ status: 'True', reason: 'Valid' });
      // excludeIps .1-.9 and the broadcast are not available; .10 on is (less what is used).
      expect(String(s1['v4availableIPrange'])).toMatch(/^172\.20\.10\.1\d/);
      expect(String(s1['v4availableIPrange'])).toMatch(/172\.20\.10\.254$/);

      await until(() => statusOf(fake, 'Vpc', 'vpc-1')?.['standby'] === true, 'vpc standby');
      expect(statusOf(fake, 'Vpc', 'vpc-1')).toMatchObject({
        standby: true,
        default: false,
        router: 'vpc-1',
        subnets: ['vswitch1-subnet', 'vswitch2-subnet'],
      });
      expect(agent.statusWork()!.writer.stats().writes['Subnet/error']).toBeGreaterThanOrEqual(1);
      expect(agent.debug()['kubeStatus']).toMatchObject({ writes: { 'Subnet/ok': expect.any(Number) } });

      // The agent's own writes come back as watch events: none of them is a new snapshot.
      const seq = agent.snapshot()!.seq;
      // Another node's port takes an address of vswitch1-subnet: the counts follow.
      const used0 = Number(s1['v4usingIPs']);
      const avail0 = Number(s1['v4availableIPs']);
      await nbctl(
        central,
        'lsp-add',
        'vswitch1-subnet',
        'status-port',
        '--',
        'lsp-set-addresses',
        'status-port',
        '0a:00:00:00:00:42 172.20.10.42',
        '--',
        'set',
        'Logical_Switch_Port',
        'status-port',
        'external_ids:"vpc-agent.io/owner"="vpc-agent/node/other-node"',
        'external_ids:"vpc-agent.io/ip-owner"="vm/other-node/vm42/default/vswitch1-subnet"',
        'external_ids:"vpc-agent.io/subnet"=vswitch1-subnet',
        'external_ids:"vpc-agent.io/ip"="172.20.10.42"',
      );
      await until(
        () => statusOf(fake, 'Subnet', 'vswitch1-subnet')?.['v4usingIPs'] === used0 + 1,
        'using count up',
      );
      const s2 = statusOf(fake, 'Subnet', 'vswitch1-subnet')!;
      expect(s2['v4availableIPs']).toBe(avail0 - 1);
      expect(String(s2['v4usingIPrange']).split(',')).toContain('172.20.10.42');
      expect(String(s2['v4availableIPrange'])).toContain('172.20.10.41,172.20.10.43-');
      // The condition did not change: its timestamps did not either.
      expect(condition(s2, 'Ready')).toEqual(condition(s1, 'Ready'));

      // Converged: more checks and more NB passes write nothing.
      await agent.statusWork()!.writer.settled();
      const writes = fake.statusWrites.length;
      for (let i = 0; i < 3; i++) await agent.engine.reconcileNow();
      await checksPass(agent, 5);
      await agent.statusWork()!.writer.settled();
      expect(fake.statusWrites.length).toBe(writes);
      expect(agent.snapshot()!.seq).toBe(seq);
      // Each object was written a few times at most (its first status, a count change, Ready).
      const perObject = new Map<string, number>();
      for (const w of fake.statusWrites)
        perObject.set(`${w.kind}/${w.name}`, (perObject.get(`${w.kind}/${w.name}`) ?? 0) + 1);
      for (const [obj, n] of perObject) expect(n, obj).toBeLessThanOrEqual(4);

      // Someone else overwrites a field the agent owns: it is put back, once.
      // (Through the fake's helper, which sets the status directly; the agent's first repair is
      // answered 409, as if yet another client had written meanwhile.)
      fake.failStatusWrites(1, 409);
      const o = fake.list('Subnet').find((x) => x.metadata.name === 'vswitch2-subnet')!;
      fake.apply({ ...o, status: { ...(o['status'] as Status), v4usingIPs: 999 } });
      await until(() => statusOf(fake, 'Subnet', 'vswitch2-subnet')?.['v4usingIPs'] !== 999, 'repaired');
      expect(agent.statusWork()!.writer.stats().writes['Subnet/conflict']).toBeGreaterThanOrEqual(1);
      // A foreign condition type is kept beside the agent's.
      await patchStatus(fake, 'subnets', 'vswitch2-subnet', {
        conditions: [
          ...(statusOf(fake, 'Subnet', 'vswitch2-subnet')!.conditions ?? []),
          { type: 'Audited', status: 'True', reason: 'Someone', message: '' },
        ],
      });
      await checksPass(agent, 3);
      await agent.statusWork()!.writer.settled();
      const types = statusOf(fake, 'Subnet', 'vswitch2-subnet')!.conditions!.map((c) => c['type']);
      expect(types.sort()).toEqual(['Audited', 'Ready', 'Validated']);

      const metric = await agent.metrics.registry.getSingleMetricAsString(
        'vpc_agent_kube_status_writes_total',
      );
      expect(metric).toMatch(/vpc_agent_kube_status_writes_total\{kind="Subnet",result="ok"\} [1-9]/);
      expect(metric).toMatch(/vpc_agent_kube_status_writes_total\{kind="Subnet",result="error"\} [1-9]/);
      await nbctl(central, 'lsp-del', 'status-port');
    } finally {
      await agent.stop();
    }
  });

  it('a bad Subnet gets Validated=False and one Event naming the field; broken again, the count goes up', async () => {
    const { central } = env;
    const { fake } = ctx;
    fake.apply(vpc('vpc-bad'));
    const good = subnet('bad-subnet', '172.21.30.0/24', 'vpc-bad');
    const bad = { ...good, spec: { ...good.spec, gateway: '172.21.31.1' } };
    fake.apply(bad);
    const agent = createAgent(
      { log: silent, source: ctx.source() },
      {
        manifests: '(kubernetes)',
        nb: central.nb.unix,
        debounceMs: 20,
        lockName: 'test_status_bad',
        statusWriter: STATUS_FAST,
      },
    );
    try {
      await agent.start();
      await until(
        () => condition(statusOf(fake, 'Subnet', 'bad-subnet'), 'Validated')?.['status'] === 'False',
        'condition',
      );
      const s = statusOf(fake, 'Subnet', 'bad-subnet')!;
      expect(condition(s, 'Validated')).toMatchObject({ reason: 'ValidationFailed' });
      expect(String(condition(s, 'Validated')!['message'])).toContain('spec.gateway');
      expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ValidationFailed' });
      await until(() => fake.events().length === 1, 'one event');
      const ev = fake.events()[0]!;
      expect(ev).toMatchObject({
        type: 'Warning',
        reason: 'ValidationFailed',
        count: 1,
        involvedObject: { kind: 'Subnet', name: 'bad-subnet', fieldPath: 'spec.gateway' },
        metadata: { namespace: 'default' },
      });
      expect(String(ev['message'])).toContain('Subnet bad-subnet: spec.gateway:');
      // Many passes and checks later: still one Event, posted once.
      for (let i = 0; i < 3; i++) await agent.engine.reconcileNow();
      await checksPass(agent, 5);
      await agent.statusWork()!.writer.settled();
      expect(fake.events()).toHaveLength(1);
      expect(fake.events()[0]!['count']).toBe(1);
      expect(agent.statusWork()!.writer.stats().writes['Event/ok']).toBe(1);

      // Fixed: valid and ready; broken the same way again: the same Event, count 2.
      fake.apply(good);
      await until(
        () => condition(statusOf(fake, 'Subnet', 'bad-subnet'), 'Ready')?.['status'] === 'True',
        'fixed',
      );
      expect(condition(statusOf(fake, 'Subnet', 'bad-subnet'), 'Validated')).toMatchObject({
        status: 'True',
      });
      fake.apply(bad);
      await until(() => fake.events()[0]?.['count'] === 2, 'count bumped');
      expect(fake.events()).toHaveLength(1);
      // Held: the last valid version stays in effect, so Ready stays True while Validated is False.
      const held = statusOf(fake, 'Subnet', 'bad-subnet')!;
      expect(condition(held, 'Validated')).toMatchObject({ status: 'False' });
      expect(condition(held, 'Ready')).toMatchObject({ status: 'True' });
    } finally {
      await agent.stop();
    }
  });

  it('an agent that is not the Northbound writer writes no cluster-wide status until it is', async () => {
    const { central } = env;
    const { fake } = ctx;
    fake.apply(vpc('vpc-nw'));
    const bad = subnet('nw-subnet', '172.21.40.0/24', 'vpc-nw');
    fake.apply({ ...bad, spec: { ...bad.spec, gateway: '10.0.0.1' } });
    fake.apply(subnet('nw-good', '172.21.41.0/24', 'vpc-nw'));
    // Another agent holds the writer lock.
    const other = await connectNb(central);
    const holder = createNbWriter({ client: other }, { lockName: 'test_status_nw' });
    holder.start();
    await until(() => holder.isWriter(), 'the other agent is the writer');
    const agent = createAgent(
      { log: silent, source: ctx.source() },
      {
        manifests: '(kubernetes)',
        nb: central.nb.unix,
        debounceMs: 20,
        lockName: 'test_status_nw',
        statusWriter: STATUS_FAST,
      },
    );
    try {
      await agent.start();
      await agent.loaded;
      await checksPass(agent, 5);
      await agent.statusWork()!.writer.settled();
      expect(agent.writer.isWriter()).toBe(false);
      expect(fake.statusWrites).toEqual([]);
      expect(fake.events()).toEqual([]);
      // The writer goes away: this agent takes over and writes.
      await holder.stop();
      await until(() => agent.writer.isWriter(), 'takeover');
      await until(
        () => condition(statusOf(fake, 'Subnet', 'nw-good'), 'Ready')?.['status'] === 'True',
        'status written',
      );
      await until(() => fake.events().length === 1, 'event posted');
    } finally {
      await agent.stop();
      await holder.stop().catch(() => undefined);
      await other.close();
    }
  });
});
