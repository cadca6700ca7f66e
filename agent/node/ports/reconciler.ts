/**
 * The ports reconciler: this node's workload ports as desired state.
 *
 * - desired: this node's LSPs in Northbound (owner `<owner>/node/<node>`, ./nb-ports.ts) — the
 *   truth that survives a reboot — joined with the snapshot's Subnets;
 * - plan/apply, per port: the LSP's derived columns (DHCP options, port security) repaired in
 *   Northbound, then the host state made complete (./host.ts: veth, address, route, OVS port).
 *   A port whose namespace is gone is reported (`pending`) and kept: the workload may come
 *   back (a CNI ADD after a reboot), and a DEL removes it;
 * - prune: OVS ports this agent recorded whose LSP is gone (and only those) lose their veth and
 *   OVS port. Ports with a request in flight are left to the request.
 *
 * Contract: idempotent (a second pass changes nothing); deleting what is gone succeeds; it
 * prunes only rows it owns (its Interface records), and only after Northbound is synced.
 */
import { netnsExists } from '../../../netlink/index.js';
import type { OvsdbClient } from '../../../ovsdb/index.js';
import type { Snapshot } from '../../pipeline/snapshot.js';
import { planAdoption } from './adopt.js';
import { ensureHost, removeHost, type HostContext } from './host.js';
import { externalIds, OWNER_KEY } from '../../ownership.js';
import { nodePortOf, nodePortsFromNb, planPortWrite } from './nb-ports.js';
import { localPorts } from './ovs.js';
import type { KeyedSerial } from './serial.js';

export type PortState = 'ready' | 'pending' | 'error';
export interface PortStatus {
  state: PortState;
  message?: string;
}

export interface PortsPassResult {
  repaired: string[];
  pruned: string[];
  status: Map<string, PortStatus>;
}

export interface PortsReconcilerDeps {
  nb: OvsdbClient;
  host: HostContext;
  busy: ReadonlySet<string>;
  /** The lock port requests take per namespace: a repair never interleaves with a request. */
  perNetns: KeyedSerial;
}

export interface PortsReconcilerConfig {
  owner: string;
  nodeOwnerId: string;
  node: string;
  chassis: string;
}

export function createPortsReconciler(deps: PortsReconcilerDeps, config: PortsReconcilerConfig) {
  let last: PortsPassResult | undefined;
  /** This node's port `name` as NB holds it now (one index lookup). */
  const nodePort = (name: string) => {
    const row = deps.nb.cache.lookup('Logical_Switch_Port', 'name', name)[0];
    return row && externalIds(row)[OWNER_KEY] === config.nodeOwnerId ? nodePortOf(row) : undefined;
  };
  return {
    /** One pass against `snapshot` (the resources in effect). */
    /**
     * One pass against `snapshot` (the resources in effect). `only`: just these ports (an event
     * named them); a full pass (the periodic resync, new resources) looks at every port and prunes.
     */
    async reconcile(snapshot: Snapshot, only?: ReadonlySet<string>): Promise<PortsPassResult> {
      const out: PortsPassResult = { repaired: [], pruned: [], status: new Map(last?.status ?? []) };
      // Ports of an earlier release on this chassis become this node's first.
      if (!only)
        await deps.nb.run((cache) => planAdoption(cache, deps.host.ovs.cache, config), {
          waitForCache: true,
        });
      const desired = nodePortsFromNb(deps.nb.cache, config.nodeOwnerId);
      if (!only) for (const k of out.status.keys()) if (!desired.has(k)) out.status.delete(k);
      let firstError: unknown;
      for (const p0 of desired.values()) {
        if (only && !only.has(p0.name)) continue;
        await deps.perNetns(p0.netns, async () => {
          // Re-read under the lock: a request may have changed or removed the port meanwhile.
          const p = nodePort(p0.name);
          if (!p || deps.busy.has(p.name)) return;
          const subnet = snapshot.resources.subnets.get(p.subnet);
          if (!subnet) {
            out.status.set(p.name, { state: 'pending', message: `subnet ${p.subnet} is not in effect` });
            return;
          }
          if (!netnsExists(p.netns)) {
            out.status.set(p.name, {
              state: 'pending',
              message: `network namespace ${p.netns} does not exist`,
            });
            return;
          }
          try {
            const v4 = subnet.spec.cidr.family === 4;
            const nbRes = await deps.nb.run(
              (cache) =>
                planPortWrite(cache, { owner: config.owner, nodeOwnerId: config.nodeOwnerId, v4 }, p),
              { waitForCache: true },
            );
            const changed = await ensureHost(deps.host, p, subnet);
            if (changed || nbRes.ops !== undefined) out.repaired.push(p.name);
            out.status.set(p.name, { state: 'ready' });
          } catch (err) {
            firstError ??= err;
            out.status.set(p.name, {
              state: 'error',
              message: err instanceof Error ? err.message : String(err),
            });
          }
        });
      }
      for (const rec of localPorts(deps.host.ovs.cache, deps.host.owner)) {
        if (desired.has(rec.lsp) || (only && !only.has(rec.lsp))) continue;
        await deps.perNetns(rec.netns, async () => {
          // Only if still not wanted, under the lock (an add may have written it since).
          if (deps.busy.has(rec.lsp) || nodePort(rec.lsp)) return;
          await removeHost(deps.host, rec.lsp, rec.netns);
          out.pruned.push(rec.lsp);
        });
      }
      last = out;
      if (firstError) throw firstError;
      return out;
    },
    last: () => last,
  };
}

export type PortsReconciler = ReturnType<typeof createPortsReconciler>;
