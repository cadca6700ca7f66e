/**
 * `npx tsx bench/kube-status.ts [subnets]`: the cost of status write-back, against the fake API
 * server of the tests (a fake: no real API server runs here), in this process.
 *
 * - **check**: one converged check at N Subnets (build every intent, compare each with the
 *   watched status; nothing to send) — what the writer spends every resync;
 * - **first write**: from start until every Subnet carries its status (rate-limited writes);
 * - **converged**: writes sent over the next checks (expected 0).
 *
 * Not a test: nothing asserts a speed.
 */
import { pino } from 'pino';
import { nextSnapshot } from '../agent/pipeline/snapshot.js';
import type { ObjectStatus } from '../agent/reconcile/reconciler.js';
import { createKubernetesSource } from '../agent/sources/kubernetes/index.js';
import { statusIntents, statusPatch, type StatusInputs } from '../agent/sources/kubernetes/status-model.js';
import { createStatusWriter } from '../agent/sources/kubernetes/status.js';
import type { SourceSnapshot } from '../agent/sources/types.js';
import { AGENT_RESOURCES, startFakeKubeApiServer } from '../test/harness/fake-kube-apiserver.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const n = Number(process.argv[2] ?? 2000);
const log = pino({ level: 'silent' });

const subnet = (i: number) => ({
  apiVersion: 'kubeovn.io/v1',
  kind: 'Subnet',
  metadata: { name: `s-${i}` },
  spec: {
    vpc: 'vpc-1',
    cidrBlock: `10.${i >> 8}.${i & 255}.0/24`,
    gateway: `10.${i >> 8}.${i & 255}.1`,
    protocol: 'IPv4',
  },
});

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'kube-status-bench-'));
  const fake = await startFakeKubeApiServer();
  for (const r of AGENT_RESOURCES) fake.serve(r);
  fake.apply({ apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: 'vpc-1' }, spec: {} });
  for (let i = 0; i < n; i++) fake.apply(subnet(i));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await fake.writeKubeconfig(kubeconfig);
  const source = createKubernetesSource({ kubeconfigPath: kubeconfig, log, batchMs: 5 });
  let last: SourceSnapshot | undefined;
  await source.start((s) => (last = s));
  const snap = nextSnapshot(undefined, last!);
  const nb = new Map<string, ObjectStatus>();
  for (const s of snap.resources.subnets.keys()) nb.set(`Subnet/${s}`, { state: 'ready' });
  nb.set('Vpc/vpc-1', { state: 'ready' });
  const inputs = (): StatusInputs => ({
    node: 'bench',
    writer: true,
    snapshot: snap,
    nb,
    ipam: {
      stats: [...snap.resources.subnets.values()].map((s) => ({
        subnet: s.meta.name,
        cidr: s.spec.cidr.text,
        size: 256n,
        allocatable: 253n,
        used: 3,
        available: 250n,
      })),
      allocations: [],
    },
    nat: undefined,
  });
  const writer = createStatusWriter(
    { target: source.statusTarget(), inputs, log },
    { debounceMs: 10, resyncMs: 0 },
  );
  const t0 = performance.now();
  writer.start();
  const total = n + 1;
  while (fake.statusWrites.length < total) await new Promise((r) => setTimeout(r, 20));
  const firstMs = performance.now() - t0;
  await writer.settled();
  // Let the watch catch up with the last writes, then time converged checks.
  await new Promise((r) => setTimeout(r, 300));
  const target = source.statusTarget();
  const rounds = 20;
  let diffs = 0;
  let buildMs = 0;
  let compareMs = 0;
  for (let k = 0; k < rounds; k++) {
    const now = new Date().toISOString();
    const c0 = performance.now();
    const list = statusIntents(inputs());
    const c1 = performance.now();
    for (const it of list) {
      const o = target.observed(it.ref.kind, it.ref.name);
      if (o && statusPatch(it, o.status, o.generation, now)) diffs++;
    }
    // The first rounds warm the JIT up.
    if (k >= rounds / 2) {
      buildMs += c1 - c0;
      compareMs += performance.now() - c1;
    }
  }
  buildMs /= rounds / 2;
  compareMs /= rounds / 2;
  const checkMs = buildMs + compareMs;
  const before = fake.statusWrites.length;
  for (let k = 0; k < 5; k++) {
    writer.schedule();
    await writer.settled();
    await new Promise((r) => setTimeout(r, 50));
  }
  const result = {
    subnets: n,
    firstWriteSeconds: +(firstMs / 1000).toFixed(2),
    writesPerSecond: +(total / (firstMs / 1000)).toFixed(1),
    convergedCheckMs: +checkMs.toFixed(2),
    buildMs: +buildMs.toFixed(2),
    compareMs: +compareMs.toFixed(2),
    convergedDiffs: diffs,
    writesOverFiveConvergedChecks: fake.statusWrites.length - before,
  };
  console.log(JSON.stringify(result, null, 2));
  await writer.stop();
  await source.close();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
}

await main();
