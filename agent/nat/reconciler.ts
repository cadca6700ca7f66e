/**
 * The NAT gateway reconciler, in the one shape (agent/reconcile/reconciler.ts):
 * - desired: the EIP addresses the Northbound writer allocated (read before the build), then the
 *   pure build of the gateways this node runs (./desired.ts);
 * - plan: each gateway namespace observed (netlink, nft, sysctl) and diffed into steps
 *   (./observe.ts); owned namespaces no gateway wants are listed for removal when `ctx.prune`;
 * - apply: the steps in order (./apply.ts) — namespace, ownership marker, ip_forward, net1
 *   (injected `attachLan`), net2 (injected `attachWan`, default a macvlan of the NAD's master),
 *   its MAC, EIP addresses, routes, the nft table in one transaction with conntrack clean-up,
 *   gratuitous ARP; then removals. A converged pass does nothing;
 * - status: per VpcNatGateway, IptablesEIP (`ip`, `mac`, `nat`) and rule (`v4ip`), with the
 *   reason when not ready.
 *
 * Contract: idempotent (a second pass on the same input has no steps); deleting a gateway that
 * is already gone succeeds; it removes only namespaces named with its prefix that carry its
 * marker (`lo`'s alias `vpc-agent.io/owner=<owner> nat-gw=<name>`), and only while `ctx.prune`.
 * Whatever undoes its work — the namespace deleted, `nft flush ruleset`, an address or route
 * removed — is found by the next pass (drift on /run/netns, periodic resync) and rebuilt from
 * the resources with the same EIPs.
 */
import { watch, type FSWatcher } from 'node:fs';
import { NETNS_RUN_DIR } from '../../netlink/index.js';
import { AgentError } from '../errors.js';
import { DEFAULT_OWNER } from '../ownership.js';
import type { Snapshot } from '../pipeline/snapshot.js';
import type { ObjectStatus, PassContext, Reconciler } from '../reconcile/reconciler.js';
import type { ResourceSet } from '../resources/index.js';
import { removeGateway, runSteps, type GatewayMemory, type NatAttachments } from './apply.js';
import {
  buildNatDesired,
  NAT_NETNS_PREFIX,
  type NatDesired,
  type NatNode,
  type NatProblem,
} from './desired.js';
import { ensureHairpin, hairpinDesired } from './hairpin.js';
import { observe, ownedNamespaces, planGateway, type Step } from './observe.js';
import { NAT_TABLE } from './ruleset.js';

export interface NatReconcilerConfig {
  node: NatNode;
  /** Owner id in the namespace marker (default `vpc-agent`). */
  owner?: string;
  /** Namespace prefix (default `vpc-nat-gw-`; tests use their own). */
  netnsPrefix?: string;
  /** nft table name inside each namespace (default `vpc-nat-gw`). */
  table?: string;
  /**
   * With net2 as a macvlan: give the node a way to its own EIPs (./hairpin.ts) in `hostNetns`
   * (undefined: the agent's own namespace). Leave out when net2 is attached another way.
   */
  hairpin?: { hostNetns?: string };
  /**
   * Of the gateways this node's labels select, the ones it runs now (its placement election,
   * ./placement.ts); default: all of them. The others are left to the node that runs them.
   */
  runs?: (gateway: string) => boolean;
  /**
   * Addresses of EIPs without `v4ip`, as the Northbound writer allocated and recorded them
   * (agent/nb/eips.ts): stable across restarts and moves, never chosen on a node.
   */
  eipAddresses: () => ReadonlyMap<string, string>;
}

/** Status of one object, with Kube-OVN's status fields. */
export interface NatObjectStatus extends ObjectStatus {
  fields: Record<string, string | boolean>;
}

export interface NatPlan {
  desired: NatDesired;
  steps: Map<string, Step[]>;
  /** Owned namespaces to remove: namespace → gateway name. */
  remove: Map<string, string>;
}

export interface NatResult {
  /** Per gateway, what was done (empty when converged). */
  done: Map<string, string[]>;
  removed: string[];
  /** Node-side hairpin changes (shims, routes). */
  hairpin: string[];
  errors: Map<string, string>;
}

export interface NatReconciler extends Reconciler<Snapshot | ResourceSet, NatDesired, NatPlan, NatResult> {
  /** The EIP addresses chosen so far (for `/debug`; to be written back as status). */
  allocations(): ReadonlyMap<string, string>;
}

const isSnapshot = (x: Snapshot | ResourceSet): x is Snapshot => 'seq' in x && 'resources' in x;

export function createNatReconciler(deps: NatAttachments, config: NatReconcilerConfig): NatReconciler {
  const owner = config.owner ?? DEFAULT_OWNER;
  const prefix = config.netnsPrefix ?? NAT_NETNS_PREFIX;
  const table = config.table ?? NAT_TABLE;
  const memory = new Map<string, GatewayMemory>();
  let held: ReadonlyMap<string, string> = new Map();
  let status = new Map<string, NatObjectStatus>();

  function desired(input: Snapshot | ResourceSet): NatDesired {
    const set = isSnapshot(input) ? input.resources : input;
    // Addresses first (allocated by the writer, read here), then the pure build.
    held = config.eipAddresses();
    const d = buildNatDesired(set, config.node, { allocations: held, netnsPrefix: prefix });
    if (config.runs)
      for (const name of [...d.gateways.keys()]) if (!config.runs(name)) d.gateways.delete(name);
    return d;
  }

  async function plan(d: NatDesired, ctx: PassContext): Promise<NatPlan> {
    const steps = new Map<string, Step[]>();
    for (const gw of d.gateways.values()) {
      const obs = await observe(gw, table);
      steps.set(gw.name, planGateway(gw, obs, { owner, table, applied: memory.get(gw.name)?.applied }));
    }
    const remove = new Map<string, string>();
    if (ctx.prune) {
      const wanted = new Set([...d.gateways.values()].map((g) => g.netns));
      for (const [ns, name] of await ownedNamespaces(prefix, owner))
        if (!wanted.has(ns)) remove.set(ns, name);
    }
    return { desired: d, steps, remove };
  }

  async function apply(p: NatPlan, ctx: PassContext): Promise<NatResult> {
    const done = new Map<string, string[]>();
    const errors = new Map<string, string>();
    for (const gw of p.desired.gateways.values()) {
      const steps = p.steps.get(gw.name) ?? [];
      if (steps.length === 0) continue;
      const mem = memory.get(gw.name) ?? {};
      memory.set(gw.name, mem);
      try {
        done.set(gw.name, await runSteps(gw, steps, { table, deps, mem }));
      } catch (err) {
        errors.set(gw.name, err instanceof Error ? err.message : String(err));
      }
    }
    const removed: string[] = [];
    for (const [netns, name] of p.remove) {
      try {
        await removeGateway({ name, netns }, deps, table);
        memory.delete(name);
        removed.push(netns);
      } catch (err) {
        errors.set(name, err instanceof Error ? err.message : String(err));
      }
    }
    let hairpin: string[] = [];
    if (config.hairpin) {
      try {
        hairpin = await ensureHairpin(hairpinDesired(p.desired), {
          ...(config.hairpin.hostNetns === undefined ? {} : { hostNetns: config.hairpin.hostNetns }),
          prune: ctx.prune,
        });
      } catch (err) {
        errors.set('node-hairpin', err instanceof Error ? err.message : String(err));
      }
    }
    status = statusOf(p.desired, errors);
    if (errors.size > 0) {
      const list = [...errors].map(([g, m]) => `${g}: ${m}`).join('; ');
      throw new AgentError('ERR_NAT_APPLY', `NAT gateways not converged: ${list}`);
    }
    return { done, removed, hairpin, errors };
  }

  return {
    name: 'nat-gateways',
    desired,
    plan,
    apply,
    status: () => status,
    allocations: () => held,
    drift(trigger) {
      // A gateway namespace deleted or added behind our back. Rules flushed or addresses removed
      // inside a namespace are found by the periodic resync.
      let w: FSWatcher | undefined;
      try {
        w = watch(NETNS_RUN_DIR, (_event, file) => {
          if (file === null || String(file).startsWith(prefix)) trigger('drift');
        });
        w.on('error', () => undefined);
      } catch {
        /* no /run/netns yet: resync covers it */
      }
      return () => w?.close();
    },
  };
}

/** Per-object status from the build's problems and the pass's errors (exported for tests). */
export function statusOf(d: NatDesired, errors: ReadonlyMap<string, string>): Map<string, NatObjectStatus> {
  const at = new Date().toISOString();
  const out = new Map<string, NatObjectStatus>();
  const problem = (list: readonly NatProblem[], id: string) => list.find((p) => p.resource === id);
  const put = (id: string, fields: Record<string, string | boolean>, p?: NatProblem, err?: string) => {
    const message = err ?? (p ? `${p.code}: ${p.field ? `${p.field}: ` : ''}${p.message}` : undefined);
    const state = err ? 'error' : p ? (p.code === 'NAT_EIP_UNALLOCATED' ? 'pending' : 'degraded') : 'ready';
    out.set(id, {
      state,
      at,
      fields: { ...fields, ready: state === 'ready' },
      ...(message ? { message } : {}),
    });
  };
  for (const p of d.problems) put(p.resource, {}, p);
  for (const gw of d.gateways.values()) {
    const err = errors.get(gw.name);
    const gwProblem = problem(gw.problems, gw.resource);
    put(gw.resource, { netns: gw.netns, node: d.node, lanIp: gw.lan.ip }, gwProblem, err);
    for (const e of gw.eips) {
      const id = `IptablesEIP/${e.name}`;
      put(id, { ip: e.ip ?? '', mac: gw.wanMac, nat: e.nat.join(',') }, problem(gw.problems, id), err);
    }
    for (const r of gw.ruleObjects) put(r.id, { v4ip: r.v4ip ?? '' }, problem(gw.problems, r.id), err);
    for (const p of gw.problems) if (!out.has(p.resource)) put(p.resource, {}, p, err);
  }
  return out;
}
