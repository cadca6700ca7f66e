/**
 * The NAT gateways this node runs, from a validated ResourceSet (pure).
 *
 * - Placement: a VpcNatGateway's `selector` is a list of `"key: value"` strings (Kube-OVN's
 *   form); every entry must match this node — a label with that value, or, for
 *   `kubernetes.io/hostname` and for a bare `name` entry, the node's name. An empty selector
 *   places the gateway nowhere (reported), never on every node (an EIP lives in one place).
 * - Each gateway: namespace `vpc-nat-gw-<name>`, the LAN leg (`lanIp` in its subnet, the VPC's
 *   other CIDRs routed via the subnet's gateway), the external leg (the first external subnet:
 *   CIDR, gateway, the NAD's `master` NIC), the EIPs with addresses, the rules as {@link NatRules}.
 * - EIP addresses: `v4ip`, else the address allocated before this build (`allocations`, see
 *   the writer's EIP records in Northbound). An EIP still without one is `pending`, and so are
 *   its rules.
 * - net2's MAC: the `macAddress` of the gateway's EIPs (they share net2, so one MAC), else one
 *   derived from the gateway's name — stable across re-creation and moves.
 * - Fields not implemented: `qosPolicy` and `bgpSpeaker` (VpcNatGateway) and `qosPolicy`
 *   (IptablesEIP) are refused when set, at parse time (agent/resources/schemas.ts UNSUPPORTED),
 *   with the resource and field named; they never reach this build.
 */
import { parseIp, type Cidr } from '../../netlink/inet.js';
import { deriveMac } from '../ipam/mac.js';
import { parseProvider, type ResourceSet, type Subnet, type VpcNatGateway } from '../resources/index.js';
import type { DnatEntry, FipEntry, NatRules, SnatEntry } from './ruleset.js';

/** Prefix of every gateway namespace this agent owns. */
export const NAT_NETNS_PREFIX = 'vpc-nat-gw-';
export const LAN_IFNAME = 'net1';
export const WAN_IFNAME = 'net2';

export interface NatNode {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export type NatKind = 'snat' | 'dnat' | 'fip';

export interface EipDesired {
  name: string;
  /** Undefined while waiting for an allocation. */
  ip: string | undefined;
  /** Which kinds of rule use it (Kube-OVN's status `nat`). */
  nat: NatKind[];
}

export interface RuleDesired {
  /** `IptablesSnatRule/x`, … */
  id: string;
  kind: NatKind;
  eip: string;
  /** The EIP's address; undefined while it has none. */
  v4ip: string | undefined;
}

/** A problem that keeps one object from being ready; `code` is stable. */
export interface NatProblem {
  code: string;
  /** `Kind/name`. */
  resource: string;
  field?: string;
  message: string;
}

export interface GatewayDesired {
  name: string;
  resource: string;
  netns: string;
  vpc: string;
  lan: { subnet: string; cidr: Cidr; gateway: string; ip: string; prefix: number };
  external: {
    subnet: string;
    cidr: Cidr;
    gateway: string;
    /** The NIC the external network's NAD names (`master`), if any. */
    master: string | undefined;
  };
  /** Destinations behind net1 (other subnets of the VPC, `spec.routes`), via `nextHop`. */
  lanRoutes: { dst: string; via: string }[];
  wanMac: string;
  eips: EipDesired[];
  rules: NatRules;
  ruleObjects: RuleDesired[];
  problems: NatProblem[];
}

export interface NatDesired {
  node: string;
  gateways: Map<string, GatewayDesired>;
  /** Problems of gateways this node does not run (placement). */
  problems: NatProblem[];
}

export interface NatDesiredOptions {
  /** EIP name → address for EIPs without `v4ip` (allocated before the build). */
  allocations?: ReadonlyMap<string, string>;
  /** Namespace prefix (tests use their own). */
  netnsPrefix?: string;
}

const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** `"key: value"` → [key, value]; `"key=value"` is accepted too; a bare word is a node name. */
export function parseSelector(entry: string): { key: string | undefined; value: string } {
  const m = /^\s*([^:=\s]+)\s*[:=]\s*(.*?)\s*$/.exec(entry);
  if (!m) return { key: undefined, value: entry.trim() };
  return { key: m[1], value: m[2]!.replace(/^["']|["']$/g, '') };
}

/** True when every selector entry matches the node (an empty selector matches nothing). */
export function selectsNode(selector: readonly string[], node: NatNode): boolean {
  if (selector.length === 0) return false;
  return selector.every((entry) => {
    const { key, value } = parseSelector(entry);
    if (key === undefined) return value === node.name;
    if (node.labels[key] === value) return true;
    return key === HOSTNAME_LABEL && value === node.name;
  });
}

/** The NIC named by the external subnet's NAD (`master`), for `<nad>.<ns>` or `<nad>.<ns>.ovn`. */
function masterOf(set: ResourceSet, subnet: Subnet): string | undefined {
  const p = parseProvider(subnet.spec.provider) ?? parseProvider(`${subnet.spec.provider}.ovn`);
  if (!p) return undefined;
  const nad = set.nads.get(`${p.namespace}/${p.nad}`);
  const master = nad?.spec.config['master'];
  return typeof master === 'string' && master !== '' ? master : undefined;
}

export function buildGateway(
  set: ResourceSet,
  gw: VpcNatGateway,
  opts: NatDesiredOptions = {},
): GatewayDesired | undefined {
  const name = gw.meta.name;
  const resource = `VpcNatGateway/${name}`;
  const problems: NatProblem[] = [];
  const lanSubnet = set.subnets.get(gw.spec.subnet);
  const extName = gw.spec.externalSubnets[0] ?? '';
  const ext = set.subnets.get(extName);
  if (!lanSubnet || !ext) return undefined; // validation keeps these resolvable
  gw.spec.externalSubnets.slice(1).forEach((s, i) =>
    problems.push({
      code: 'NAT_EXTRA_EXTERNAL_SUBNET',
      resource,
      field: `spec.externalSubnets[${i + 1}]`,
      message: `only the first external subnet (${extName}) is attached; ${s} is ignored`,
    }),
  );

  const lanRoutes: { dst: string; via: string }[] = [];
  for (const s of set.subnets.values()) {
    if (s.spec.vpc !== gw.spec.vpc || s.spec.cidr.family !== 4 || s.meta.name === lanSubnet.meta.name)
      continue;
    lanRoutes.push({ dst: s.spec.cidr.text, via: lanSubnet.spec.gateway });
  }
  for (const r of gw.spec.routes) lanRoutes.push({ dst: r.cidr.text, via: r.nextHopIP });
  lanRoutes.sort((a, b) => a.dst.localeCompare(b.dst));

  const eipList = [...set.eips.values()]
    .filter((e) => e.spec.natGwDp === name)
    .sort((a, b) => a.meta.name.localeCompare(b.meta.name));
  const eips = new Map<string, EipDesired>();
  let wanMac: string | undefined;
  let macFrom = '';
  for (const e of eipList) {
    const id = `IptablesEIP/${e.meta.name}`;
    if (e.spec.externalSubnet !== extName) {
      problems.push({
        code: 'NAT_EIP_OTHER_SUBNET',
        resource: id,
        field: 'spec.externalSubnet',
        message: `${e.spec.externalSubnet} is not attached: gateway ${name} uses ${extName} only`,
      });
      continue;
    }
    const ip = e.spec.v4ip ?? opts.allocations?.get(e.meta.name);
    if (ip === undefined) {
      problems.push({
        code: 'NAT_EIP_UNALLOCATED',
        resource: id,
        field: 'spec.v4ip',
        message: `waiting for an address from ${extName}`,
      });
    }
    if (e.spec.macAddress) {
      if (wanMac === undefined) {
        wanMac = e.spec.macAddress;
        macFrom = e.meta.name;
      } else if (wanMac !== e.spec.macAddress) {
        problems.push({
          code: 'NAT_EIP_MAC_CONFLICT',
          resource: id,
          field: 'spec.macAddress',
          message: `the EIPs of ${name} share net2, whose MAC is ${wanMac} (from IptablesEIP ${macFrom}); ${e.spec.macAddress} is ignored`,
        });
      }
    }
    eips.set(e.meta.name, { name: e.meta.name, ip, nat: [] });
  }

  const rules = {
    lanIf: LAN_IFNAME,
    wanIf: WAN_IFNAME,
    lanIp: gw.spec.lanIp,
    snat: [] as SnatEntry[],
    dnat: [] as DnatEntry[],
    fip: [] as FipEntry[],
  } satisfies NatRules;
  const ruleObjects: RuleDesired[] = [];
  const use = (kind: NatKind, id: string, eipName: string): string | undefined => {
    const eip = eips.get(eipName);
    if (!eip) return undefined;
    if (!eip.nat.includes(kind)) eip.nat.push(kind);
    ruleObjects.push({ id, kind, eip: eipName, v4ip: eip.ip });
    if (eip.ip === undefined)
      problems.push({
        code: 'NAT_EIP_UNALLOCATED',
        resource: id,
        field: 'spec.eip',
        message: `IptablesEIP ${eipName} has no address yet`,
      });
    return eip.ip;
  };
  for (const r of set.snatRules.values()) {
    const ip = use('snat', `IptablesSnatRule/${r.meta.name}`, r.spec.eip);
    if (ip) rules.snat.push({ name: r.meta.name, eip: ip, cidr: r.spec.internalCIDR.text });
  }
  for (const r of set.dnatRules.values()) {
    const ip = use('dnat', `IptablesDnatRule/${r.meta.name}`, r.spec.eip);
    if (ip) {
      const { protocol, externalPort, internalIp, internalPort } = r.spec;
      rules.dnat.push({ name: r.meta.name, eip: ip, protocol, externalPort, internalIp, internalPort });
    }
  }
  for (const r of set.fipRules.values()) {
    const ip = use('fip', `IptablesFIPRule/${r.meta.name}`, r.spec.eip);
    if (ip) rules.fip.push({ name: r.meta.name, eip: ip, internalIp: r.spec.internalIp });
  }
  for (const e of eips.values()) e.nat.sort();

  return {
    name,
    resource,
    netns: `${opts.netnsPrefix ?? NAT_NETNS_PREFIX}${name}`,
    vpc: gw.spec.vpc,
    lan: {
      subnet: lanSubnet.meta.name,
      cidr: lanSubnet.spec.cidr,
      gateway: lanSubnet.spec.gateway,
      ip: parseIp(gw.spec.lanIp).text,
      prefix: lanSubnet.spec.cidr.prefix,
    },
    external: { subnet: extName, cidr: ext.spec.cidr, gateway: ext.spec.gateway, master: masterOf(set, ext) },
    lanRoutes,
    wanMac: wanMac ?? deriveMac('vpc-nat-gw', name),
    eips: [...eips.values()],
    rules,
    ruleObjects,
    problems,
  };
}

/** The gateways `node` runs (see the file comment). */
export function buildNatDesired(set: ResourceSet, node: NatNode, opts: NatDesiredOptions = {}): NatDesired {
  const gateways = new Map<string, GatewayDesired>();
  const problems: NatProblem[] = [];
  for (const gw of set.natGateways.values()) {
    if (gw.spec.selector.length === 0) {
      problems.push({
        code: 'NAT_GW_NO_SELECTOR',
        resource: `VpcNatGateway/${gw.meta.name}`,
        field: 'spec.selector',
        message:
          'is empty: the gateway runs on no node until it names one ("kubernetes.io/hostname: <node>")',
      });
      continue;
    }
    if (!selectsNode(gw.spec.selector, node)) continue;
    const d = buildGateway(set, gw, opts);
    if (d) gateways.set(gw.meta.name, d);
  }
  return { node: node.name, gateways, problems };
}
