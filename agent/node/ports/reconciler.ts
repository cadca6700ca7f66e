/**
 * The ports reconciler: this node's workload ports as desired state, in the one shape
 * (agent/reconcile/reconciler.ts).
 *
 * - desired: the snapshot in effect (its Subnets). The ports themselves are this node's LSPs in
 *   Northbound (owner `<owner>/node/<node>`, ./nb-ports.ts) — the truth that survives a reboot;
 * - plan: which ports this pass looks at — those the drift events named since the last pass,
 *   or every port on start, resync, new resources and after a failure — and which recorded OVS
 *   ports have lost their LSP;
 * - apply, per port: the LSP's derived columns (DHCP options, port security) repaired in
 *   Northbound, then the host state made complete (./host.ts: veth, address, route, OVS port).
 *   A port whose namespace is gone is reported (`pending`) and kept: the workload may come back
 *   (a CNI ADD after a reboot), and a DEL removes it. Then the prune: OVS ports this agent
 *   recorded whose LSP is gone (and only those) lose their veth and OVS port. Ports with a
 *   request in flight are left to the request;
 * - status: per port (`ready`, `pending` with the reason, `error`).
 *
 * Contract: idempotent (a second pass changes nothing); deleting what is gone succeeds; it
 * prunes only what it owns (its Interface records), and only after Northbound is synced (the
 * runner passes only while NB is online).
 */
import { netnsExists } from '../../../netlink/index.js';
import type { ChangeBatch, OvsdbClient, RowChange } from '../../../ovsdb/index.js';
import type { Snapshot } from '../../pipeline/snapshot.js';
import type { ObjectStatus, PassContext, Reconciler } from '../../reconcile/reconciler.js';
import { planAdoption } from './adopt.js';
import { ensureHost, removeHost, type HostContext } from './host.js';
import { externalIds, OWNER_KEY } from '../../ownership.js';
import { nbPortDrift, ovsPortDrift, type PortDrift } from './drift.js';
import { nodePortOf, nodePortsFromNb, planPortWrite, type NodePort } from './nb-ports.js';
import { localPorts, type LocalPortRecord } from './ovs.js';
import type { KeyedSerial } from './serial.js';

export interface PortsPassResult {
  repaired: string[];
  pruned: string[];
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

/** One pass's plan: the ports to look at and the recorded OVS ports whose LSP is gone. */
export interface PortsPlan {
  snapshot: Snapshot;
  /** Every port was looked at (adoption and status clean-up run too). */
  full: boolean;
  check: NodePort[];
  prune: LocalPortRecord[];
}

export interface PortsReconciler extends Reconciler<Snapshot, Snapshot, PortsPlan, PortsPassResult> {
  /** The ports whose status is kept, by LSP name. */
  status(): ReadonlyMap<string, ObjectStatus>;
}

/** Triggers after which a pass looks at every port (an address deleted in a VM has no event). */
const FULL_REASONS = ['start', 'resync', 'desired', 'once'];

export function createPortsReconciler(
  deps: PortsReconcilerDeps,
  config: PortsReconcilerConfig,
): PortsReconciler {
  const status = new Map<string, ObjectStatus>();
  /** Ports the events named since the last pass; undefined = look at every port. */
  let dirty: Set<string> | undefined;
  const markDirty = (name: string | undefined) => {
    if (name === undefined) dirty = undefined;
    // A port with a request in flight is that request's to make whole: the changes it makes
    // itself (its LSP, its OVS rows) would otherwise bring it back for a repair right after.
    else if (!deps.busy.has(name)) dirty?.add(name);
  };
  /** This node's port `name` as NB holds it now (one index lookup). */
  const nodePort = (name: string) => {
    const row = deps.nb.cache.lookup('Logical_Switch_Port', 'name', name)[0];
    return row && externalIds(row)[OWNER_KEY] === config.nodeOwnerId ? nodePortOf(row) : undefined;
  };
  const at = () => new Date().toISOString();

  async function plan(snapshot: Snapshot, ctx: PassContext): Promise<PortsPlan> {
    if (FULL_REASONS.some((r) => ctx.reasons.has(r))) dirty = undefined;
    const only = dirty;
    dirty = new Set();
    const full = only === undefined;
    // Ports of an earlier release on this chassis become this node's first.
    if (full)
      await deps.nb.run((cache) => planAdoption(cache, deps.host.ovs.cache, config), { waitForCache: true });
    const desired = nodePortsFromNb(deps.nb.cache, config.nodeOwnerId);
    return {
      snapshot,
      full,
      // A retained VM port and an address-only reservation have no host state to keep.
      check: [...desired.values()].filter((p) => !hostless(p) && (!only || only.has(p.name))),
      prune: localPorts(deps.host.ovs.cache, deps.host.owner).filter((rec) => {
        const p = desired.get(rec.lsp);
        return (!p || hostless(p)) && (!only || only.has(rec.lsp));
      }),
    };
  }

  async function checkPort(p0: NodePort, snapshot: Snapshot, repaired: string[]): Promise<unknown> {
    let failure: unknown;
    await deps.perNetns(p0.netns, async () => {
      // Re-read under the lock: a request may have changed or removed the port meanwhile.
      const p = nodePort(p0.name);
      if (!p || deps.busy.has(p.name)) return;
      const subnet = snapshot.resources.subnets.get(p.subnet);
      if (!subnet) {
        status.set(p.name, { state: 'pending', message: `subnet ${p.subnet} is not in effect`, at: at() });
        return;
      }
      if (!netnsExists(p.netns)) {
        status.set(p.name, {
          state: 'pending',
          message: `network namespace ${p.netns} does not exist`,
          at: at(),
        });
        return;
      }
      try {
        const v4 = subnet.spec.cidr.family === 4;
        const nbRes = await deps.nb.run(
          (cache) => planPortWrite(cache, { owner: config.owner, nodeOwnerId: config.nodeOwnerId, v4 }, p),
          { waitForCache: true },
        );
        const changed = await ensureHost(deps.host, p, subnet);
        if (changed || nbRes.ops !== undefined) repaired.push(p.name);
        status.set(p.name, { state: 'ready', at: at() });
      } catch (err) {
        failure = err;
        status.set(p.name, {
          state: 'error',
          message: err instanceof Error ? err.message : String(err),
          at: at(),
        });
      }
    });
    return failure;
  }

  async function apply(p: PortsPlan): Promise<PortsPassResult> {
    const out: PortsPassResult = { repaired: [], pruned: [] };
    if (p.full) {
      const wanted = new Set(p.check.map((x) => x.name));
      for (const k of status.keys()) if (!wanted.has(k)) status.delete(k);
    }
    let firstError: unknown;
    for (const port of p.check) firstError ??= await checkPort(port, p.snapshot, out.repaired);
    for (const rec of p.prune) {
      await deps.perNetns(rec.netns, async () => {
        // Only if still not wanted, under the lock (an add may have written it since).
        const now = nodePort(rec.lsp);
        if (deps.busy.has(rec.lsp) || (now && !hostless(now))) return;
        await removeHost(deps.host, rec.lsp, rec.netns);
        status.delete(rec.lsp);
        out.pruned.push(rec.lsp);
      });
    }
    if (firstError) {
      dirty = undefined; // the retry looks at everything
      throw firstError;
    }
    return out;
  }

  return {
    name: 'ports',
    desired: (snapshot) => snapshot,
    plan,
    apply,
    status: () => status,
    // A change to this node's LSPs, its OVS ports, a switch or DHCP options row (re)created
    // (./drift.ts: only what the agent writes).
    drift(trigger) {
      const follow = (drift: (ch: RowChange) => PortDrift, reason: string) => (batch: ChangeBatch) => {
        let any = false;
        for (const ch of batch.changes) {
          const d = drift(ch);
          if (d.kind === 'none') continue;
          any = true;
          markDirty(d.kind === 'port' ? d.lsp : undefined);
        }
        if (any) trigger(reason);
      };
      const offOvs = deps.host.ovs.cache.onChange(follow(ovsPortDrift, 'ovs'));
      const offNb = deps.nb.cache.onChange(follow((ch) => nbPortDrift(ch, config.nodeOwnerId), 'nb'));
      return () => {
        offOvs();
        offNb();
      };
    },
  };
}

/** A port whose LSP is all there is: a VM's retained port, an address-only reservation. */
const hostless = (p: NodePort) => p.retained === true || p.ipamOnly === true;
