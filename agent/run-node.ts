/**
 * The node half of `vpc-agent run` (docs/node.md): a client of this node's Open_vSwitch
 * database, and the node's two reconcilers in the one shape, each in its own reconcile loop
 * (one pass at a time, the newest snapshot winning): the node OVS reconciler (bridges, trunks,
 * mappings) and the ports reconciler (this node's LSPs in NB → host state). With the
 * Southbound too, the chassis-conditional SB monitor and the workload {@link PortService}.
 * Wired by `createAgent` in ./run.ts.
 */
import { hostname } from 'node:os';
import {
  sb as sbModel,
  vswitch,
  type ClientMonitorConfig,
  type OvsdbClient,
  type TlsOptions,
} from '../ovsdb/index.js';
import type { AgentClients } from './clients.js';
import type { Ipam } from './ipam/index.js';
import type { Logger } from './log.js';
import {
  createNodeMetrics,
  instrumentPortService,
  ovnHealthConfig,
  watchOvsdbClient,
  type AgentMetrics,
  type OvnHealthFlags,
} from './metrics/index.js';
import { DEFAULT_BUILD_OPTIONS } from './nb/build/index.js';
import { nodeOwner } from './ownership.js';
import type { Snapshot } from './pipeline/snapshot.js';
import { startNatWork } from './run-nat.js';
import { nodePortOf, nodePortsFromNb } from './node/ports/nb-ports.js';
import { createPortsReconciler } from './node/ports/reconciler.js';
import { keyedSerial } from './node/ports/serial.js';
import { createReconcileLoop, type ObjectStatus } from './reconcile/reconciler.js';
import type { RunnerHealth } from './reconcile/runner.js';
import { createNodeOvsReconciler, NODE_OVS_MONITOR, rootRow, type NodeOvsResult } from './node/ovs/index.js';
import { createPortService, followChassis, sbPortsMonitor, type PortService } from './node/ports/index.js';
import type { ResourceSet } from './resources/types.js';
import type { WorkloadWatch } from './sources/kubernetes/workloads.js';

/** The Open_vSwitch monitor of the node work: the reconciler's, plus `ofport` for port checks. */
export const AGENT_OVS_MONITOR: ClientMonitorConfig = {
  tables: {
    ...(NODE_OVS_MONITOR as { tables: Record<string, { columns: string[] }> }).tables,
    // next_cfg/cur_cfg: a port re-added waits until vswitchd applied its removal (see host.ts).
    Open_vSwitch: { columns: ['bridges', 'external_ids', 'next_cfg', 'cur_cfg'] },
    Interface: { columns: ['name', 'type', 'external_ids', 'error', 'ofport'] },
  },
};

export interface NodeWorkConfig {
  ovs: string;
  sb?: string | string[];
  node?: string;
  /** This node's labels (VpcNatGateway selectors), beside `kubernetes.io/hostname` and `…/os`. */
  nodeLabels?: Readonly<Record<string, string>>;
  netns?: string;
  owner: string;
  portReadyTimeoutMs: number;
  portNbTimeoutMs: number;
  /** Periodic node OVS pass (default 60 s; 0 disables). */
  nodeResyncMs?: number;
  /** Periodic ports repair pass (default 30 s; 0 disables). */
  portsResyncMs?: number;
  /** Periodic NAT gateway pass (default 30 s; 0 disables). */
  natResyncMs?: number;
  /** NB remotes and TLS: the OVN health metrics read members without a control socket by remote. */
  nb?: string | string[];
  tls?: TlsOptions;
  /** Control sockets and run directory of the OVN daemons on this host (OVN health metrics). */
  ovnHealth?: OvnHealthFlags;
  /** Prefix of the NAT gateways' namespace names (default `vpc-nat-gw-`). */
  natNetnsPrefix?: string;
}

export interface NodeWorkDeps {
  log: Logger;
  /** Connection metrics of the OVS/SB clients and port add metrics, when given. */
  metrics?: AgentMetrics;
  /** Makes the OVS and SB clients (TLS, bounded start, closed on a failed start). */
  clients: AgentClients;
  nb: OvsdbClient;
  ipam: Ipam;
  resources(): ResourceSet | undefined;
  loaded: Promise<void>;
  /** Whether this agent writes NB now: it alone reads the cluster-wide OVN health values. */
  isWriter?: () => boolean;
  /** This node's pods and the VMs, when the agent watches Kubernetes (KubeVirt identity). */
  workloads?: Pick<WorkloadWatch, 'pod' | 'vms'> &
    Partial<Pick<WorkloadWatch, 'nodeLabels' | 'onNodeLabels'>>;
}

export interface NodeWork {
  readonly ovs: OvsdbClient;
  readonly sb: OvsdbClient | undefined;
  readonly chassis: string;
  readonly ports: PortService | undefined;
  /** Runs the node reconcilers on `snapshot` soon (after a running pass). */
  schedule(snapshot: Snapshot): void;
  /** Resolves once no node OVS or ports pass is running or pending. */
  settled(): Promise<void>;
  /** Resolves once no ports pass is running or pending. */
  portsSettled(): Promise<void>;
  /** Asks for a ports pass now. */
  triggerPorts(): void;
  /** This node's ports in Northbound. */
  portCount(): number;
  /** Health of the node's reconcilers, by runner name. */
  health(): Record<string, RunnerHealth>;
  /**
   * Per-object status of the node's reconcilers: provider networks/VLANs, ports by LSP name, and
   * the NAT gateways this node runs (with their EIPs and rules).
   */
  statuses(): {
    providers: ReadonlyMap<string, ObjectStatus>;
    ports: ReadonlyMap<string, ObjectStatus>;
    nat: ReadonlyMap<string, ObjectStatus>;
  };
  last(): NodeOvsResult | undefined;
  debug(): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startNodeWork(deps: NodeWorkDeps, config: NodeWorkConfig): Promise<NodeWork> {
  const { log } = deps;
  const ovs = deps.clients.create({
    remotes: config.ovs,
    database: 'Open_vSwitch',
    schema: vswitch.schema(),
    monitor: AGENT_OVS_MONITOR,
    logger: log.child({ module: 'ovsdb', db: 'ovs' }),
  });
  if (deps.metrics) watchOvsdbClient(deps.metrics, 'Open_vSwitch', ovs);
  await deps.clients.ready(ovs);
  const nodeName = config.node ?? hostname();
  const reconciler = createNodeOvsReconciler({
    client: ovs,
    node: nodeName,
    owner: config.owner,
    ...(config.netns === undefined ? {} : { netns: config.netns }),
  });
  // ovn-controller registers the chassis under `system-id` (ovn-controller(8)).
  const ids = rootRow(ovs.cache)['external_ids'] as Record<string, string>;
  const chassis = ids['system-id'] ?? nodeName;
  const nodeOwnerId = nodeOwner(config.owner, nodeName);
  const busy = new Set<string>();
  const perNetns = keyedSerial();
  const hostCtx = {
    ovs,
    nodeNetns: config.netns,
    owner: config.owner,
    overlayMtu: DEFAULT_BUILD_OPTIONS.overlayMtu,
    underlayMtu: DEFAULT_BUILD_OPTIONS.underlayMtu,
    reopened: new Map<string, number>(),
  };
  const portsReconciler = createPortsReconciler(
    { nb: deps.nb, host: hostCtx, busy, perNetns },
    { owner: config.owner, nodeOwnerId, node: nodeName, chassis },
  );
  let sb: OvsdbClient | undefined;
  let offChassis: (() => void) | undefined;
  let ports: PortService | undefined;
  if (config.sb) {
    sb = deps.clients.create({
      remotes: config.sb,
      database: 'OVN_Southbound',
      schema: sbModel.schema(),
      monitor: sbPortsMonitor(chassis),
      logger: log.child({ module: 'ovsdb', db: 'sb' }),
    });
    if (deps.metrics) watchOvsdbClient(deps.metrics, 'OVN_Southbound', sb);
    await deps.clients.ready(sb);
    offChassis = followChassis(sb, chassis, (err) => log.warn({ err }, 'SB condition update failed'));
    ports = createPortService(
      {
        ovs,
        sb,
        nb: deps.nb,
        ipam: deps.ipam,
        resources: deps.resources,
        loaded: deps.loaded,
        busy,
        perNetns,
        log: log.child({ module: 'ports' }),
        ...(deps.workloads
          ? {
              pods: (ns: string, name: string) => deps.workloads!.pod(ns, name),
              vms: () => deps.workloads!.vms(),
            }
          : {}),
      },
      {
        chassis,
        node: nodeName,
        nodeNetns: config.netns,
        owner: config.owner,
        nodeOwnerId,
        readyTimeoutMs: config.portReadyTimeoutMs,
        nbTimeoutMs: config.portNbTimeoutMs,
        overlayMtu: DEFAULT_BUILD_OPTIONS.overlayMtu,
        underlayMtu: DEFAULT_BUILD_OPTIONS.underlayMtu,
      },
    );
    if (deps.metrics) ports = instrumentPortService(ports, deps.metrics);
  }
  // NAT gateways attach their LAN leg as a port of this node: with the port service only.
  const nat = ports
    ? startNatWork(
        { log, metrics: deps.metrics, nb: deps.nb, ports },
        {
          node: nodeName,
          labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', ...config.nodeLabels },
          owner: config.owner,
          netns: config.netns,
          ...(config.natNetnsPrefix !== undefined ? { netnsPrefix: config.natNetnsPrefix } : {}),
          resyncMs: config.natResyncMs ?? 30_000,
        },
      )
    : undefined;
  // With Kubernetes: the labels of this node's Node object join its flags' (selectors match them).
  const nodeLabels = deps.workloads?.nodeLabels?.();
  if (nat && nodeLabels) nat.setLabels(nodeLabels);
  const offNodeLabels = nat ? deps.workloads?.onNodeLabels?.((l) => nat.setLabels(l)) : undefined;
  // Datapath and interface metrics: their own Open_vSwitch client (statistics never wake the
  // reconcilers); started without waiting, so a slow vswitchd never delays the agent's start.
  const nodeMetrics = deps.metrics
    ? createNodeMetrics(
        {
          registry: deps.metrics.registry,
          createClient: (o) =>
            deps.clients.create({ ...o, logger: log.child({ module: 'ovsdb', db: 'ovs-metrics' }) }),
          log,
          // A port with an add or delete in flight is not bound yet, or not any more: left out.
          ...(sb
            ? {
                sb,
                nodePorts: () =>
                  [...nodePortsFromNb(deps.nb.cache, nodeOwnerId).keys()].filter((n) => !busy.has(n)),
              }
            : {}),
          ...(deps.isWriter ? { clusterWide: deps.isWriter } : {}),
          lookup: (lsp) => {
            const row = deps.nb.cache.lookup('Logical_Switch_Port', 'name', lsp)[0];
            const port = row ? nodePortOf(row) : undefined;
            if (!port) return undefined;
            const vpc = deps.resources()?.subnets.get(port.subnet)?.spec.vpc;
            return { subnet: port.subnet, ...(vpc ? { vpc } : {}) };
          },
        },
        { ovs: config.ovs, ovn: ovnHealthConfig(config, chassis) },
      )
    : undefined;
  nodeMetrics?.start();

  const runnerOpts = (resyncMs: number) => ({
    log,
    resyncMs,
    ...(deps.metrics ? { observer: deps.metrics.reconcilers } : {}),
  });
  // Node OVS: after every resource change, after anyone's change to the node's bridges, ports,
  // interfaces or root row (a mapping or trunk edited by hand comes back), periodically, and
  // again with backoff after a failed pass.
  const nodeLoop = createReconcileLoop(reconciler, {
    runner: runnerOpts(config.nodeResyncMs ?? 60_000),
    setDelayMs: 0,
    onResult: (r) => {
      if (r.sent) log.info({ ops: r.ops, changes: r.changes }, 'node OVS reconciled');
      for (const p of r.problems) log.warn({ problem: p }, `node OVS: ${p.message}`);
    },
  });
  // Workload ports: after a change to this node's LSPs, its OVS ports, a switch or DHCP options
  // row (re)created, the resources, and periodically (an address or route deleted inside a
  // namespace has no event). Only while NB is online: its cache is the desired state.
  const portsLoop = createReconcileLoop(portsReconciler, {
    enabled: () => deps.nb.isOnline,
    runner: runnerOpts(config.portsResyncMs ?? 30_000),
    onResult: (r) => {
      if (r.repaired.length > 0 || r.pruned.length > 0)
        log.info({ repaired: r.repaired, pruned: r.pruned }, 'workload ports reconciled');
    },
  });
  nodeLoop.start();
  portsLoop.start();

  return {
    ovs,
    sb,
    chassis,
    ports,
    schedule(snapshot) {
      nodeLoop.set(snapshot, { complete: snapshot.complete });
      portsLoop.set(snapshot, { complete: snapshot.complete });
      nat?.schedule(snapshot);
    },
    settled: async () => {
      await nodeLoop.settled();
      await portsLoop.settled();
      await nat?.settled();
    },
    portsSettled: () => portsLoop.settled(),
    health: () => ({
      'node-ovs': nodeLoop.health(),
      ports: portsLoop.health(),
      ...(nat ? { 'nat-gateways': nat.health() } : {}),
    }),
    statuses: () => ({
      providers: reconciler.status(),
      ports: portsReconciler.status(),
      nat: nat?.status() ?? new Map(),
    }),
    portCount: () => nodePortsFromNb(deps.nb.cache, nodeOwnerId).size,
    triggerPorts: () => portsLoop.trigger('request', 0),
    last: () => reconciler.last(),
    debug() {
      const r = reconciler.last();
      return {
        chassis,
        ovsOnline: ovs.isOnline,
        sbOnline: sb?.isOnline,
        last: r && { sent: r.sent, ops: r.ops, changes: r.changes, problems: r.problems, moves: r.moves },
        interfaceErrors: reconciler.interfaceErrors(),
        ports: Object.fromEntries(portsReconciler.status()),
        providers: Object.fromEntries(reconciler.status()),
      };
    },
    async close() {
      offNodeLabels?.();
      await nat?.close();
      await nodeLoop.stop();
      await portsLoop.stop();
      await nodeMetrics?.stop();
      offChassis?.();
      await sb?.close();
      await ovs.close();
    },
  };
}
