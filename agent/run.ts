/**
 * `vpc-agent run` wiring: manifests → validation → IPAM → desired Northbound state → reconcile
 * engine, gated by the NB writer election. `createAgent(deps, config)` returns `{start, stop}`
 * (conventions "Wiring and config"); `main` in `run-cli.ts` builds the config from flags.
 *
 *  manifests dir ──watch──► validate ──► IPAM (rebuilt from NB once) ──► buildNorthbound
 *                                                                         │ setDesired
 *  NB ovsdb (monitor, lock) ◄── one minimal txn, only while writer ◄── engine (runner)
 *
 * Start order matters for stable identity (design.md principle 4): the NB cache is synced
 * before the first manifest load, so IPAM is rebuilt from the rows we own before anything is
 * allocated; pruning starts only after that first full load.
 *
 * Node work (docs/node.md), when `ovs` is given: a client of this node's Open_vSwitch database
 * and the node OVS reconciler (provider bridges, trunks, bridge mappings), run after every
 * resource change — one pass at a time, the latest resources winning. With `sb` too: a
 * Southbound client watching this chassis and its Port_Bindings, and the {@link PortService}
 * (workload ports) behind the local API on `apiSocket`. `netns` names the namespace where br-int's
 * datapath and the host-side veths live (default: the agent's own — production; the sandbox runs
 * each node in a namespace).
 *
 * The workload ports are part of the desired NB state: rebuilt from NB with IPAM on the first
 * load (or the engine would prune them after a restart), changed by the port service.
 */
import { nb, OvsdbClient } from '../ovsdb/index.js';
import { createApiServer, type ApiServer } from './api/index.js';
import { Ipam } from './ipam/index.js';
import { ManifestError } from './errors.js';
import { childLogger, type Logger } from './log.js';
import {
  createDebugServer,
  createMetrics,
  watchOvsdbClient,
  type AgentMetrics,
  type DebugServer,
  type LoadSummary,
} from './metrics/index.js';
import { buildNorthboundReport, natGatewayOwner, type PortAllocation } from './nb/build/index.js';
import { DEFAULT_OWNER, type DesiredState } from './nb/desired.js';
import { createNbReconciler, type NbReconciler } from './nb/reconcile/index.js';
import { createNbWriter, NB_WRITER_LOCK, type NbWriter } from './nb/writer.js';
import type { NodeOvsResult } from './node/ovs/index.js';
import { portsFromNb, type PortService } from './node/ports/index.js';
import { startNodeWork, type NodeWork } from './run-node.js';
import { countByKind, errorKind, ipamEntriesFromNb, lostAny } from './run-state.js';
import {
  loadManifests,
  watchManifests,
  withBlockedKept,
  withLastValidKept,
  type HeldEdit,
  type BlockedDelete,
  type LoadAndValidateResult,
  type ManifestWatcher,
} from './resources/index.js';
import { DEFAULT_EXTERNAL_SUBNET, DEFAULT_VPC, type ResourceSet } from './resources/types.js';

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
  /** Namespace of br-int's datapath and the host-side veths; undefined = the agent's own. */
  netns?: string;
  /** Unix socket of the local API (ports); undefined = none. Needs `ovs` and `sb`. */
  apiSocket?: string;
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
  /** Manifest poll interval (fs events are also watched). */
  pollMs: number;
  /** Gateway chassis for the natOutgoing router port (node names), highest priority first. */
  gatewayChassis: string[];
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
  // fs.watch misses changes on some mounts (ConfigMap symlink swaps); polling is cheap.
  pollMs: 2_000,
  // No chassis named: the natOutgoing port is built without Gateway_Chassis until node work.
  gatewayChassis: [],
  // ovn-controller binds a port in well under a second; 30 s covers a busy or restarting node.
  portReadyTimeoutMs: 30_000,
  // One debounced reconcile pass plus the monitor echo; generous for a failing-over NB.
  portNbTimeoutMs: 15_000,
};

export interface AgentDeps {
  log?: Logger;
  /** The Prometheus registry to fill (default: a new one per agent). */
  metrics?: AgentMetrics;
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
  /** Resolves once no node OVS pass is running or pending. */
  nodeSettled(): Promise<void>;
  /** Resolves after the first manifest load was turned into a desired state. */
  readonly loaded: Promise<void>;
  /** `/debug` document. */
  debug(): Record<string, unknown>;
  /** The agent's metrics (served at `/metrics`). */
  readonly metrics: AgentMetrics;
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
  const client = OvsdbClient.create({
    remotes: config.nb,
    database: 'OVN_Northbound',
    schema: nb.schema(),
    logger: log.child({ module: 'ovsdb', db: 'nb' }),
  });
  const metrics = deps.metrics ?? createMetrics();
  watchOvsdbClient(metrics, 'OVN_Northbound', client);
  const writer = createNbWriter({ client, log }, { lockName: config.lockName });
  const engine = createNbReconciler(
    { client, isWriter: () => writer.isWriter(), log: log.child({ module: 'reconcile' }) },
    {
      owner: config.owner,
      lock: config.lockName,
      runner: { debounceMs: config.debounceMs, resyncMs: config.resyncMs },
    },
  );
  writer.on('change', (w) => {
    if (w) engine.trigger('writer');
  });
  const ipam = new Ipam();
  const ports = new Map<string, PortAllocation>();
  let nodeWork: NodeWork | undefined;
  let api: ApiServer | undefined;
  let rebuilt = false;
  let watcher: ManifestWatcher | undefined;
  let http: DebugServer | undefined;
  let lastErrors: unknown[] = [];
  let errorSig = '';
  let warnings: { resource: string; message: string }[] = [];
  let resources: ResourceSet | undefined;
  let loadSummary: LoadSummary | undefined;
  let blocked: BlockedDelete[] = [];
  let blockedSig = '';
  /** Resources whose new version was refused; their last valid version is in effect. */
  let held: HeldEdit[] = [];
  /**
   * Every manifest file could be read. Until a load where this holds, the engine does not prune:
   * an agent (re)started while a file is broken would otherwise delete the rows of everything
   * in it. (Once running, a broken file is covered by the held last valid versions.)
   */
  let manifestsComplete = false;
  /** Manifest loads, applied one at a time in order (a reload for blocked deletes is async). */
  let loads: Promise<void> = Promise.resolve();
  let loadedResolve!: () => void;
  const loaded = new Promise<void>((r) => (loadedResolve = r));

  /**
   * A watcher result, with deletes that would strand dependents held back (issue 4): when a
   * resource of the previous valid set is missing from the new one, the manifests are read
   * again *unvalidated* and {@link withBlockedKept} puts back what the new resources still refer
   * to, before validation (so the Subnets of a removed Vpc are not skipped for the missing Vpc).
   * The watcher only hands out validated sets, hence the second read — only on such loads; a
   * later edit between both reads is picked up by the watcher's next check.
   */
  async function applyLoad(result: LoadAndValidateResult): Promise<void> {
    const prev = resources;
    let next = result;
    let nowBlocked: BlockedDelete[] = [];
    let nowHeld: HeldEdit[] = [];
    if (prev && lostAny(prev, result.valid)) {
      const read = await loadManifests(config.manifests);
      const kept = withBlockedKept(prev, read.resources);
      // An edit that does not load or validate leaves the last valid version in effect.
      const v = withLastValidKept(prev, { resources: kept.resources, errors: read.errors });
      next = { valid: v.valid, errors: v.errors, files: read.files };
      nowBlocked = kept.blocked;
      nowHeld = v.held;
    }
    const heldSig = nowHeld.map((h) => h.message).join('\n');
    if (heldSig !== held.map((h) => h.message).join('\n'))
      for (const h of nowHeld) log.warn({ kind: h.kind, name: h.name }, `edit not applied: ${h.message}`);
    held = nowHeld;
    blocked = nowBlocked;
    const sig = blocked.map((b) => b.message).join('\n');
    if (sig !== blockedSig) {
      blockedSig = sig;
      for (const b of blocked)
        log.warn({ kind: b.kind, name: b.name, dependents: b.dependents }, `delete blocked: ${b.message}`);
    }
    onResources(next);
  }

  function onResources(result: LoadAndValidateResult): void {
    const sig = result.errors.map((e) => e.message).join('\n');
    if (sig !== errorSig) {
      errorSig = sig;
      for (const e of result.errors) log.warn({ err: e.toJSON() }, `resource skipped: ${e.message}`);
    }
    lastErrors = result.errors.map((e) => e.toJSON());
    const errs = result.errors.map((e) => ({ kind: errorKind(e), message: e.message }));
    metrics.recordLoadErrors(errs);
    loadSummary = { valid: countByKind(result.valid), errors: {} };
    for (const e of errs) loadSummary.errors[e.kind] = (loadSummary.errors[e.kind] ?? 0) + 1;
    resources = result.valid;
    manifestsComplete = !result.errors.some((e) => e instanceof ManifestError);
    const subnets = [...result.valid.subnets.values()];
    ipam.setSubnets(subnets);
    if (!rebuilt) {
      const res = ipam.rebuild(ipamEntriesFromNb(client, config.owner));
      for (const p of portsFromNb(client.cache, config.owner)) ports.set(p.name, p);
      rebuilt = true;
      log.info(
        { restored: res.restored, rejected: res.rejected.length, ports: ports.size },
        'IPAM and ports rebuilt from northbound',
      );
      for (const r of res.rejected) log.warn({ entry: r.entry, err: r.error }, 'IPAM entry from NB rejected');
    }
    publishDesired();
    nodeWork?.schedule(result.valid);
    loadedResolve();
  }

  /** Desired NB state from the current resources and ports (undefined before the first load). */
  function buildDesired(): DesiredState | undefined {
    if (!resources) return undefined;
    const subnets = [...resources.subnets.values()];
    const natGateway: { chassis: string[]; ip?: string } = { chassis: config.gatewayChassis };
    const needsGateway = subnets.some((s) => s.spec.natOutgoing && s.spec.vpc === DEFAULT_VPC);
    if (needsGateway && ipam.hasSubnet(DEFAULT_EXTERNAL_SUBNET)) {
      try {
        natGateway.ip = ipam.allocate(DEFAULT_EXTERNAL_SUBNET, natGatewayOwner(DEFAULT_VPC)).ip;
      } catch (err) {
        log.warn({ err }, 'no address for the natOutgoing gateway');
      }
    }
    const report = buildNorthboundReport({
      resources,
      ports: [...ports.values()],
      options: { natGateway },
    });
    warnings = report.warnings;
    for (const w of report.warnings) log.debug({ warning: w }, 'build warning');
    return report.state;
  }

  /** Hands the desired NB state to the engine now. */
  function publishDesired(): void {
    const state = buildDesired();
    if (state) engine.setDesired(state, { complete: manifestsComplete });
  }

  metrics.setSources({
    resources: () => loadSummary,
    blockedDeletes: () => blocked,
    ipam: () => ipam.stats(),
    reconcile: () => engine.stats,
    isWriter: () => writer.isWriter(),
    rows: () => engine.counts(),
    ovsdb: () => [
      { database: 'OVN_Northbound', online: client.isOnline, traffic: client.stats() },
      ...(nodeWork
        ? [{ database: 'Open_vSwitch', online: nodeWork.ovs.isOnline, traffic: nodeWork.ovs.stats() }]
        : []),
      ...(nodeWork?.sb
        ? [{ database: 'OVN_Southbound', online: nodeWork.sb.isOnline, traffic: nodeWork.sb.stats() }]
        : []),
    ],
    ports: () => ports.size,
  });

  const agent: Agent = {
    engine,
    metrics,
    blockedDeletes: () => blocked,
    writer,
    client,
    ipam,
    loaded,
    get ports() {
      return nodeWork?.ports;
    },
    get ovs() {
      return nodeWork?.ovs;
    },
    nodeResult: () => nodeWork?.last(),
    nodeSettled: () => nodeWork?.settled() ?? Promise.resolve(),
    async start() {
      await client.start();
      await client.ready();
      if (config.ovs) {
        nodeWork = await startNodeWork(
          {
            log,
            metrics,
            nb: client,
            ipam,
            ports,
            resources: () => resources,
            loaded,
            isWriter: () => writer.isWriter(),
            publish: async () => {
              // Built when the pass starts, so the port requests that arrive while a pass runs
              // share one build and one transaction. A request is waiting: run the pass now
              // rather than after the debounce.
              if (resources) engine.setDesired(buildDesired, { complete: manifestsComplete });
              engine.trigger('ports', 0);
              await engine.settled();
            },
          },
          { ...config, ovs: config.ovs },
        );
      }
      if (config.apiSocket && !nodeWork?.ports) throw new Error('the local API (ports) needs --ovs and --sb');
      engine.start();
      writer.start();
      watcher = watchManifests(config.manifests, {
        onChange: (result) => {
          loads = loads
            .then(() => applyLoad(result))
            .catch((err: unknown) => log.warn({ err }, 'manifest load failed'));
        },
        onError: (err) => log.warn({ err }, 'manifest check failed'),
        pollIntervalMs: config.pollMs,
      });
      await watcher.ready;
      await loads;
      if (config.apiSocket && nodeWork?.ports)
        api = await createApiServer(
          { ports: nodeWork.ports, log: log.child({ module: 'api' }) },
          config.apiSocket,
        );
      if (config.listen)
        http = await createDebugServer(
          { health: () => agentHealth(), debug: () => agent.debug(), registry: metrics.registry },
          config.listen,
        );
      log.info(
        { manifests: config.manifests, node: config.node, listen: http?.address, api: api?.socket },
        'agent started',
      );
    },
    async stop() {
      watcher?.close();
      await loads;
      await api?.close();
      await http?.close();
      await nodeWork?.settled();
      await engine.stop();
      await writer.stop().catch(() => undefined);
      await nodeWork?.close();
      await client.close();
    },
    debug() {
      const counts = engine.counts();
      return {
        node: config.node,
        writer: writer.isWriter(),
        nbRemote: client.remote,
        online: client.isOnline,
        desired: counts.desired,
        actual: counts.owned,
        reconcile: { ...engine.stats, health: engine.health() },
        problems: engine.problems(),
        resources: Object.fromEntries(engine.status()),
        validationErrors: lastErrors,
        blockedDeletes: blocked,
        heldEdits: held,
        buildWarnings: warnings,
        ipam: ipam.stats().map((s) => ({
          ...s,
          size: String(s.size),
          allocatable: String(s.allocatable),
          available: String(s.available),
        })),
        valid: resources ? { vpcs: resources.vpcs.size, subnets: resources.subnets.size } : undefined,
        ports: ports.size,
        nodeWork: nodeWork?.debug(),
      };
    },
    address: () => http?.address,
  };

  function agentHealth(): { ok: boolean; detail: Record<string, unknown> } {
    const h = engine.health();
    const ok = client.isOnline && (h.healthy || !writer.isWriter());
    return { ok, detail: { online: client.isOnline, writer: writer.isWriter(), reconcile: h } };
  }
  return agent;
}
