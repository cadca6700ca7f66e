/**
 * What the agent writes back as each object's `status`, built from what it already knows (pure:
 * it reads nothing but its arguments). Field names follow Kube-OVN's status types, so the
 * columns and tools Kube-OVN users have keep working:
 *
 * - Subnet (the Northbound writer): `v4availableIPs`/`v4usingIPs` (numbers; `v6…` for an IPv6
 *   Subnet), `v4availableIPrange`/`v4usingIPrange` (`a-b,c`), conditions `Ready`, `Validated`;
 * - Vpc (the writer): `standby` (its router is in place), `default`, `defaultLogicalSwitch`,
 *   `router`, `subnets`, `vpcPeerings`, conditions `Ready`, `Validated`;
 * - every other kubeovn.io kind (the writer): condition `Validated`; a VpcNatGateway whose
 *   selector is empty (it runs on no node) also `Ready=False`;
 * - VpcNatGateway, IptablesEIP (`ready`, `ip`, `mac`, `nat`), Iptables{Snat,Dnat,FIP}Rule
 *   (`ready`, `v4ip`, `natGwDp`) — the node that runs the gateway: condition `Ready`.
 *
 * Each writer owns its condition types and fields and leaves the others' as they are
 * ({@link statusPatch} merges into the object's current status), so the writer's `Validated`
 * and a gateway node's `Ready` on the same EIP never undo each other.
 */
import { formatIp, tryParseIp, type Cidr } from '../../../netlink/inet.js';
import { formatIssue, ValidationError } from '../../errors.js';
import type { SubnetStats } from '../../ipam/index.js';
import { routerName } from '../../nb/build/names.js';
import type { Snapshot } from '../../pipeline/snapshot.js';
import type { ObjectStatus } from '../../reconcile/reconciler.js';
import { mergeRanges, reservedAddresses, type IpRange } from '../../resources/net.js';
import { allResources, DEFAULT_VPC, resourceKey, type Kind } from '../../resources/types.js';

export interface ObjectRef {
  kind: string;
  name: string;
  /** Namespaced kinds only. */
  namespace?: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, e.g. `Reconciled`, `ValidationFailed`. */
  reason: string;
  message: string;
}

/** One object's status as one writer wants it: only what that writer owns. */
export interface StatusIntent {
  ref: ObjectRef;
  fields: Record<string, unknown>;
  conditions: DesiredCondition[];
}

/** A Warning Event about one invalid field of one object. */
export interface EventIntent {
  ref: ObjectRef;
  field: string;
  reason: string;
  message: string;
}

export interface StatusInputs {
  node: string;
  /** This agent is the Northbound writer: it writes cluster-wide status. */
  writer: boolean;
  snapshot: Snapshot | undefined;
  /** The Northbound reconciler's per-resource status (`Subnet/a`, `Vpc/b`). */
  nb: ReadonlyMap<string, ObjectStatus>;
  ipam: { stats: readonly SubnetStats[]; allocations: readonly { subnet: string; ip: string }[] };
  /** The NAT reconciler's per-object status on this node (with Kube-OVN's fields). */
  nat: ReadonlyMap<string, ObjectStatus & { fields?: Record<string, string | boolean> }> | undefined;
}

/** The kubeovn.io kinds with a status subresource (NetworkAttachmentDefinitions have none). */
const STATUS_KINDS: ReadonlySet<string> = new Set<Kind>([
  'Vpc',
  'Subnet',
  'ProviderNetwork',
  'Vlan',
  'VpcNatGateway',
  'IptablesEIP',
  'IptablesSnatRule',
  'IptablesDnatRule',
  'IptablesFIPRule',
]);
const RULE_KINDS = new Set(['IptablesSnatRule', 'IptablesDnatRule', 'IptablesFIPRule']);

export const VALIDATION_REASON = 'ValidationFailed';

const refKey = (r: ObjectRef) => `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/**
 * `Ready` from a reconciler's state of the object; none while the reconciler has not seen it
 * (an agent that just became the writer leaves the last writer's word until its first pass).
 */
function readyConditions(st: ObjectStatus | undefined): DesiredCondition[] {
  return st ? [readyCondition(st)] : [];
}

function readyCondition(st: ObjectStatus): DesiredCondition {
  switch (st.state) {
    case 'ready':
      return { type: 'Ready', status: 'True', reason: 'Reconciled', message: '' };
    case 'pending':
      return {
        type: 'Ready',
        status: 'False',
        reason: 'Pending',
        message: st.message ?? 'not reconciled yet',
      };
    case 'degraded':
      return { type: 'Ready', status: 'False', reason: 'Degraded', message: st.message ?? '' };
    default:
      return { type: 'Ready', status: 'False', reason: 'ReconcileFailed', message: st.message ?? '' };
  }
}

/** `a-b,c` (Kube-OVN's range text) of sorted, merged ranges. */
export function rangeText(family: 4 | 6, ranges: readonly IpRange[]): string {
  return ranges
    .map((r) =>
      r.first === r.last
        ? formatIp(family, r.first)
        : `${formatIp(family, r.first)}-${formatIp(family, r.last)}`,
    )
    .join(',');
}

/** The addresses of `cidr` outside `holes` (merged). */
export function complement(cidr: Cidr, holes: readonly IpRange[]): IpRange[] {
  const out: IpRange[] = [];
  let next = cidr.first;
  for (const h of mergeRanges(holes)) {
    if (h.last < cidr.first || h.first > cidr.last) continue;
    if (h.first > next) out.push({ first: next, last: h.first - 1n });
    if (h.last + 1n > next) next = h.last + 1n;
  }
  if (next <= cidr.last) out.push({ first: next, last: cidr.last });
  return out;
}

/** Status intents of this agent: cluster-wide ones only while it is the writer; its NAT objects always. */
export function statusIntents(inp: StatusInputs): StatusIntent[] {
  const byKey = new Map<string, StatusIntent>();
  const add = (ref: ObjectRef, fields: Record<string, unknown>, conditions: DesiredCondition[]) => {
    const k = refKey(ref);
    const cur = byKey.get(k);
    if (!cur) byKey.set(k, { ref, fields, conditions });
    else {
      Object.assign(cur.fields, fields);
      cur.conditions.push(...conditions.filter((c) => !cur.conditions.some((d) => d.type === c.type)));
    }
  };
  const s = inp.snapshot;
  if (!s) return [];
  if (inp.writer) clusterIntents(inp, s, add);
  nodeIntents(inp, s, add);
  return [...byKey.values()];
}

type Add = (ref: ObjectRef, fields: Record<string, unknown>, conditions: DesiredCondition[]) => void;

/** Validation problems by object (`Kind/key`): the messages name the field. */
function invalidByObject(s: Snapshot): Map<string, { ref: ObjectRef; messages: string[] }> {
  const out = new Map<string, { ref: ObjectRef; messages: string[] }>();
  for (const e of s.errors) {
    if (!(e instanceof ValidationError) || !STATUS_KINDS.has(e.kind) || e.resourceName === '') continue;
    const ref: ObjectRef = { kind: e.kind, name: e.resourceName };
    const k = refKey(ref);
    const cur = out.get(k) ?? { ref, messages: [] };
    cur.messages.push(formatIssue(e.issue));
    out.set(k, cur);
  }
  return out;
}

function clusterIntents(inp: StatusInputs, s: Snapshot, add: Add): void {
  const invalid = invalidByObject(s);
  const validated = (k: string): DesiredCondition => {
    const bad = invalid.get(k);
    return bad
      ? { type: 'Validated', status: 'False', reason: VALIDATION_REASON, message: bad.messages.join('; ') }
      : { type: 'Validated', status: 'True', reason: 'Valid', message: '' };
  };
  const stats = new Map(inp.ipam.stats.map((x) => [x.subnet, x]));
  const used = new Map<string, bigint[]>();
  for (const a of inp.ipam.allocations) {
    const c = s.resources.subnets.get(a.subnet)?.spec.cidr;
    if (!c) continue;
    const ip = tryParseIp(a.ip);
    if (ip?.family !== c.family) continue;
    const list = used.get(a.subnet) ?? [];
    list.push(ip.value);
    used.set(a.subnet, list);
  }
  for (const r of allResources(s.resources)) {
    if (!STATUS_KINDS.has(r.kind) || (r.kind === 'Vpc' && r.implicit)) continue;
    const id = `${r.kind}/${resourceKey(r)}`;
    const ref: ObjectRef = { kind: r.kind, name: r.meta.name };
    if (r.kind === 'Subnet') {
      const fields: Record<string, unknown> = {};
      const st = stats.get(r.meta.name);
      const cidr = r.spec.cidr;
      const v = cidr.family === 4 ? 'v4' : 'v6';
      if (st) {
        const mine = (used.get(r.meta.name) ?? []).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const usedRanges = mergeRanges(mine.map((x) => ({ first: x, last: x })));
        const holes = [
          ...reservedAddresses(cidr).map((x) => ({ first: x, last: x })),
          { first: r.spec.gatewayValue, last: r.spec.gatewayValue },
          ...r.spec.excludeRanges,
          ...usedRanges,
        ];
        fields[`${v}availableIPs`] = Number(st.available);
        fields[`${v}usingIPs`] = st.used;
        fields[`${v}availableIPrange`] = rangeText(cidr.family, complement(cidr, holes));
        fields[`${v}usingIPrange`] = rangeText(cidr.family, usedRanges);
      }
      add(ref, fields, [...readyConditions(inp.nb.get(id)), validated(id)]);
    } else if (r.kind === 'Vpc') {
      const st = inp.nb.get(id);
      add(
        ref,
        {
          ...(st ? { standby: st.state === 'ready' } : {}),
          default: r.meta.name === DEFAULT_VPC,
          defaultLogicalSwitch: r.spec.defaultSubnet ?? '',
          router: routerName(r.meta.name),
          subnets: [...s.resources.subnets.values()]
            .filter((x) => x.spec.vpc === r.meta.name)
            .map((x) => x.meta.name)
            .sort(),
          vpcPeerings: r.spec.vpcPeerings.map((p) => p.remoteVpc),
        },
        [...readyConditions(st), validated(id)],
      );
    } else if (r.kind === 'VpcNatGateway' && r.spec.selector.length === 0) {
      // Runs on no node, so no node would say so: the writer does (from the spec alone).
      add(ref, {}, [
        {
          type: 'Ready',
          status: 'False',
          reason: 'NoNodeSelected',
          message: 'spec.selector is empty: the gateway runs on no node',
        },
        validated(id),
      ]);
    } else {
      add(ref, {}, [validated(id)]);
    }
    invalid.delete(id);
  }
  // Refused with no version in effect: only what validation says.
  for (const [, bad] of invalid) {
    const conditions: DesiredCondition[] = [
      { type: 'Validated', status: 'False', reason: VALIDATION_REASON, message: bad.messages.join('; ') },
    ];
    if (bad.ref.kind === 'Subnet' || bad.ref.kind === 'Vpc')
      conditions.unshift({
        type: 'Ready',
        status: 'False',
        reason: VALIDATION_REASON,
        message: 'not applied: the object is invalid',
      });
    add(bad.ref, {}, conditions);
  }
}

/** The gateway a NAT object belongs to: its own name, its EIP's `natGwDp`, or its rule's EIP's. */
function gatewayOf(s: Snapshot, kind: string, name: string): string | undefined {
  if (kind === 'VpcNatGateway') return name;
  const set = s.resources;
  if (kind === 'IptablesEIP') return set.eips.get(name)?.spec.natGwDp;
  const rule =
    kind === 'IptablesSnatRule'
      ? set.snatRules.get(name)
      : kind === 'IptablesDnatRule'
        ? set.dnatRules.get(name)
        : set.fipRules.get(name);
  return rule ? set.eips.get(rule.spec.eip)?.spec.natGwDp : undefined;
}

function nodeIntents(inp: StatusInputs, s: Snapshot, add: Add): void {
  if (!inp.nat) return;
  // The gateways this node runs: the ones its last NAT pass built a namespace for.
  const running = new Set<string>();
  for (const [id, st] of inp.nat)
    if (id.startsWith('VpcNatGateway/') && st.fields?.['netns'] !== undefined)
      running.add(id.slice('VpcNatGateway/'.length));
  for (const [id, st] of inp.nat) {
    const slash = id.indexOf('/');
    const kind = id.slice(0, slash);
    const name = id.slice(slash + 1);
    const gw = gatewayOf(s, kind, name);
    if (gw === undefined || !running.has(gw)) continue;
    const f = st.fields ?? {};
    const ready = st.state === 'ready';
    let fields: Record<string, unknown> = {};
    if (kind === 'IptablesEIP')
      fields = { ready, ip: String(f['ip'] ?? ''), mac: String(f['mac'] ?? ''), nat: String(f['nat'] ?? '') };
    else if (RULE_KINDS.has(kind)) fields = { ready, v4ip: String(f['v4ip'] ?? ''), natGwDp: gw };
    add({ kind, name }, fields, [readyCondition(st)]);
  }
}

/** One Warning Event per invalid field (the writer posts them; `/debug` shows the same errors). */
export function validationEvents(s: Snapshot | undefined): EventIntent[] {
  const out: EventIntent[] = [];
  for (const e of s?.errors ?? []) {
    if (!(e instanceof ValidationError) || e.kind === '' || e.resourceName === '') continue;
    out.push({
      ref: {
        kind: e.kind,
        name: e.resourceName,
        ...(e.namespace !== undefined ? { namespace: e.namespace } : {}),
      },
      field: e.field,
      reason: VALIDATION_REASON,
      message: e.message,
    });
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Equality of JSON data (what statuses are); several times faster than `isDeepStrictEqual` here. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * The merge patch of `status` that makes `current` carry `intent`, or undefined when it already
 * does. Conditions of other types are kept as they are (the list is replaced whole by a merge
 * patch); a condition whose status, reason, message and generation are unchanged keeps its
 * timestamps, so a converged object is never written again.
 */
export function statusPatch(
  intent: StatusIntent,
  current: Record<string, unknown> | undefined,
  generation: number | undefined,
  now: string,
): Record<string, unknown> | undefined {
  const cur = current ?? {};
  const patch: Record<string, unknown> = { ...intent.fields };
  if (intent.conditions.length > 0) {
    const existing = Array.isArray(cur['conditions']) ? cur['conditions'].filter(isObject) : [];
    const owned = new Map(intent.conditions.map((c) => [c.type, c]));
    const merged = (c: DesiredCondition, prev: Record<string, unknown> | undefined) => {
      const same =
        prev !== undefined &&
        prev['status'] === c.status &&
        prev['reason'] === c.reason &&
        prev['message'] === c.message &&
        prev['observedGeneration'] === generation;
      // One literal (spreading and then adding keys costs V8 a slow path, ~30x here).
      const updated = same ? prev['lastUpdateTime'] : now;
      const moved =
        prev !== undefined && prev['status'] === c.status && prev['lastTransitionTime'] !== undefined
          ? prev['lastTransitionTime']
          : now;
      const { type, status, reason, message } = c;
      const out: Record<string, unknown> =
        generation === undefined
          ? { type, status, reason, message, lastUpdateTime: updated, lastTransitionTime: moved }
          : {
              type,
              status,
              reason,
              message,
              observedGeneration: generation,
              lastUpdateTime: updated,
              lastTransitionTime: moved,
            };
      return same && jsonEqual(out, prev) ? prev : out;
    };
    const conditions: Record<string, unknown>[] = [];
    for (const prev of existing) {
      const c = owned.get(String(prev['type']));
      if (!c) conditions.push(prev);
      else {
        conditions.push(merged(c, prev));
        owned.delete(c.type);
      }
    }
    for (const c of owned.values()) conditions.push(merged(c, undefined));
    patch['conditions'] = conditions;
  }
  const differs = Object.keys(patch).some((k) => !jsonEqual(patch[k], cur[k]));
  return differs ? patch : undefined;
}

export { refKey as objectRefKey };
