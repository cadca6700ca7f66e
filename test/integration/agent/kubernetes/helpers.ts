/**
 * Shared setup of the Kubernetes source tests: a fake API server serving the agent's kinds, a
 * kubeconfig for it, a source with short timings, and a snapshot collector.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { waitUntil } from '../../../../agent/sandbox/process.js';
import {
  createKubernetesSource,
  type KubernetesSource,
  type KubernetesSourceOptions,
} from '../../../../agent/sources/kubernetes/index.js';
import type { SourceSnapshot } from '../../../../agent/sources/types.js';
import { makeTmpDir } from '../../../harness/index.js';
import {
  AGENT_RESOURCES,
  startFakeKubeApiServer,
  type FakeKubeApiServer,
  type FakeKubeApiServerOptions,
} from '../../../harness/fake-kube-apiserver.js';

export const silent = pino({ level: 'silent' });

/** Short timings, so faults are noticed within a test's time. */
export const FAST: KubernetesSourceOptions = {
  batchMs: 5,
  backoffInitialMs: 20,
  backoffMaxMs: 300,
  watchTimeoutSeconds: 30,
  idleTimeoutMs: 10_000,
  requestTimeoutMs: 2_000,
  log: silent,
};

export function vpc(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name }, spec: { ...extra } };
}

export function subnet(name: string, cidr: string, vpcName = 'vpc-1') {
  const [net] = cidr.split('/');
  const gw = net!.replace(/\.0$/, '.1');
  return {
    apiVersion: 'kubeovn.io/v1',
    kind: 'Subnet',
    metadata: { name },
    spec: { vpc: vpcName, cidrBlock: cidr, gateway: gw, protocol: 'IPv4' },
  };
}

/** Collects snapshots; `until` waits for one that satisfies a predicate. */
export function collector() {
  const seen: SourceSnapshot[] = [];
  return {
    seen,
    on: (s: SourceSnapshot) => void seen.push(s),
    last: () => seen.at(-1),
    until(pred: (s: SourceSnapshot) => boolean, what: string, timeoutMs = 10_000): Promise<SourceSnapshot> {
      return waitUntil(
        () => {
          const s = seen.at(-1);
          return s && pred(s) ? s : undefined;
        },
        { what, timeoutMs, intervalMs: 10 },
      );
    },
  };
}

export const namesOf = (s: SourceSnapshot | undefined, kind?: string) =>
  (s?.items ?? [])
    .map((i) => i.doc as { kind: string; metadata: { name: string; namespace?: string } })
    .filter((d) => kind === undefined || d.kind === kind)
    .map((d) => (d.metadata.namespace ? `${d.metadata.namespace}/${d.metadata.name}` : d.metadata.name));

/** A fake API server serving every kind, a kubeconfig for it, and sources closed after each test. */
export function useFakeApi(options: FakeKubeApiServerOptions = {}) {
  const ctx = {
    fake: undefined as unknown as FakeKubeApiServer,
    kubeconfig: '',
    dir: '',
    sources: [] as KubernetesSource[],
    source(extra: Partial<KubernetesSourceOptions> = {}): KubernetesSource {
      const s = createKubernetesSource({ ...FAST, kubeconfigPath: ctx.kubeconfig, ...extra });
      ctx.sources.push(s);
      return s;
    },
  };
  beforeEach(async () => {
    ctx.dir = await makeTmpDir('kube');
    ctx.fake = await startFakeKubeApiServer(options);
    for (const r of AGENT_RESOURCES) ctx.fake.serve(r);
    ctx.kubeconfig = path.join(ctx.dir, 'kubeconfig');
    await ctx.fake.writeKubeconfig(ctx.kubeconfig);
  });
  afterEach(async () => {
    for (const s of ctx.sources.splice(0)) await s.close();
    await ctx.fake.stop();
    await rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
