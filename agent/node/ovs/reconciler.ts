/**
 * The node's Open_vSwitch reconciler: resources → desired state (./desired.ts, pure) → diff
 * against the monitor cache (./plan.ts, pure) → one transaction through `OvsdbClient.run`, which
 * rebuilds the plan from a fresh cache when the outcome was unknown or a verify failed (the OVS
 * IDL pattern, see ovsdb/client/run.ts). A converged pass sends nothing.
 *
 * Contract: `reconcile` is idempotent; it touches only rows marked with its owner (and its own
 * pairs of `ovn-bridge-mappings`); it removes what it owns but no longer wants only when told it
 * may prune (the snapshot is complete); problems (missing NIC, a name taken by a foreign row, a
 * mapping conflict) are returned per resource and field and the provider network concerned is
 * left out on this node — the rest is still applied.
 */
import { listLinks, rtnl } from '../../../netlink/index.js';
import type { ClientMonitorConfig, DatabaseCache, OvsdbClient } from '../../../ovsdb/index.js';
import { DEFAULT_OWNER } from '../../nb/desired.js';
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

export interface NodeOvsReconciler {
  /** One pass; `prune: false` (an incomplete snapshot) removes nothing the agent owns. */
  reconcile(resources: ResourceSet, opts?: { prune?: boolean }): Promise<NodeOvsResult>;
  /** Owned interfaces that ovs-vswitchd could not open (`Interface.error`), by name. */
  interfaceErrors(): Record<string, string>;
  /** The last result, for `/debug`. */
  last(): NodeOvsResult | undefined;
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

export function createNodeOvsReconciler(opts: NodeOvsReconcilerOptions): NodeOvsReconciler {
  const owner = opts.owner ?? DEFAULT_OWNER;
  let lastResult: NodeOvsResult | undefined;

  async function reconcile(
    resources: ResourceSet,
    passOpts: { prune?: boolean } = {},
  ): Promise<NodeOvsResult> {
    const prune = passOpts.prune ?? true;
    await opts.client.ready();
    const checkLinks = opts.checkLinks !== false;
    const move = checkLinks && opts.moveUplinkL3 !== false;
    const list = checkLinks ? await listLinks(rtnl(opts.netns)) : [];
    const links = checkLinks ? new Set(list.map((l) => l.name)) : undefined;
    const macs = move ? new Map(list.flatMap((l) => (l.mac ? [[l.name, l.mac] as const] : []))) : undefined;
    const build = (cache: DatabaseCache) =>
      buildNodeOvs(resources, {
        node: opts.node,
        datapathType: resolveDatapathType(cache, opts.datapathType),
        ...(links ? { links } : {}),
        ...(macs ? { macs } : {}),
      });
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
    if (move) {
      // Before the bridge goes (and its internal port with it), give the addresses back.
      const going = prune ? bridgesGoingAway(opts.client.cache, build(opts.client.cache), owner) : [];
      for (const gone of going) {
        // A NIC that vanished has nothing to take its addresses back.
        for (const nic of gone.uplinks.filter((n) => links?.has(n)))
          await tryMove(`Bridge/${gone.bridge}`, 'uplink', gone.bridge, nic);
      }
    }
    let plan: NodeOvsPlan | undefined;
    let desired: NodeOvsDesired | undefined;
    const res = await opts.client.run((cache: DatabaseCache) => {
      const datapathType = resolveDatapathType(cache, opts.datapathType);
      desired = build(cache);
      plan = planNodeOvs(cache, desired, {
        owner,
        prune,
        ...(opts.ensureIntegrationBridge ? { integrationBridge: { datapathType } } : {}),
      });
      return plan.ops;
    });
    if (!plan || !desired) throw new Error('unreachable: the builder always runs at least once');
    if (move) {
      const skipped = new Set(plan.problems.map((p) => p.resource));
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

  return { reconcile, interfaceErrors, last: () => lastResult };
}
