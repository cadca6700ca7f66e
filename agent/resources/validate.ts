/**
 * Cross-resource validation: a resource that breaks a rule is skipped
 * whole and reported; everything valid beside it stays; resources that depend on a skipped one
 * are skipped too, with an error naming the dependency and why it was skipped.
 *
 * Rules run to a fixed point: each pass checks every still-valid resource against the
 * still-valid others and removes the failures, until a pass removes nothing (the dependency
 * depth is small, so this ends in a few passes). Where two resources conflict (overlapping
 * CIDRs, one provider claimed twice, one EIP address twice) the one that comes first keeps it:
 * older `metadata.creationTimestamp` first, then manifest file and document order, then name.
 *
 * The default VPC `ovn-cluster` always exists: when it is not declared, or its declaration is
 * invalid, the implicit one (no routes, no peerings) stands in, so default-VPC subnets keep
 * working while the bad declaration is reported.
 */
import { cidrContains, cidrsOverlap } from '../../netlink/inet.js';
import { ValidationError } from '../errors.js';
import { reservedAddresses } from './net.js';
import {
  DEFAULT_PROVIDER,
  DEFAULT_VPC,
  KINDS,
  emptyResourceSet,
  mapFor,
  resourceKey,
  type Kind,
  type Resource,
  type ResourceSet,
  type Subnet,
  type Vpc,
} from './types.js';

export interface ValidationResult {
  /** Every resource that passed, plus the implicit default VPC. */
  valid: ResourceSet;
  errors: ValidationError[];
}

/** The default VPC as it exists when not declared. */
export function implicitDefaultVpc(): Vpc {
  return {
    kind: 'Vpc',
    implicit: true,
    meta: { name: DEFAULT_VPC, labels: {}, annotations: {} },
    spec: { namespaces: [], staticRoutes: [], policyRoutes: [], vpcPeerings: [] },
  };
}

function orderKey(r: Resource): [string, string, number, string] {
  return [
    r.meta.creationTimestamp ?? '~',
    r.meta.source?.file ?? '',
    r.meta.source?.document ?? 0,
    resourceKey(r),
  ];
}

function compare(a: Resource, b: Resource): number {
  const ka = orderKey(a);
  const kb = orderKey(b);
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i] as string | number;
    const y = kb[i] as string | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

function errorFor(r: Resource, field: string, message: string): ValidationError {
  const issue = {
    kind: r.kind,
    name: r.meta.name,
    field,
    message,
    ...(r.meta.source ? { source: r.meta.source } : {}),
  };
  return new ValidationError(
    r.kind === 'NetworkAttachmentDefinition' ? { ...issue, namespace: r.meta.namespace ?? 'default' } : issue,
  );
}

type Report = (field: string, message: string) => void;

class Checker {
  readonly alive = emptyResourceSet();
  /** First error of each skipped resource, by `Kind/key`. */
  readonly skipped = new Map<string, ValidationError>();
  // Per-pass state for "first one keeps it" rules, filled as resources pass.
  private subnetsByVpc = new Map<string, Subnet[]>();
  private providers = new Map<string, string>();
  private eipIps = new Map<string, string>();
  private eipUse = new Map<string, string>();
  private dnatKeys = new Map<string, string>();
  private vlanIds = new Map<string, string>();

  resetPass(): void {
    this.aliveIndex = undefined;
    this.subnetsByVpc = new Map();
    this.providers = new Map();
    this.eipIps = new Map();
    this.eipUse = new Map();
    this.dnatKeys = new Map();
    this.vlanIds = new Map();
  }

  /** Undefined when `kind/key` is valid; otherwise why the reference fails. */
  private missing(kind: Kind, key: string): string | undefined {
    if (mapFor(this.alive, kind).has(key)) return undefined;
    const why = this.skipped.get(`${kind}/${key}`);
    if (why)
      return `${kind} ${key} is invalid and was skipped (${why.field ? why.field + ': ' : ''}${why.detail})`;
    return `${kind} ${key} does not exist`;
  }

  /**
   * Valid Subnets by VPC and by provider, built once per pass (not once per resource: NADs and
   * VPCs would each scan every Subnet). A Subnet dropped later in the pass may still be listed;
   * dropping it starts another pass, which sees the new set.
   */
  private aliveIndex: { byVpc: Map<string, Subnet[]>; byProvider: Map<string, Subnet> } | undefined;

  private index(): NonNullable<Checker['aliveIndex']> {
    if (this.aliveIndex) return this.aliveIndex;
    const byVpc = new Map<string, Subnet[]>();
    const byProvider = new Map<string, Subnet>();
    for (const s of this.alive.subnets.values()) {
      const list = byVpc.get(s.spec.vpc);
      if (list) list.push(s);
      else byVpc.set(s.spec.vpc, [s]);
      if (!byProvider.has(s.spec.provider)) byProvider.set(s.spec.provider, s);
    }
    return (this.aliveIndex = { byVpc, byProvider });
  }

  /** Subnets of `vpc` that are valid (all of them, not just the ones seen this pass). */
  private vpcSubnets(vpc: string): Subnet[] {
    return this.index().byVpc.get(vpc) ?? [];
  }

  check(r: Resource, report: Report): void {
    switch (r.kind) {
      case 'Vpc':
        return this.checkVpc(r, report);
      case 'Subnet':
        return this.checkSubnet(r, report);
      case 'NetworkAttachmentDefinition': {
        if (!r.spec.kubeOvn || !r.spec.provider) return;
        const owner = this.index().byProvider.get(r.spec.provider);
        if (owner) return;
        const skipped = [...this.skipped.values()].find(
          (e) => e.kind === 'Subnet' && this.skippedProvider(e) === r.spec.provider,
        );
        report(
          'spec.config.provider',
          skipped
            ? `the Subnet with provider ${r.spec.provider}, ${skipped.resourceName}, is invalid and was skipped (${skipped.field}: ${skipped.detail})`
            : `no Subnet has provider ${r.spec.provider}`,
        );
        return;
      }
      case 'ProviderNetwork':
        return;
      case 'Vlan': {
        const m = this.missing('ProviderNetwork', r.spec.provider);
        if (m) return report('spec.provider', m);
        const idKey = `${r.spec.provider}/${r.spec.id}`;
        const other = this.vlanIds.get(idKey);
        if (other)
          return report(
            'spec.id',
            `VLAN ${r.spec.id} on ${r.spec.provider} is already declared by Vlan ${other}`,
          );
        this.pending.push(() => this.vlanIds.set(idKey, r.meta.name));
        return;
      }
      case 'VpcNatGateway': {
        const mv = this.missing('Vpc', r.spec.vpc);
        if (mv) return report('spec.vpc', mv);
        if (r.spec.vpc === DEFAULT_VPC)
          return report('spec.vpc', `NAT gateways serve custom VPCs, not ${DEFAULT_VPC}`);
        const ms = this.missing('Subnet', r.spec.subnet);
        if (ms) return report('spec.subnet', ms);
        const subnet = this.alive.subnets.get(r.spec.subnet) as Subnet;
        if (subnet.spec.vpc !== r.spec.vpc)
          return report(
            'spec.subnet',
            `${subnet.meta.name} belongs to Vpc ${subnet.spec.vpc}, not ${r.spec.vpc}`,
          );
        const lan = r.spec.lanIp;
        if (!cidrContains(subnet.spec.cidr, parseValue(lan), 4) || lan === subnet.spec.gateway) {
          return report(
            'spec.lanIp',
            `${lan} is not a free address inside ${subnet.meta.name} (${subnet.spec.cidr.text}, gateway ${subnet.spec.gateway})`,
          );
        }
        r.spec.externalSubnets.forEach((name, i) => {
          const me = this.missing('Subnet', name);
          if (me) report(`spec.externalSubnets[${i}]`, me);
        });
        return;
      }
      case 'IptablesEIP': {
        const mg = this.missing('VpcNatGateway', r.spec.natGwDp);
        if (mg) return report('spec.natGwDp', mg);
        const gw = this.alive.natGateways.get(r.spec.natGwDp);
        const ext = r.spec.externalSubnet || gw?.spec.externalSubnets[0] || '';
        if (gw && !gw.spec.externalSubnets.includes(ext)) {
          return report(
            'spec.externalSubnet',
            `${ext} is not an external subnet of VpcNatGateway ${gw.meta.name}`,
          );
        }
        const me = this.missing('Subnet', ext);
        if (me) return report('spec.externalSubnet', me);
        const subnet = this.alive.subnets.get(ext) as Subnet;
        if (r.spec.v4ip !== undefined) {
          const v = parseValue(r.spec.v4ip);
          // Inside excludeIps is fine (set aside for static use); the gateway, network and
          // broadcast addresses are not.
          if (
            !cidrContains(subnet.spec.cidr, v, 4) ||
            v === subnet.spec.gatewayValue ||
            reservedAddresses(subnet.spec.cidr).includes(v)
          ) {
            return report(
              'spec.v4ip',
              `${r.spec.v4ip} is not an assignable address of external subnet ${ext} (${subnet.spec.cidr.text}, gateway ${subnet.spec.gateway})`,
            );
          }
          const other = this.eipIps.get(r.spec.v4ip);
          if (other) return report('spec.v4ip', `${r.spec.v4ip} is already used by IptablesEIP ${other}`);
          const ip = r.spec.v4ip;
          this.pending.push(() => this.eipIps.set(ip, r.meta.name));
        }
        return;
      }
      case 'IptablesSnatRule':
      case 'IptablesFIPRule':
      case 'IptablesDnatRule':
        return this.checkNatRule(r, report);
    }
  }

  private skippedProvider(e: ValidationError): string | undefined {
    return this.providerOfSkipped.get(e.resourceName);
  }
  /** Provider of each skipped Subnet (for NAD messages). */
  readonly providerOfSkipped = new Map<string, string>();
  /** Updates to per-pass state, applied only when the resource passes all its rules. */
  pending: (() => void)[] = [];

  private checkVpc(r: Vpc, report: Report): void {
    for (const [i, p] of r.spec.vpcPeerings.entries()) {
      const f = `spec.vpcPeerings[${i}]`;
      const m = this.missing('Vpc', p.remoteVpc);
      if (m) {
        report(`${f}.remoteVpc`, m);
        continue;
      }
      const remote = this.alive.vpcs.get(p.remoteVpc) as Vpc;
      const back = remote.spec.vpcPeerings.find((q) => q.remoteVpc === r.meta.name);
      if (!back) {
        report(
          `${f}.remoteVpc`,
          `Vpc ${p.remoteVpc} does not list ${r.meta.name} in its vpcPeerings (both sides must declare the peering)`,
        );
        continue;
      }
      if (back.network.text !== p.network.text) {
        report(
          `${f}.localConnectIP`,
          `${p.localConnectIP} and ${p.remoteVpc}'s ${back.localConnectIP} are not in one network`,
        );
      } else if (back.address === p.address) {
        report(
          `${f}.localConnectIP`,
          `${p.address} is also ${p.remoteVpc}'s localConnectIP; the two ends must differ`,
        );
      }
    }
    const subnets = this.vpcSubnets(r.meta.name);
    const reachable = (hop: bigint, fam: 4 | 6) =>
      subnets.some((s) => cidrContains(s.spec.cidr, hop, fam)) ||
      r.spec.vpcPeerings.some((p) => cidrContains(p.network, hop, fam));
    r.spec.staticRoutes.forEach((route, i) => {
      if (!reachable(route.nextHop, route.cidr.family)) {
        report(
          `spec.staticRoutes[${i}].nextHopIP`,
          `${route.nextHopIP} is not inside any subnet or peering connect network of Vpc ${r.meta.name}`,
        );
      }
    });
    r.spec.policyRoutes.forEach((route, i) => {
      if (route.nextHopIP === undefined) return;
      const hop = parseValue(route.nextHopIP);
      const fam = route.nextHopIP.includes(':') ? 6 : 4;
      if (!reachable(hop, fam)) {
        report(
          `spec.policyRoutes[${i}].nextHopIP`,
          `${route.nextHopIP} is not inside any subnet or peering connect network of Vpc ${r.meta.name}`,
        );
      }
    });
  }

  private checkSubnet(r: Subnet, report: Report): void {
    const m = this.missing('Vpc', r.spec.vpc);
    if (m) return report('spec.vpc', m);
    const peers = this.subnetsByVpc.get(r.spec.vpc) ?? [];
    const clash = peers.find((s) => cidrsOverlap(s.spec.cidr, r.spec.cidr));
    if (clash) {
      return report(
        'spec.cidrBlock',
        `${r.spec.cidr.text} overlaps Subnet ${clash.meta.name} (${clash.spec.cidr.text}) in Vpc ${r.spec.vpc}`,
      );
    }
    if (r.spec.provider !== DEFAULT_PROVIDER) {
      const other = this.providers.get(r.spec.provider);
      if (other)
        return report(
          'spec.provider',
          `${r.spec.provider} is already the provider of Subnet ${other} (one subnet per provider)`,
        );
    }
    if (r.spec.vlan !== undefined) {
      const mv = this.missing('Vlan', r.spec.vlan);
      if (mv) return report('spec.vlan', mv);
    }
    if (r.spec.external) {
      const { nad, namespace } = r.spec.external;
      const key = `${namespace}/${nad}`;
      const mn = this.missing('NetworkAttachmentDefinition', key);
      if (mn) return report('spec.provider', `${mn} (an external network's NAD)`);
      const def = this.alive.nads.get(key)!;
      if (def.spec.kubeOvn)
        return report(
          'spec.provider',
          `NetworkAttachmentDefinition ${key} is kube-ovn: its provider is ${nad}.${namespace}.ovn`,
        );
      if (!def.spec.master)
        return report(
          'spec.provider',
          `NetworkAttachmentDefinition ${key} names no "master" NIC (an external network needs one)`,
        );
      if (r.spec.vlan !== undefined || r.spec.natOutgoing || r.spec.private)
        return report(
          'spec.provider',
          'an external network (provider <nad>.<namespace>) takes no vlan, natOutgoing or private',
        );
    }
    this.pending.push(() => {
      this.subnetsByVpc.set(r.spec.vpc, [...peers, r]);
      if (r.spec.provider !== DEFAULT_PROVIDER) this.providers.set(r.spec.provider, r.meta.name);
    });
  }

  private checkNatRule(r: Resource & { spec: { eip: string } }, report: Report): void {
    const m = this.missing('IptablesEIP', r.spec.eip);
    if (m) return report('spec.eip', m);
    const prior = this.eipUse.get(r.spec.eip);
    const isFip = r.kind === 'IptablesFIPRule';
    if (prior && (isFip || prior.startsWith('IptablesFIPRule'))) {
      return report(
        'spec.eip',
        `IptablesEIP ${r.spec.eip} is already used by ${prior} (a FIP needs its EIP alone)`,
      );
    }
    if (r.kind === 'IptablesDnatRule') {
      const s = r.spec as unknown as { protocol: string; externalPort: number };
      const key = `${r.spec.eip}/${s.protocol}/${s.externalPort}`;
      const other = this.dnatKeys.get(key);
      if (other)
        return report(
          'spec.externalPort',
          `${s.protocol} port ${s.externalPort} of ${r.spec.eip} is already forwarded by ${other}`,
        );
      this.pending.push(() => this.dnatKeys.set(key, `IptablesDnatRule ${r.meta.name}`));
    }
    this.pending.push(() => {
      if (!this.eipUse.has(r.spec.eip)) this.eipUse.set(r.spec.eip, `${r.kind} ${r.meta.name}`);
    });
  }
}

function parseValue(ip: string): bigint {
  if (!ip.includes(':')) return ip.split('.').reduce((acc, o) => (acc << 8n) + BigInt(o), 0n);
  // Canonical IPv6 text from normalize: expand `::` and read 8 groups.
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/**
 * Validates resources against each other. Input resources are the output of `parseResource`
 * (already checked one by one); duplicates (same kind and name) keep the first.
 */
export function validateResources(resources: readonly Resource[]): ValidationResult {
  const errors: ValidationError[] = [];
  const ordered = [...resources].sort(compare);
  const c = new Checker();
  for (const r of ordered) {
    const map = mapFor(c.alive, r.kind);
    const key = resourceKey(r);
    const first = map.get(key);
    if (first) {
      const where = first.meta.source
        ? ` (first in ${first.meta.source.file}, document ${first.meta.source.document})`
        : '';
      errors.push(errorFor(r, 'metadata.name', `duplicate ${r.kind} ${key}${where}`));
      continue;
    }
    map.set(key, r);
  }
  if (!c.alive.vpcs.has(DEFAULT_VPC)) c.alive.vpcs.set(DEFAULT_VPC, implicitDefaultVpc());

  for (let changed = true; changed;) {
    changed = false;
    c.resetPass();
    for (const r of ordered) {
      const key = resourceKey(r);
      if (mapFor(c.alive, r.kind).get(key) !== r) continue;
      const found: ValidationError[] = [];
      c.pending = [];
      c.check(r, (field, message) => found.push(errorFor(r, field, message)));
      if (found.length === 0) {
        for (const apply of c.pending) apply();
        continue;
      }
      errors.push(...found);
      mapFor(c.alive, r.kind).delete(key);
      c.skipped.set(`${r.kind}/${key}`, found[0] as ValidationError);
      if (r.kind === 'Subnet') c.providerOfSkipped.set(r.meta.name, r.spec.provider);
      if (r.kind === 'Vpc' && key === DEFAULT_VPC) c.alive.vpcs.set(DEFAULT_VPC, implicitDefaultVpc());
      changed = true;
    }
  }
  // Keep map order stable: kind order as declared, then manifest order.
  const valid = emptyResourceSet();
  for (const kind of KINDS) {
    for (const r of [...mapFor(c.alive, kind).values()].sort(compare))
      mapFor(valid, kind).set(resourceKey(r), r);
  }
  // Post-validation defaults that need another resource (inputs are not mutated).
  for (const [key, e] of valid.eips) {
    if (e.spec.externalSubnet) continue;
    const ext = valid.natGateways.get(e.spec.natGwDp)?.spec.externalSubnets[0] ?? '';
    valid.eips.set(key, { ...e, spec: { ...e.spec, externalSubnet: ext } });
  }
  return { valid, errors };
}
