/**
 * Deletion dependencies: a resource removed from the manifests while others still refer to it
 * (a Vpc with Subnets, a Subnet whose NAD is still there, a ProviderNetwork with Vlans, …) is
 * not deleted half-way. The reconciler keeps such a resource (from the previous valid set),
 * reports it, and deletes it once nothing refers to it any more.
 */
import {
  DEFAULT_VPC,
  allResources,
  resourceKey,
  subnetByProvider,
  type Kind,
  type Resource,
  type ResourceSet,
} from './types.js';

/** One outbound reference of a resource. */
export interface Reference {
  kind: Kind;
  /** Key in the target kind's map (name; `namespace/name` for NADs). */
  key: string;
  /** Field of the referring resource that holds the reference. */
  field: string;
}

export interface Dependent {
  kind: Kind;
  name: string;
  namespace?: string;
  field: string;
}

export interface BlockedDelete {
  kind: Kind;
  name: string;
  namespace?: string;
  /** Resources of the new set that still refer to it. */
  dependents: Dependent[];
  /** `Vpc vpc-1 was removed but is still referenced by Subnet vswitch1-subnet (spec.vpc)`. */
  message: string;
}

/** References from `r` to other resources; `set` resolves provider → Subnet for NADs. */
export function referencesOf(r: Resource, set: ResourceSet): Reference[] {
  switch (r.kind) {
    case 'Vpc':
      return r.spec.vpcPeerings.map((p, i) => ({
        kind: 'Vpc',
        key: p.remoteVpc,
        field: `spec.vpcPeerings[${i}].remoteVpc`,
      }));
    case 'Subnet': {
      const refs: Reference[] = [{ kind: 'Vpc', key: r.spec.vpc, field: 'spec.vpc' }];
      if (r.spec.vlan !== undefined) refs.push({ kind: 'Vlan', key: r.spec.vlan, field: 'spec.vlan' });
      return refs;
    }
    case 'NetworkAttachmentDefinition': {
      const subnet = r.spec.provider ? subnetByProvider(set, r.spec.provider) : undefined;
      return subnet ? [{ kind: 'Subnet', key: subnet.meta.name, field: 'spec.config.provider' }] : [];
    }
    case 'Vlan':
      return [{ kind: 'ProviderNetwork', key: r.spec.provider, field: 'spec.provider' }];
    case 'VpcNatGateway':
      return [
        { kind: 'Vpc', key: r.spec.vpc, field: 'spec.vpc' },
        { kind: 'Subnet', key: r.spec.subnet, field: 'spec.subnet' },
        ...r.spec.externalSubnets.map((s, i) => ({
          kind: 'Subnet' as const,
          key: s,
          field: `spec.externalSubnets[${i}]`,
        })),
      ];
    case 'IptablesEIP':
      return [
        { kind: 'VpcNatGateway', key: r.spec.natGwDp, field: 'spec.natGwDp' },
        ...(r.spec.externalSubnet
          ? [{ kind: 'Subnet' as const, key: r.spec.externalSubnet, field: 'spec.externalSubnet' }]
          : []),
      ];
    case 'IptablesSnatRule':
    case 'IptablesDnatRule':
    case 'IptablesFIPRule':
      return [{ kind: 'IptablesEIP', key: r.spec.eip, field: 'spec.eip' }];
    default:
      return [];
  }
}

const id = (kind: Kind, key: string) => `${kind}/${key}`;

/**
 * Resources of `prev` missing from `next` that members of `next` (or resources kept because of
 * this rule) still refer to. `prev` is the last valid set; `next` the newly loaded resources,
 * before validation (so that dependents are not already skipped for the missing reference).
 * The implicit default VPC is never reported.
 */
export function blockedDeletes(
  prev: ResourceSet,
  next: ResourceSet | readonly Resource[],
  /** Resources the load shows but refused (by `Kind/key`): edited, not removed. */
  refused: ReadonlySet<string> = new Set(),
): BlockedDelete[] {
  const nextList = Array.isArray(next) ? (next as readonly Resource[]) : allResources(next as ResourceSet);
  const present = new Set([...nextList.map((r) => id(r.kind, resourceKey(r))), ...refused]);
  const removed = new Map<string, Resource>();
  for (const r of allResources(prev)) {
    const k = id(r.kind, resourceKey(r));
    if (!present.has(k) && !(r.kind === 'Vpc' && r.meta.name === DEFAULT_VPC)) removed.set(k, r);
  }
  const blocked = new Map<string, { r: Resource; dependents: Dependent[] }>();
  // Kept resources can themselves refer to removed ones: iterate until nothing new is kept.
  let frontier: readonly Resource[] = nextList;
  while (frontier.length > 0) {
    const kept: Resource[] = [];
    for (const r of frontier) {
      for (const ref of referencesOf(r, prev)) {
        const k = id(ref.kind, ref.key);
        const target = removed.get(k);
        if (!target) continue;
        let entry = blocked.get(k);
        if (!entry) {
          entry = { r: target, dependents: [] };
          blocked.set(k, entry);
          kept.push(target);
        }
        const dep: Dependent = { kind: r.kind, name: r.meta.name, field: ref.field };
        if (r.meta.namespace !== undefined && r.kind === 'NetworkAttachmentDefinition')
          dep.namespace = r.meta.namespace;
        entry.dependents.push(dep);
      }
    }
    frontier = kept;
  }
  return [...blocked.values()].map(({ r, dependents }) => {
    const out: BlockedDelete = {
      kind: r.kind,
      name: r.meta.name,
      dependents,
      message: `${r.kind} ${resourceKey(r)} was removed but is still referenced by ${dependents
        .map((d) => `${d.kind} ${d.namespace ? d.namespace + '/' : ''}${d.name} (${d.field})`)
        .join(', ')}; keeping it until they are gone`,
    };
    if (r.kind === 'NetworkAttachmentDefinition') out.namespace = r.meta.namespace ?? 'default';
    return out;
  });
}

/**
 * `next` plus the blocked resources taken from `prev`: what the reconciler should validate and
 * converge to, so that a delete that would strand dependents is held back.
 */
export function withBlockedKept(
  prev: ResourceSet,
  next: readonly Resource[],
  refused: ReadonlySet<string> = new Set(),
): { resources: Resource[]; blocked: BlockedDelete[] } {
  const blocked = blockedDeletes(prev, next, refused);
  const kept = blocked.flatMap((b) => {
    const r = allResources(prev).find(
      (x) => x.kind === b.kind && x.meta.name === b.name && x.meta.namespace === b.namespace,
    );
    return r ? [r] : [];
  });
  return { resources: [...next, ...kept], blocked };
}
