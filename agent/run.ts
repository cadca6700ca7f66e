/**
 * `vpc-agent run` wiring — only wiring: each flow lives in its own module.
 *
 *  source ──► feed (./pipeline/feed.ts) ──► pipeline (parse → validate → held/blocked) ──► Snapshot
 *     Snapshot ──► IPAM pools
 *              ──► NB flow (./nb/flow.ts: writer election; allocate → pure build → NB reconciler)
 *              ──► node work (./run-node.ts: node OVS and ports reconcilers)
 *  NB cache ──► IPAM holds (every address any agent's rows hold, followed live)
 *  local API ──► PortService (this node's ports; any agent, writer or not)
 *  Kubernetes source ──► status write-back (./run-status.ts: the writer's cluster-wide status,
 *                        this node's NAT gateways, validation Events)
 *  /debug ──► ./debug.ts; /readyz ──► ./readiness.ts
 *
 * Start order: NB synced and IPAM fed from it before the first snapshot, so nothing is
 * allocated against an empty view; pruning only while the latest snapshot is complete.
 */
import { hostname } from 'node:os';
import { nb, type OvsdbClient, type TlsOptions } from '../ovsdb/index.js';
import { createApiServer, type ApiServer } from './api/index.js';
import { createAgentClients } from './clients.js';
import { debugDocument } from './debug/document.js';
import { debugPages } from './debug/pages.js';
import { Ipam, syncIpamWithNb } from './ipam/index.js';
import { childLogger, type Logger } from './log.js';
import {
  createDebugServer,
  createMetrics,
  watchOvsdbClient,
  type AgentMetrics,
  type OvnHealthFlags,
  type DebugServer,
} from './metrics/index.js';
import { DEFAULT_OWNER } from './nb/desired.js';
import { createNbFlow } from './nb/flow.js';
import type { NbReconciler } from './nb/reconcile/index.js';
import { NB_WRITER_LOCK, type NbWriter } from './nb/writer.js';
import type { NodeOvsResult } from './node/ovs/index.js';
import type { PortService } from './node/ports/index.js';
import { createSnapshotFeed } from './pipeline/feed.js';
import { createPipeline } from './pipeline/pipeline.js';
import type { Snapshot } from './pipeline/snapshot.js';
import { readiness } from './readiness.js';
import type { BlockedDelete } from './resources/index.js';
import { startNodeWork, type NodeWork } from './run-node.js';
import { portsBySubnet } from './run-state.js';
import { startStatusWork, statusTargetOf, type StatusWork } from './run-status.js';
import { createDirectorySource } from './sources/directory.js';
import type { StatusWriterConfig } from './sources/kubernetes/status.js';
import type { WorkloadWatch } from './sources/kubernetes/workloads.js';
import type { ResourceSource } from './sources/types.js';
import { startOrUndo } from './startup.js';

export { createDebugServer, type DebugServer } from './metrics/index.js';
export { ipamEntriesFromNb } from './run-state.js';

export interface AgentConfig {
  /** Manifest file or directory (watched). */
  manifests: string;
  /** NB remotes (comma-separated or list; all members of a cluster). */
  nb: string | string[];
  /** SB remotes: this chassis' Port_Bindings (port readiness). Needs `ovs`. */
  sb?: string | string[];
  /** This node's Open_vSwitch remote: node OVS reconciler and workload ports. */
  ovs?: string;
  /** Node name (default: the host name); the chassis name when OVS has no `system-id`. */
  node?: string;
  /** This node's labels, for VpcNatGateway selectors (`kubernetes.io/hostname`, `…/os` implied). */
  nodeLabels?: Record<string, string>;
  /** Namespace of br-int's datapath and the host-side veths; undefined = the agent's own. */
  netns?: string;
  /**
   * Prefix of the NAT gateways' namespace names (default `vpc-nat-gw-`): agents sharing one host's
   * /run/netns (the sandbox's nodes) each need their own.
   */
  natNetnsPrefix?: string;
  /** Unix socket of the local API (ports); undefined = none. Needs `ovs` and `sb`. */
  apiSocket?: string;
  /** A second socket serving the same API, for the CNI plugin (`server_socket`); undefined = none. */
  cniSocket?: string;
  /** How long a port add waits for its SB Port_Binding to come up on this chassis. */
  portReadyTimeoutMs: number;
  /** How long a port add/del waits for its LSP to reach (or leave) NB. */
  portNbTimeoutMs: number;
  /** `host:port` for `/healthz`, `/debug` and `/metrics`; undefined = no HTTP server. */
  listen?: string;
  /** Owner id in `external_ids` (several independent agents sets may share one NB). */
  owner: string;
  /** The writer lock name. */
  lockName: string;
  /** Debounce of reconcile triggers. */
  debounceMs: number;
  /** Periodic safety resync. */
  resyncMs: number;
  /** Periodic repair pass of this node's workload ports (an address deleted in a VM has no event). */
  portsResyncMs: number;
  /** Manifest poll interval (fs events are also watched). */
  pollMs: number;
  /** Gateway chassis for the natOutgoing router port (node names), highest priority first. */
  gatewayChassis: string[];
  /** TLS material for `ssl:` remotes (NB, SB and OVS alike). */
  tls?: TlsOptions;
  /** How long `start()` waits for each database's first sync before it fails; 0 = no limit. */
  startTimeoutMs: number;
  /** Status write-back timing (Kubernetes source only); defaults in `DEFAULT_STATUS_WRITER_CONFIG`. */
  statusWriter?: Partial<StatusWriterConfig>;
  /** Control sockets of the OVN daemons on this host, for the OVN health metrics (docs/metrics.md). */
  ovnHealth?: OvnHealthFlags;
}

/** Defaults, each with its reason. */
export const DEFAULT_AGENT_CONFIG: Omit<AgentConfig, 'manifests' | 'nb'> = {
  // The owner id of the contract in agent/nb/desired.ts.
  owner: DEFAULT_OWNER,
  // One name for every agent of a deployment, or there is no election.
  lockName: NB_WRITER_LOCK,
  // Coalesces bursts (a directory of files saved at once, one txn's echo) into one pass.
  debounceMs: 100,
  // Repairs anything an event missed, without measurable load (a no-op pass sends nothing).
  resyncMs: 60_000,
  // Cheap when converged (netlink reads, no OVSDB write); bounds how long a hand-deleted route stays gone.
  portsResyncMs: 30_000,
  // fs.watch misses changes on some mounts (ConfigMap symlink swaps); polling is cheap.
  pollMs: 2_000,
  // No chassis named: the natOutgoing port is built without Gateway_Chassis until node work.
  gatewayChassis: [],
  // ovn-controller binds a port in well under a second; 30 s covers a busy or restarting node.
  portReadyTimeoutMs: 30_000,
  // One debounced reconcile pass plus the monitor echo; generous for a failing-over NB.
  portNbTimeoutMs: 15_000,
  // Longer than a RAFT election plus a full NB dump; past it the remote or TLS is wrong, and a
  // failed start (non-zero exit) tells the operator and the supervisor instead of waiting mute.
  startTimeoutMs: 60_000,
};

export interface AgentDeps {
  log?: Logger;
  /** The Prometheus registry to fill (default: a new one per agent). */
  metrics?: AgentMetrics;
  /** Where resources come from (default: the directory `manifests`). */
  source?: ResourceSource;
  /**
   * This node's pods and KubeVirt's VMs (with the Kubernetes source): a VM's ports keep their
   * address across its pods, and go when the VM is deleted for good.
   */
  workloads?: WorkloadWatch;
}

export interface Agent {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly engine: NbReconciler;
  readonly writer: NbWriter;
  readonly client: OvsdbClient;
  readonly ipam: Ipam;
  /** Workload ports (undefined without `ovs` + `sb`). */
  readonly ports: PortService | undefined;
  /** The node's Open_vSwitch client (undefined without `ovs`). */
  readonly ovs: OvsdbClient | undefined;
  /** The last node OVS reconcile result, if any. */
  nodeResult(): NodeOvsResult | undefined;
  /** Resolves once no node OVS or ports pass is running or pending. */
  nodeSettled(): Promise<void>;
  /** Resolves after the first snapshot reached the reconcilers. */
  readonly loaded: Promise<void>;
  /** `/debug` document. */
  debug(): Record<string, unknown>;
  /** The agent's metrics (served at `/metrics`). */
  readonly metrics: AgentMetrics;
  /** Status write-back (undefined unless the source is Kubernetes and the agent started). */
  statusWork(): StatusWork | undefined;
  /** The current snapshot (resources in effect, errors, completeness). */
  snapshot(): Snapshot | undefined;
  /** Resources removed from the manifests but kept because others still refer to them. */
  blockedDeletes(): readonly BlockedDelete[];
  /** The HTTP address actually bound (port 0 resolved), if any. */
  address(): string | undefined;
}

export function createAgent(
  deps: AgentDeps,
  input: Partial<AgentConfig> & Pick<AgentConfig, 'manifests' | 'nb'>,
): Agent {
  const config: AgentConfig = { ...DEFAULT_AGENT_CONFIG, ...input };
  const log = deps.log ?? childLogger('agent');
  const clients = createAgentClients({ log }, config);
  const client = clients.create({
    remotes: config.nb,
    database: 'OVN_Northbound',
    schema: nb.schema(),
    logger: log.child({ module: 'ovsdb', db: 'nb' }),
  });
  const metrics = deps.metrics ?? createMetrics();
  watchOvsdbClient(metrics, 'OVN_Northbound', client);
  const ipam = new Ipam();
  const flow = createNbFlow({ client, ipam, log, observer: metrics.reconcilers }, config);
  const pipeline = createPipeline({
    log: log.child({ module: 'pipeline' }),
    metrics,
    context: () => ({ portsBySubnet: portsBySubnet(client.cache, config.owner) }),
  });
  const source: ResourceSource =
    deps.source ??
    createDirectorySource(config.manifests, {
      pollIntervalMs: config.pollMs,
      onError: (err) => log.warn({ err }, 'manifest check failed'),
    });
  /** What `start()` opened, closed by `stop()` (each only if it was opened). */
  const opened: {
    nodeWork?: NodeWork;
    status?: StatusWork;
    workloads?: WorkloadWatch;
    api?: ApiServer;
    cniApi?: ApiServer;
    http?: DebugServer;
    off: (() => void)[];
    /** `start()` finished (for `/readyz`). */
    started: boolean;
  } = { off: [], started: false };
  let loadedResolve!: () => void;
  const loaded = new Promise<void>((r) => (loadedResolve = r));

  // Every snapshot goes to every consumer: IPAM's pools, the writer flow, the node's reconcilers.
  const feed = createSnapshotFeed({ source, pipeline }, (s) => {
    ipam.setSubnets([...s.resources.subnets.values()]);
    flow.set(s);
    opened.nodeWork?.schedule(s);
    opened.status?.schedule();
    loadedResolve();
  });

  metrics.setSources({
    resources: () => pipeline.summary(),
    blockedDeletes: () => pipeline.current()?.blocked ?? [],
    ipam: () => ipam.stats(),
    reconcile: () => flow.engine.stats,
    isWriter: () => flow.writer.isWriter(),
    rows: () => flow.engine.counts(),
    ovsdb: () => {
      const w = opened.nodeWork;
      return [
        { database: 'OVN_Northbound', online: client.isOnline, traffic: client.stats() },
        ...(w ? [{ database: 'Open_vSwitch', online: w.ovs.isOnline, traffic: w.ovs.stats() }] : []),
        ...(w?.sb ? [{ database: 'OVN_Southbound', online: w.sb.isOnline, traffic: w.sb.stats() }] : []),
      ];
    },
    ports: () => opened.nodeWork?.portCount() ?? 0,
  });

  const agentReadiness = () =>
    readiness({
      config,
      nb: client,
      node: opened.nodeWork,
      started: opened.started,
      writer: flow.writer.isWriter(),
      reconcile: flow.engine.health(),
      ...(opened.nodeWork ? { nodeReconcilers: opened.nodeWork.health() } : {}),
    });

  async function start(): Promise<void> {
    if (config.listen)
      opened.http = await createDebugServer(
        {
          ready: agentReadiness,
          debug: () => agent.debug(),
          registry: metrics.registry,
          pages: debugPages(
            () => ({
              node: config.node,
              flow,
              ipam,
              snapshot: pipeline.current(),
              nodeWork: opened.nodeWork,
            }),
            { nb: client.cache, sb: config.sb, tls: config.tls },
          ),
        },
        config.listen,
      );
    // The source is read while Northbound syncs (the server builds its dump meanwhile); its
    // snapshots wait until NB and IPAM are synced, so nothing is allocated against an empty view.
    const sourceRead = feed.read();
    sourceRead.catch(() => undefined); // awaited below; a start failure is reported there
    await clients.ready(client);
    opened.off.push(syncIpamWithNb(ipam, client.cache, config.owner).close);
    // A Subnet kept for its ports is let go once its last port is deleted.
    opened.off.push(
      client.cache.onChange((batch) => {
        if (
          pipeline.current()?.blocked.some((b) => b.kind === 'Subnet') &&
          batch.changes.some((c) => c.table === 'Logical_Switch_Port')
        )
          feed.reapply();
      }),
    );
    if (deps.workloads && config.ovs) {
      await deps.workloads.start();
      opened.workloads = deps.workloads;
    }
    if (config.ovs) {
      opened.nodeWork = await startNodeWork(
        {
          log,
          metrics,
          clients,
          nb: client,
          ipam,
          resources: () => pipeline.current()?.resources,
          loaded,
          isWriter: () => flow.writer.isWriter(),
          ...(opened.workloads ? { workloads: opened.workloads } : {}),
        },
        { ...config, ovs: config.ovs },
      );
    }
    const ports = opened.nodeWork?.ports;
    if (opened.workloads && ports?.reapVmPorts) {
      const reap = () =>
        void ports.reapVmPorts!().catch((err: unknown) =>
          log.warn({ err }, 'removing ports of deleted VMs failed'),
        );
      opened.off.push(opened.workloads.onVmsChange(reap));
      reap();
    }
    if (config.apiSocket && !ports) throw new Error('the local API (ports) needs --ovs and --sb');
    flow.start();
    // Status goes back to the API server the resources came from (the Kubernetes source only).
    const statusTarget = statusTargetOf(source);
    if (statusTarget)
      opened.status = await startStatusWork(
        {
          target: statusTarget,
          log,
          metrics,
          nb: client,
          flow,
          ipam,
          snapshot: () => pipeline.current(),
          nodeWork: () => opened.nodeWork,
        },
        {
          node: config.node ?? hostname(),
          ...(config.statusWriter ? { statusWriter: config.statusWriter } : {}),
        },
      );
    await sourceRead;
    feed.release();
    if (config.apiSocket && ports)
      opened.api = await createApiServer({ ports, log: log.child({ module: 'api' }) }, config.apiSocket);
    if (config.cniSocket && ports)
      opened.cniApi = await createApiServer(
        { ports, log: log.child({ module: 'api', socket: 'cni' }) },
        config.cniSocket,
        { sharedDir: true },
      );
    log.info(
      {
        manifests: config.manifests,
        source: source.name,
        node: config.node,
        listen: opened.http?.address,
        api: opened.api?.socket,
        cniApi: opened.cniApi?.socket,
      },
      'agent started',
    );
    opened.started = true;
  }

  const agent: Agent = {
    engine: flow.engine,
    writer: flow.writer,
    metrics,
    blockedDeletes: () => pipeline.current()?.blocked ?? [],
    client,
    ipam,
    loaded,
    snapshot: () => pipeline.current(),
    statusWork: () => opened.status,
    get ports() {
      return opened.nodeWork?.ports;
    },
    get ovs() {
      return opened.nodeWork?.ovs;
    },
    nodeResult: () => opened.nodeWork?.last(),
    nodeSettled: () => opened.nodeWork?.settled() ?? Promise.resolve(),
    // A failed start closes what it opened (the writer lock, connections, listeners) first.
    start: startOrUndo({ log, undo: () => agent.stop() }, start),
    async stop() {
      await opened.status?.close();
      await feed.close();
      await opened.api?.close();
      await opened.cniApi?.close();
      await opened.http?.close();
      await opened.nodeWork?.settled();
      await flow.stop();
      await opened.nodeWork?.close();
      for (const off of opened.off.splice(0)) off();
      await opened.workloads?.stop();
      await clients.closeAll();
    },
    debug: () => ({
      ...debugDocument({
        node: config.node,
        nb: client,
        flow,
        ipam,
        snapshot: pipeline.current(),
        nodeWork: opened.nodeWork,
      }),
      // Status write-back: writes by kind/result, what is waiting (Kubernetes source only).
      ...(opened.status ? { kubeStatus: opened.status.writer.stats() } : {}),
    }),
    address: () => opened.http?.address,
  };
  return agent;
}
