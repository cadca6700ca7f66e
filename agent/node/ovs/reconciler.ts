/**
 * The node's Open_vSwitch reconciler, in the one shape (agent/reconcile/reconciler.ts):
 * - desired: the snapshot's resources;
 * - plan: the node's links read over netlink, the rows those resources want on this node
 *   (./desired.ts, pure) and their diff against the monitor cache (./plan.ts, pure);
 * - apply: uplink addresses moved, then one transaction through `OvsdbClient.run`, which
 *   re-plans from a fresh cache when the outcome was unknown or a verify failed (the OVS IDL
 *   pattern, see ovsdb/client/run.ts). A converged pass sends nothing;
 * - status: per ProviderNetwork/Vlan, `degraded` with its problem.
 *
 * Contract: `reconcile` is idempotent; it touches only rows marked with its owner (and its own
 * pairs of `ovn-bridge-mappings`); it removes what it owns but no longer wants only when told it
 * may prune (the snapshot is complete); problems (missing NIC, a name taken by a foreign row, a
 * mapping conflict) are returned per resource and field and the provider network concerned is
 * left out on this node — the rest is still applied.
 */
import { listLinks, rtnl } from '../../../netlink/index.js';
import type { ClientMonitorConfig, DatabaseCache, OvsdbClient, RowChange } from '../../../ovsdb/index.js';
import { DEFAULT_OWNER, ROW_KEY } from '../../nb/desired.js';
import { PORT_ROW_KEY_PREFIX } from '../ports/ovs.js';
import type { Snapshot } from '../../pipeline/snapshot.js';
import {
  statusOf,
  type ObjectStatus,
  type PassContext,
  type Reconciler,
} from '../../reconcile/reconciler.js';
import type { ResourceSet } from '../../resources/index.js';
import { buildNodeOvs, INTEGRATION_BRIDGE, type NodeOvsDesired, type NodeOvsProblem } from './desired.js';
import { moveL3, type MoveL3Report } from './uplink.js';
import { isOwned, planNodeOvs, resolveDatapathType, type NodeOvsPlan } from './plan.js';

/**
 * What the reconciler needs monitored in the Open_vSwitch database. Only configuration columns:
 * the ephemeral `statistics`/`status` columns vswitchd rewrites every few seconds would wake
 * the cache for nothing.
 */
export const NODE_OVS_MONITOR: ClientMonitorConfig = {
  tables: {
    Open_vSwitch: { columns: ['bridges', 'external_ids'] },
    Bridge: { columns: ['name', 'datapath_type', 'fail_mode', 'ports', 'other_config', 'external_ids'] },
    Port: { columns: ['name', 'interfaces', 'trunks', 'tag', 'vlan_mode', 'external_ids'] },
    Interface: { columns: ['name', 'type', 'external_ids', 'error'] },
  },
};

export interface NodeOvsReconcilerOptions {
  /** A client of this node's Open_vSwitch database, monitoring at least {@link NODE_OVS_MONITOR}. */
  client: OvsdbClient;
  /** This node's name (Kube-OVN node name; matched in `excludeNodes`/`customInterfaces`). */
  node: string;
  /** Owner id in `external_ids:vpc-agent.io/owner` (default `vpc-agent`). */
  owner?: string;
  /** `datapath_type` of provider bridges; default: br-int's (then `ovn-bridge-datapath-type`). */
  datapathType?: string;
  /** Network namespace holding the node's NICs (undefined: the agent's own, i.e. the host). */
  netns?: string;
  /** Check that each uplink NIC exists before using it (default true). */
  checkLinks?: boolean;
  /** Create br-int when missing (default false: ovn-controller or the installer creates it). */
  ensureIntegrationBridge?: boolean;
  /**
   * Move each uplink's addresses and routes to its bridge (and back before the bridge is
   * removed), and give the bridge the uplink's MAC — as Kube-OVN does. Default true; needs
   * `checkLinks`. See ./uplink.ts and docs/node.md.
   */
  moveUplinkL3?: boolean;
}

export interface NodeOvsResult {
  /** True when a transaction was committed. */
  sent: boolean;
  /** Operations in the committed transaction (0 when converged). */
  ops: number;
  changes: string[];
  problems: NodeOvsProblem[];
  desired: NodeOvsDesired;
  attempts: number;
  /** Addresses/routes moved in this pass (NIC → bridge, or back before a bridge was removed). */
  moves: MoveL3Report[];
}

/** Owned provider bridges that `desired` no longer has, with their owned uplink port names. */
export function bridgesGoingAway(
  cache: DatabaseCache,
  desired: NodeOvsDesired,
  owner: string,
): { bridge: string; uplinks: string[] }[] {
  const out: { bridge: string; uplinks: string[] }[] = [];
  for (const br of cache.rows('Bridge')) {
    const name = String(br['name']);
    if (!isOwned(br, owner) || name === INTEGRATION_BRIDGE || desired.bridges.has(name)) continue;
    const uplinks = (br['ports'] as string[])
      .map((u) => cache.get('Port', u))
      .filter((p) => p !== undefined && isOwned(p, owner) && p['name'] !== name)
      .map((p) => String(p?.['name']));
    out.push({ bridge: name, uplinks });
  }
  return out;
}

/** One pass's plan: what to move, the first diff and the cache it was made from. */
export interface NodeOvsPassPlan {
  resources: ResourceSet;
  prune: boolean;
  links: Set<string> | undefined;
  macs: Map<string, string> | undefined;
  /** Owned bridges going away, whose uplink addresses go back to the NIC first. */
  going: { bridge: string; uplinks: string[] }[];
  desired: NodeOvsDesired;
  first: NodeOvsPlan;
  cache: DatabaseCache;
  seqno: number;
}

export interface NodeOvsReconciler extends Reconciler<
  Snapshot | ResourceSet,
  ResourceSet,
  NodeOvsPassPlan,
  NodeOvsResult
> {
  /** One pass (plan + apply); `prune: false` (an incomplete snapshot) removes nothing the agent owns. */
  reconcile(resources: ResourceSet, opts?: { prune?: boolean }): Promise<NodeOvsResult>;
  /** Owned interfaces that ovs-vswitchd could not open (`Interface.error`), by name. */
  interfaceErrors(): Record<string, string>;
  /** The last result, for `/debug`. */
  last(): NodeOvsResult | undefined;
}

/** Tables whose changes can undo what the node reconciler made (bridges, trunks, mappings). */
const DRIFT_TABLES = new Set(['Open_vSwitch', 'Bridge', 'Port', 'Interface']);

/**
 * Columns ovs-vswitchd rewrites by itself (counters, link state, the applied-config sequence):
 * a client monitoring them (metrics, port readiness) must not wake a pass every few seconds.
 */
const RUNTIME_COLUMNS = new Set([
  'statistics',
  'status',
  'link_state',
  'link_speed',
  'link_resets',
  'admin_state',
  'duplex',
  'mtu',
  'ofport',
  'lacp_current',
  'cur_cfg',
  'next_cfg',
]);

/** A change that can undo the reconciler's work: a row added or removed, or a configuration column edited. */
export function isDrift(ch: RowChange): boolean {
  if (!DRIFT_TABLES.has(ch.table)) return false;
  // Workload ports are the ports reconciler's (agent/node/ports), and br-int's port list changes
  // with every one of them: neither is this reconciler's to look at (a burst of VMs would wake a
  // pass, and a list of every link on the node, per port).
  const row = ch.new ?? ch.old;
  const key = (row?.['external_ids'] as Record<string, string> | undefined)?.[ROW_KEY];
  if ((ch.table === 'Port' || ch.table === 'Interface') && key?.startsWith(PORT_ROW_KEY_PREFIX)) return false;
  const brIntPortsOnly = (col: string) =>
    ch.table === 'Bridge' && col === 'ports' && row?.['name'] === INTEGRATION_BRIDGE;
  if (ch.kind !== 'update' || !ch.old || !ch.new) return true;
  for (const col of Object.keys(ch.new)) {
    if (RUNTIME_COLUMNS.has(col) || col === '_uuid' || brIntPortsOnly(col)) continue;
    const a = ch.old[col];
    const b = ch.new[col];
    if (a !== b && JSON.stringify(a) !== JSON.stringify(b)) return true;
  }
  return false;
}

export function createNodeOvsReconciler(opts: NodeOvsReconcilerOptions): NodeOvsReconciler {
  const owner = opts.owner ?? DEFAULT_OWNER;
  const checkLinks = opts.checkLinks !== false;
  const move = checkLinks && opts.moveUplinkL3 !== false;
  let lastResult: NodeOvsResult | undefined;
  let status = new Map<string, ObjectStatus>();

  const build = (p: Pick<NodeOvsPassPlan, 'resources' | 'links' | 'macs'>, cache: DatabaseCache) =>
    buildNodeOvs(p.resources, {
      node: opts.node,
      datapathType: resolveDatapathType(cache, opts.datapathType),
      ...(p.links ? { links: p.links } : {}),
      ...(p.macs ? { macs: p.macs } : {}),
    });
  const diff = (cache: DatabaseCache, desired: NodeOvsDesired, prune: boolean) =>
    planNodeOvs(cache, desired, {
      owner,
      prune,
      ...(opts.ensureIntegrationBridge
        ? { integrationBridge: { datapathType: resolveDatapathType(cache, opts.datapathType) } }
        : {}),
    });

  async function plan(resources: ResourceSet, ctx: Pick<PassContext, 'prune'>): Promise<NodeOvsPassPlan> {
    await opts.client.ready();
    const list = checkLinks ? await listLinks(rtnl(opts.netns)) : [];
    const links = checkLinks ? new Set(list.map((l) => l.name)) : undefined;
    const macs = move ? new Map(list.flatMap((l) => (l.mac ? [[l.name, l.mac] as const] : []))) : undefined;
    const cache = opts.client.cache;
    const desired = build({ resources, links, macs }, cache);
    return {
      resources,
      prune: ctx.prune,
      links,
      macs,
      going: move && ctx.prune ? bridgesGoingAway(cache, desired, owner) : [],
      desired,
      first: diff(cache, desired, ctx.prune),
      cache,
      seqno: cache.seqno,
    };
  }

  async function apply(p: NodeOvsPassPlan): Promise<NodeOvsResult> {
    const moves: MoveL3Report[] = [];
    const moveProblems: NodeOvsProblem[] = [];
    const tryMove = async (resource: string, field: string, from: string, to: string) => {
      try {
        const r = await moveL3({ netns: opts.netns, from, to });
        if (r.addresses.length + r.routes.length > 0) moves.push(r);
      } catch (err) {
        const message = `${err instanceof Error ? err.message : String(err)}`;
        moveProblems.push({ code: 'UPLINK_MOVE_FAILED', resource, field, message });
      }
    };
    // Before the bridge goes (and its internal port with it), give the addresses back; a NIC
    // that vanished has nothing to take them.
    for (const gone of p.going)
      for (const nic of gone.uplinks.filter((n) => p.links?.has(n)))
        await tryMove(`Bridge/${gone.bridge}`, 'uplink', gone.bridge, nic);
    let desired = p.desired;
    let plan = p.first;
    const res = await opts.client.run((cache: DatabaseCache) => {
      // The plan made a moment ago holds while the cache is unchanged; a rebuild re-plans.
      if (cache !== p.cache || cache.seqno !== p.seqno) {
        desired = build(p, cache);
        plan = diff(cache, desired, p.prune);
      }
      return plan.ops;
    });
    if (move) {
      const skipped = new Set(plan.problems.map((x) => x.resource));
      for (const d of desired.bridges.values()) {
        if (!skipped.has(d.resource)) await tryMove(d.resource, d.uplink.field, d.uplink.name, d.bridge);
      }
    }
    lastResult = {
      sent: res.ops !== undefined,
      ops: res.ops?.length ?? 0,
      changes: plan.changes,
      problems: [...plan.problems, ...moveProblems],
      desired,
      attempts: res.attempts,
      moves,
    };
    const objects = new Set([...desired.bridges.values()].map((b) => b.resource));
    for (const x of lastResult.problems) if (x.resource) objects.add(x.resource);
    status = statusOf(objects, lastResult.problems);
    return lastResult;
  }

  function interfaceErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const row of opts.client.cache.rows('Interface')) {
      const err = row['error'];
      if (isOwned(row, owner) && typeof err === 'string' && err !== '') out[String(row['name'])] = err;
    }
    return out;
  }

  return {
    name: 'node-ovs',
    desired: (input) => ('resources' in input && 'seq' in input ? input.resources : (input as ResourceSet)),
    plan,
    apply,
    status: () => status,
    // Anyone's change to the node's bridges, ports or root row (our own writes come back too:
    // one more pass that finds nothing to do).
    drift: (trigger) =>
      opts.client.cache.onChange((batch) => {
        if (batch.changes.some(isDrift)) trigger('drift');
      }),
    async reconcile(resources, passOpts = {}) {
      const prune = passOpts.prune ?? true;
      return apply(await plan(resources, { prune }));
    },
    interfaceErrors,
    last: () => lastResult,
  };
}
