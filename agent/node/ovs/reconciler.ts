/**
 * The node's Open_vSwitch reconciler: resources → desired state (./desired.ts, pure) → diff
 * against the monitor cache (./plan.ts, pure) → one transaction through `OvsdbClient.run`, which
 * rebuilds the plan from a fresh cache when the outcome was unknown or a verify failed (the OVS
 * IDL pattern, see ovsdb/client/run.ts). A converged pass sends nothing.
 *
 * Contract: `reconcile` is idempotent; it touches only rows marked with its owner (and its own
 * pairs of `ovn-bridge-mappings`); problems (missing NIC, a name taken by a foreign row, a
 * mapping conflict) are returned per resource and field and the provider network concerned is
 * left out on this node — the rest is still applied.
 */
import { listLinks, rtnl } from '../../../netlink/index.js';
import type { ClientMonitorConfig, DatabaseCache, OvsdbClient } from '../../../ovsdb/index.js';
import { DEFAULT_OWNER } from '../../nb/desired.js';
import type { ResourceSet } from '../../resources/index.js';
import { buildNodeOvs, type NodeOvsDesired, type NodeOvsProblem } from './desired.js';
import { isOwned, planNodeOvs, resolveDatapathType, type NodeOvsPlan } from './plan.js';

/**
 * What the reconciler needs monitored in the Open_vSwitch database. Only configuration columns:
 * the ephemeral `statistics`/`status` columns vswitchd rewrites every few seconds would wake
 * the cache for nothing.
 */
export const NODE_OVS_MONITOR: ClientMonitorConfig = {
  tables: {
    Open_vSwitch: { columns: ['bridges', 'external_ids'] },
    Bridge: { columns: ['name', 'datapath_type', 'fail_mode', 'ports', 'external_ids'] },
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
}

export interface NodeOvsReconciler {
  reconcile(resources: ResourceSet): Promise<NodeOvsResult>;
  /** Owned interfaces that ovs-vswitchd could not open (`Interface.error`), by name. */
  interfaceErrors(): Record<string, string>;
  /** The last result, for `/debug`. */
  last(): NodeOvsResult | undefined;
}

/** Link names in `netns` (the host when undefined). */
export async function linkNames(netns?: string): Promise<Set<string>> {
  return new Set((await listLinks(rtnl(netns))).map((l) => l.name));
}

export function createNodeOvsReconciler(opts: NodeOvsReconcilerOptions): NodeOvsReconciler {
  const owner = opts.owner ?? DEFAULT_OWNER;
  let lastResult: NodeOvsResult | undefined;

  async function reconcile(resources: ResourceSet): Promise<NodeOvsResult> {
    await opts.client.ready();
    const links = opts.checkLinks === false ? undefined : await linkNames(opts.netns);
    let plan: NodeOvsPlan | undefined;
    let desired: NodeOvsDesired | undefined;
    const res = await opts.client.run((cache: DatabaseCache) => {
      const datapathType = resolveDatapathType(cache, opts.datapathType);
      desired = buildNodeOvs(resources, { node: opts.node, datapathType, links });
      plan = planNodeOvs(cache, desired, {
        owner,
        ...(opts.ensureIntegrationBridge ? { integrationBridge: { datapathType } } : {}),
      });
      return plan.ops;
    });
    if (!plan || !desired) throw new Error('unreachable: the builder always runs at least once');
    lastResult = {
      sent: res.ops !== undefined,
      ops: res.ops?.length ?? 0,
      changes: plan.changes,
      problems: plan.problems,
      desired,
      attempts: res.attempts,
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
