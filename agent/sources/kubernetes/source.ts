/**
 * The Kubernetes {@link ResourceSource}: list+watch of every supported kind, one
 * {@link createReflector} loop per kind, merged into one snapshot.
 *
 * Own list/watch loops rather than `@kubernetes/client-node`'s `ListWatch` informer: that one
 * stops on any error but 410 and leaves restarting to its caller, lists in one piece, does not
 * ask for bookmarks, cannot tell a stuck watch, ignores `Retry-After`, and does not say when a
 * kind's cache can be trusted — which is what completeness needs. The package still provides
 * the configuration and credentials (`KubeConfig`).
 *
 * Completeness: a snapshot is complete only when every kind has completed its first list, no
 * kind is listing again after a 410, and the API server serves every kind (a missing CRD is
 * named in `incomplete`). A watch that is reconnecting does not make it incomplete: the cache
 * is a consistent view as of its resourceVersion, and the watch resumes from there.
 *
 * Changes are batched (`batchMs`) into one snapshot; snapshots are delivered in order, one at a
 * time, each with fresh arrays (objects are shared and never mutated).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { AgentError } from '../../errors.js';
import { childLogger, type Logger } from '../../log.js';
import type { ResourceSource, SourceItem, SourceSnapshot } from '../types.js';
import { createKubeApi, type KubeApi } from './api.js';
import { objectRef, toDocument } from './convert.js';
import { WATCHED_KINDS, type WatchedKind } from './kinds.js';
import {
  createReflector,
  emptyCounters,
  type ObservedObject,
  type Reflector,
  type ReflectorCounters,
  type ReflectorState,
} from './reflector.js';

export interface KubernetesSourceOptions {
  /** A loaded configuration (wins over the two below). */
  kubeConfig?: KubeConfig;
  /** A kubeconfig file. */
  kubeconfigPath?: string;
  /** The pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA). */
  inCluster?: boolean;
  /** The kubeconfig context; default its current context. */
  context?: string;
  /** This node's name (kept for the node-scoped kinds; shown in `name`). */
  node?: string;
  log?: Logger;
  /** Only these kinds (default: every supported kind). */
  kinds?: readonly string[];
  /** Objects per list page; default 500 (the API server's own default chunk size). */
  pageSize?: number;
  /** Watch `timeoutSeconds`; default 300 (client-go's minimum watch timeout). */
  watchTimeoutSeconds?: number;
  /** A watch with nothing received this long is stuck; default 150 s (bookmarks come about every minute). */
  idleTimeoutMs?: number;
  /** A list page must answer within this; default 30 s. */
  requestTimeoutMs?: number;
  /** Retry backoff: first wait, default 250 ms; cap, default 30 s. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Quiet time that batches a burst of watch events into one snapshot; default 20 ms. */
  batchMs?: number;
}

export interface KubernetesSourceStats extends ReflectorCounters {
  snapshots: number;
}

/** What the status writer needs of the source: the API, and the server's view of each object. */
export interface KubeStatusTarget {
  readonly api: KubeApi;
  /** The kinds watched (their API paths). */
  readonly kinds: readonly WatchedKind[];
  /** An object as the watch last saw it: `key` is `name`, or `namespace/name`. */
  observed(kind: string, key: string): ObservedObject | undefined;
}

export interface KubernetesSource extends ResourceSource {
  /** Per-kind list/watch state, for `/debug` and tests. */
  state(): ReflectorState[];
  stats(): KubernetesSourceStats;
  /** Where status is written back (`agent/sources/kubernetes/status.ts`). */
  statusTarget(): KubeStatusTarget;
}

/** Loads the configuration the options name; throws `ERR_KUBECONFIG` when it cannot. */
export function loadKubeConfig(options: KubernetesSourceOptions): KubeConfig {
  if (options.kubeConfig) return options.kubeConfig;
  const kc = new KubeConfig();
  try {
    if (options.kubeconfigPath !== undefined) kc.loadFromFile(options.kubeconfigPath);
    else if (options.inCluster) kc.loadFromCluster();
    else kc.loadFromDefault();
    if (options.context !== undefined) kc.setCurrentContext(options.context);
  } catch (e) {
    throw new AgentError(
      'ERR_KUBECONFIG',
      `kubeconfig${options.kubeconfigPath ? ` ${options.kubeconfigPath}` : ''}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!kc.getCurrentCluster())
    throw new AgentError('ERR_KUBECONFIG', 'kubeconfig: no current cluster (check current-context)');
  return kc;
}

function selectKinds(names: readonly string[] | undefined): WatchedKind[] {
  if (!names) return [...WATCHED_KINDS];
  return names.map((n) => {
    const k = WATCHED_KINDS.find((w) => w.kind === n);
    if (!k)
      throw new AgentError(
        'ERR_KUBE_KIND',
        `unknown kind ${JSON.stringify(n)} (known: ${WATCHED_KINDS.map((w) => w.kind).join(', ')})`,
      );
    return k;
  });
}

export function createKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const kc = loadKubeConfig(options);
  const api: KubeApi = createKubeApi(kc);
  const log = options.log ?? childLogger('kube-source');
  const timing = {
    pageSize: options.pageSize ?? 500,
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
    idleTimeoutMs: options.idleTimeoutMs ?? 150_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    backoffInitialMs: options.backoffInitialMs ?? 250,
    backoffMaxMs: options.backoffMaxMs ?? 30_000,
  };
  const batchMs = options.batchMs ?? 20;
  let deliver: ((s: SourceSnapshot) => void) | undefined;
  let started = false;
  let closed = false;
  let changes = 0;
  let delivered = -1;
  let timer: NodeJS.Timeout | undefined;
  let snapshots = 0;
  /** Items by document (the reflectors keep documents, converted on arrival, never mutated). */
  const docs = new WeakMap<object, SourceItem>();

  const schedule = () => {
    changes++;
    if (!started || closed || timer) return;
    timer = setTimeout(flush, batchMs);
  };

  const reflectors: Reflector[] = selectKinds(options.kinds).map((kind) =>
    createReflector({ api, kind, timing, log, onChange: schedule, transform: (o) => toDocument(kind, o) }),
  );

  /** Each kind's items as of the objects map they were built from (a changed kind gets a new map). */
  const built = new WeakMap<object, SourceItem[]>();
  const itemsOf = (r: Reflector): SourceItem[] => {
    const objs = r.objects();
    let out = built.get(objs);
    if (out) return out;
    out = [];
    // The list's order (the server's, by key), then the order of arrival: no sort per snapshot.
    for (const [key, obj] of objs) {
      let item = docs.get(obj);
      if (!item) {
        item = { doc: obj, source: objectRef(r.kind, key) };
        docs.set(obj, item);
      }
      out.push(item);
    }
    built.set(objs, out);
    return out;
  };

  const build = (): SourceSnapshot => {
    const items: SourceItem[] = [];
    for (const r of reflectors) for (const item of itemsOf(r)) items.push(item);
    const incomplete = reflectors.map((r) => r.incomplete()).filter((w): w is string => w !== undefined);
    return { items, errors: [], complete: incomplete.length === 0, incomplete, broken: [] };
  };

  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed || !deliver || delivered === changes) return;
    delivered = changes;
    snapshots++;
    deliver(build());
  }

  const server = api.server;
  return {
    name: `kubernetes:${server}${options.node ? ` (node ${options.node})` : ''}`,
    async start(onSnapshot) {
      deliver = onSnapshot;
      for (const r of reflectors) r.start();
      await Promise.all(reflectors.map((r) => r.firstAttempt));
      started = true;
      flush();
    },
    async check() {
      await Promise.all(reflectors.map((r) => r.resync()));
      flush();
    },
    state: () => reflectors.map((r) => r.state()),
    statusTarget: () => ({
      api,
      kinds: reflectors.map((r) => r.kind),
      observed: (kind, key) => reflectors.find((r) => r.kind.kind === kind)?.observed(key),
    }),
    stats() {
      const sum: KubernetesSourceStats = { ...emptyCounters(), snapshots };
      for (const r of reflectors) {
        const c = r.counters();
        for (const k of Object.keys(c) as (keyof ReflectorCounters)[]) sum[k] += c[k];
      }
      return sum;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await Promise.all(reflectors.map((r) => r.stop()));
    },
  };
}
