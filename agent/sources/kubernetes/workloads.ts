/**
 * What the port path needs to know of Kubernetes workloads, beside the resource pipeline: this
 * node's Pods (list+watch with `fieldSelector=spec.nodeName=<node>`) for the identity of a CNI
 * attachment (a KubeVirt VM's label, the requested address annotations), and KubeVirt's
 * VirtualMachines (`kubevirt.io/v1`, every namespace) to tell a VM that is stopped from one
 * deleted for good. One reflector per kind (./reflector.ts), trimmed to the metadata used.
 *
 * - `pod(ns, name)`: the pod from the cache; a CNI ADD can arrive before the watch delivered the
 *   pod (the kubelet starts the sandbox right after the pod is bound), so it waits for it, up
 *   to `podWaitMs`.
 * - `vms()`: the set of VMs only while the VM list is complete (listed, not relisting after a
 *   410, the kind served); undefined otherwise — nothing is pruned on a partial view, and a
 *   cluster without KubeVirt never prunes.
 * - `nodeLabels()`: this node's own Node object's labels (`fieldSelector=metadata.name=<node>`),
 *   which VpcNatGateway selectors match; undefined until it is listed (a node without a Node
 *   object keeps the labels of its flags).
 */
import { childLogger, type Logger } from '../../log.js';
import { podInfoOf, type PodInfo } from '../../node/ports/identity.js';
import { createKubeApi, type KubeApi } from './api.js';
import type { WatchedKind } from './kinds.js';
import { createReflector, type Reflector, type ReflectorState } from './reflector.js';
import { loadKubeConfig, type KubernetesSourceOptions } from './source.js';

export const POD_KIND: WatchedKind = {
  kind: 'Pod',
  group: '',
  version: 'v1',
  plural: 'pods',
  namespaced: true,
};
export const NODE_KIND: WatchedKind = {
  kind: 'Node',
  group: '',
  version: 'v1',
  plural: 'nodes',
  namespaced: false,
};
export const VM_KIND: WatchedKind = {
  kind: 'VirtualMachine',
  group: 'kubevirt.io',
  version: 'v1',
  plural: 'virtualmachines',
  namespaced: true,
};

export interface WorkloadWatchOptions extends Pick<
  KubernetesSourceOptions,
  | 'kubeConfig'
  | 'kubeconfigPath'
  | 'inCluster'
  | 'context'
  | 'watchTimeoutSeconds'
  | 'idleTimeoutMs'
  | 'requestTimeoutMs'
  | 'backoffInitialMs'
  | 'backoffMaxMs'
> {
  /** This node's name: only its pods are watched. */
  node: string;
  /** How long `pod()` waits for a pod the watch has not delivered yet; default 5 s. */
  podWaitMs?: number;
  log?: Logger;
  /** A ready API client (tests); default one from the kubeconfig. */
  api?: KubeApi;
}

export interface WorkloadWatch {
  pod(namespace: string, name: string): Promise<PodInfo | undefined>;
  vms(): ReadonlySet<string> | undefined;
  /** Called (batched) after the VMs changed or their list became complete. */
  onVmsChange(cb: () => void): () => void;
  /** This node's labels from its Node object; undefined until it was seen. */
  nodeLabels(): Readonly<Record<string, string>> | undefined;
  /** Called with the labels whenever this node's Node object changed them. */
  onNodeLabels(cb: (labels: Readonly<Record<string, string>>) => void): () => void;
  state(): ReflectorState[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keeps what identity needs: name, namespace, labels, annotations, owner references. */
function trimPod(o: Record<string, unknown>): Record<string, unknown> {
  const md = isObject(o['metadata']) ? o['metadata'] : {};
  return {
    metadata: {
      name: md['name'],
      namespace: md['namespace'],
      labels: md['labels'],
      annotations: md['annotations'],
      ownerReferences: md['ownerReferences'],
    },
  };
}

/** Only the labels of a Node: its status (heartbeats every few seconds) is no change here. */
const trimNode = (o: Record<string, unknown>): Record<string, unknown> => {
  const md = isObject(o['metadata']) ? o['metadata'] : {};
  return { metadata: { name: md['name'], labels: isObject(md['labels']) ? md['labels'] : {} } };
};

const trimVm = (o: Record<string, unknown>): Record<string, unknown> => {
  const md = isObject(o['metadata']) ? o['metadata'] : {};
  return { metadata: { name: md['name'], namespace: md['namespace'] } };
};

export function createWorkloadWatch(options: WorkloadWatchOptions): WorkloadWatch {
  const api = options.api ?? createKubeApi(loadKubeConfig(options));
  const log = options.log ?? childLogger('workloads');
  const timing = {
    pageSize: 500,
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
    idleTimeoutMs: options.idleTimeoutMs ?? 150_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    backoffInitialMs: options.backoffInitialMs ?? 250,
    backoffMaxMs: options.backoffMaxMs ?? 30_000,
  };
  const podWaitMs = options.podWaitMs ?? 5_000;
  /** Pending `pod()` calls: `check` on every pod change, `cancel` on stop. */
  const podWaiters = new Map<() => void, () => void>();
  const vmListeners = new Set<() => void>();
  let vmTimer: NodeJS.Timeout | undefined;
  const pods: Reflector = createReflector({
    api,
    kind: POD_KIND,
    timing,
    log,
    fieldSelector: `spec.nodeName=${options.node}`,
    transform: trimPod,
    onChange: () => {
      for (const check of [...podWaiters.keys()]) check();
    },
  });
  const vmsReflector: Reflector = createReflector({
    api,
    kind: VM_KIND,
    timing,
    log,
    transform: trimVm,
    onChange: () => {
      vmTimer ??= setTimeout(() => {
        vmTimer = undefined;
        for (const cb of vmListeners) cb();
      }, 50);
    },
  });

  const labelListeners = new Set<(labels: Readonly<Record<string, string>>) => void>();
  const labelsOf = (): Record<string, string> | undefined => {
    const o = nodeReflector.objects().get(options.node) as { metadata?: { labels?: unknown } } | undefined;
    const labels = o?.metadata?.labels;
    if (!isObject(labels)) return undefined;
    return Object.fromEntries(
      Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  };
  const nodeReflector: Reflector = createReflector({
    api,
    kind: NODE_KIND,
    timing,
    log,
    fieldSelector: `metadata.name=${options.node}`,
    transform: trimNode,
    onChange: () => {
      const labels = labelsOf();
      if (labels) for (const cb of labelListeners) cb(labels);
    },
  });

  const cached = (ns: string, name: string): PodInfo | undefined => {
    const o = pods.objects().get(`${ns}/${name}`);
    return o ? podInfoOf(o) : undefined;
  };

  let vmSet: { objs: object; set: ReadonlySet<string> } | undefined;

  return {
    async pod(ns, name) {
      const hit = cached(ns, name);
      if (hit || podWaitMs === 0) return hit;
      return new Promise<PodInfo | undefined>((resolve) => {
        const done = (v: PodInfo | undefined) => {
          clearTimeout(timer);
          podWaiters.delete(check);
          resolve(v);
        };
        const check = () => {
          const p = cached(ns, name);
          if (p) done(p);
        };
        const timer = setTimeout(() => {
          log.warn(
            { pod: `${ns}/${name}`, waitedMs: podWaitMs },
            'pod not in the watch: its port is keyed by namespace, not by VM',
          );
          done(undefined);
        }, podWaitMs);
        podWaiters.set(check, () => done(undefined));
      });
    },
    vms() {
      if (vmsReflector.incomplete() !== undefined) return undefined;
      const objs = vmsReflector.objects();
      if (vmSet?.objs !== objs) vmSet = { objs, set: new Set(objs.keys()) };
      return vmSet.set;
    },
    onVmsChange(cb) {
      vmListeners.add(cb);
      return () => vmListeners.delete(cb);
    },
    nodeLabels: () => labelsOf(),
    onNodeLabels(cb) {
      labelListeners.add(cb);
      return () => labelListeners.delete(cb);
    },
    state: () => [pods.state(), vmsReflector.state(), nodeReflector.state()],
    async start() {
      pods.start();
      vmsReflector.start();
      nodeReflector.start();
      await Promise.all([pods.firstAttempt, vmsReflector.firstAttempt, nodeReflector.firstAttempt]);
    },
    async stop() {
      if (vmTimer) clearTimeout(vmTimer);
      for (const cancel of [...podWaiters.values()]) cancel();
      await Promise.all([pods.stop(), vmsReflector.stop(), nodeReflector.stop()]);
    },
  };
}
