/**
 * `npm run bench -- kube`: the Kubernetes source against `@kubernetes/client-node`'s own
 * informer (`makeInformer`, its `ListWatch`), both reading Subnets from the fake API server of
 * the tests (a fake: no real API server runs here), in this process.
 *
 * - **sync**: from start until every object is in the cache (ours: the first complete snapshot;
 *   the informer: `start()` resolved and its cache holds them all);
 * - **events**: a burst of MODIFIED events (every object edited once), from the first edit until
 *   the last one is visible (ours: in a delivered snapshot; the informer: in its cache);
 * - heap growth after sync (forced GC when `--expose-gc` is on, else a rough figure).
 *
 * Not a test: nothing asserts a speed. Each peer runs on a fresh fake.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createKubernetesSource } from '../agent/sources/kubernetes/index.js';
import type { SourceSnapshot } from '../agent/sources/types.js';
import {
  AGENT_RESOURCES,
  startFakeKubeApiServer,
  type FakeKubeApiServer,
} from '../test/harness/fake-kube-apiserver.js';

const SUBNETS = AGENT_RESOURCES.find((r) => r.kind === 'Subnet')!;

function subnet(i: number, edit = 0) {
  const a = Math.floor(i / 256);
  const b = i % 256;
  return {
    apiVersion: 'kubeovn.io/v1',
    kind: 'Subnet',
    metadata: { name: `s-${i}`, labels: { edit: String(edit) } },
    spec: { vpc: 'vpc-1', cidrBlock: `10.${a}.${b}.0/24`, gateway: `10.${a}.${b}.1`, protocol: 'IPv4' },
  };
}

const heap = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

async function until(check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2)); // polls lightly: the peer needs the CPU
  }
}

interface PeerResult {
  peer: string;
  syncMs: number;
  eventsMs: number;
  heapMB: number;
}

interface Peer {
  start(): Promise<void>;
  count(): number;
  /** Objects whose label `edit` is `v`. */
  edited(v: string): number;
  stop(): Promise<void>;
}

function ours(kubeconfigPath: string, pageSize: number): Peer {
  let last: SourceSnapshot | undefined;
  const src = createKubernetesSource({
    kubeconfigPath,
    kinds: ['Subnet'],
    pageSize,
    log: pino({ level: 'silent' }),
  });
  const label = (d: unknown) =>
    (d as { metadata: { labels: Record<string, string> } }).metadata.labels['edit'];
  return {
    start: () => src.start((s) => (last = s)),
    count: () => (last?.complete ? last.items.length : 0),
    edited: (v) => (last?.items ?? []).filter((i) => label(i.doc) === v).length,
    stop: () => src.close(),
  };
}

function informer(kubeconfigPath: string): Peer {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(CustomObjectsApi);
  const inf = makeInformer<KubernetesObject>(kc, '/apis/kubeovn.io/v1/subnets', () =>
    api.listClusterCustomObject({ group: 'kubeovn.io', version: 'v1', plural: 'subnets' }),
  );
  return {
    start: () => inf.start(),
    count: () => inf.list().length,
    edited: (v) => inf.list().filter((o) => o.metadata?.labels?.['edit'] === v).length,
    stop: () => inf.stop(),
  };
}

async function runPeer(
  name: string,
  objects: number,
  make: (kubeconfig: string) => Peer,
): Promise<PeerResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vpca-kbench-'));
  const fake: FakeKubeApiServer = await startFakeKubeApiServer();
  try {
    fake.serve(SUBNETS);
    for (let i = 0; i < objects; i++) fake.apply(subnet(i));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await fake.writeKubeconfig(kubeconfig);
    const before = heap();
    const peer = make(kubeconfig);
    const t0 = performance.now();
    await peer.start();
    await until(() => peer.count() === objects);
    const syncMs = performance.now() - t0;
    const heapMB = (heap() - before) / 2 ** 20;
    await until(() => fake.openWatches() === 1);
    const t1 = performance.now();
    for (let i = 0; i < objects; i++) fake.apply(subnet(i, 1));
    await until(() => peer.edited('1') === objects);
    const eventsMs = performance.now() - t1;
    await peer.stop();
    return { peer: name, syncMs, eventsMs, heapMB };
  } finally {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

export async function runKubeBench(opts: {
  objects: number;
  /** Our list page size (the informer lists in one piece). */
  pageSize: number;
  repeat: number;
  out: string | false | undefined;
}): Promise<boolean> {
  const peers = [
    ['vpc-agent', (k: string) => ours(k, opts.pageSize)],
    ['client-node informer', (k: string) => informer(k)],
  ] as const;
  // Warm-up (JIT, sockets) for both, not reported.
  for (const [name, make] of peers) await runPeer(name, 100, make);
  const runs = new Map<string, PeerResult[]>(peers.map(([n]) => [n, []]));
  for (let round = 0; round < opts.repeat; round++) {
    const order = round % 2 === 0 ? peers : [...peers].reverse();
    for (const [name, make] of order) runs.get(name)!.push(await runPeer(name, opts.objects, make));
  }
  const results: PeerResult[] = [];
  for (const [name] of peers) {
    const rs = runs.get(name)!;
    const r: PeerResult = {
      peer: name,
      syncMs: median(rs.map((x) => x.syncMs)),
      eventsMs: median(rs.map((x) => x.eventsMs)),
      heapMB: median(rs.map((x) => x.heapMB)),
    };
    results.push(r);
    console.log(
      `${name.padEnd(22)} sync ${r.syncMs.toFixed(0).padStart(6)} ms   ${opts.objects} MODIFIED → visible ${r.eventsMs
        .toFixed(0)
        .padStart(6)} ms   heap +${r.heapMB.toFixed(1)} MB   (medians of ${opts.repeat})`,
    );
  }
  const [a, b] = results as [PeerResult, PeerResult];
  console.log(
    `ratio informer/ours: sync ${(b.syncMs / a.syncMs).toFixed(2)}x, events ${(b.eventsMs / a.eventsMs).toFixed(2)}x`,
  );
  if (opts.out !== false) {
    const file = opts.out ?? path.join('bench/results', `kube-${new Date().toISOString().slice(0, 10)}.json`);
    const all = Object.fromEntries(runs);
    await writeFile(
      file,
      JSON.stringify(
        { objects: opts.objects, repeat: opts.repeat, node: process.version, results, runs: all },
        null,
        2,
      ) + '\n',
    );
    console.log(`written ${file}`);
  }
  return true;
}
