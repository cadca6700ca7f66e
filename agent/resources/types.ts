/**
 * Normalized resource types: what the desired-state builders, IPAM and node code consume.
 * These are the *post-default, parsed* forms of the Kube-OVN shapes (`kubeovn.io/v1`) and of
 * `k8s.cni.cncf.io/v1` NetworkAttachmentDefinition: CIDRs parsed, defaults filled in, excludes
 * as merged ranges. The raw YAML shapes are in `schemas.ts`.
 */
import type { SourceRef } from '../errors.js';
import type { Cidr } from '../../netlink/inet.js';
import type { IpRange } from './net.js';

/** The VPC that exists without being declared (Kube-OVN's default VPC / cluster router). */
export const DEFAULT_VPC = 'ovn-cluster';
/** Provider of subnets not attached through a NAD (Kube-OVN's primary-network provider). */
export const DEFAULT_PROVIDER = 'ovn';
/** External subnet a VpcNatGateway/IptablesEIP uses when none is named (Kube-OVN's default). */
export const DEFAULT_EXTERNAL_SUBNET = 'ovn-vpc-external-network';

export const KUBEOVN_API = 'kubeovn.io/v1';
export const NAD_API = 'k8s.cni.cncf.io/v1';

export type Kind =
  | 'Vpc'
  | 'Subnet'
  | 'NetworkAttachmentDefinition'
  | 'ProviderNetwork'
  | 'Vlan'
  | 'VpcNatGateway'
  | 'IptablesEIP'
  | 'IptablesSnatRule'
  | 'IptablesDnatRule'
  | 'IptablesFIPRule';

export const KINDS: readonly Kind[] = [
  'Vpc',
  'Subnet',
  'NetworkAttachmentDefinition',
  'ProviderNetwork',
  'Vlan',
  'VpcNatGateway',
  'IptablesEIP',
  'IptablesSnatRule',
  'IptablesDnatRule',
  'IptablesFIPRule',
];

/** Metadata kept from the manifest (other standard metadata fields are accepted and dropped). */
export interface Meta {
  name: string;
  /** Only for namespaced kinds (NAD); `default` when omitted. */
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  uid?: string;
  creationTimestamp?: string;
  source?: SourceRef;
}

interface Base<K extends Kind, S> {
  kind: K;
  meta: Meta;
  spec: S;
}

// ---- Vpc ---------------------------------------------------------------------------------

export interface StaticRoute {
  /** Destination (policyDst) or source (policySrc) prefix; a bare address becomes /32 (/128). */
  cidr: Cidr;
  nextHopIP: string;
  nextHop: bigint;
  policy: 'policyDst' | 'policySrc';
  /** OVN route table name; `''` is the main table. */
  routeTable: string;
}

export interface PolicyRoute {
  /** 0..32767 (OVN Logical_Router_Policy.priority). */
  priority: number;
  /** OVN match expression (ovn-sb(5) "Logical_Flow match"), passed through verbatim. */
  match: string;
  action: 'allow' | 'drop' | 'reroute';
  /** Only with `reroute`. */
  nextHopIP?: string;
}

export interface VpcPeering {
  remoteVpc: string;
  /** As written, `169.254.0.1/30`. */
  localConnectIP: string;
  /** The address part, `169.254.0.1`. */
  address: string;
  addressValue: bigint;
  /** The connect network, `169.254.0.0/30`. */
  network: Cidr;
}

export interface VpcSpec {
  namespaces: string[];
  defaultSubnet?: string;
  staticRoutes: StaticRoute[];
  policyRoutes: PolicyRoute[];
  vpcPeerings: VpcPeering[];
}

/** `implicit` is true for the default VPC when it was not declared. */
export type Vpc = Base<'Vpc', VpcSpec> & { implicit: boolean };

// ---- Subnet ------------------------------------------------------------------------------

export type AclDirection = 'from-lport' | 'to-lport';
/** OVN NB ACL actions (ovn-nb(5) ACL table). */
export type AclAction = 'allow' | 'allow-related' | 'allow-stateless' | 'drop' | 'reject' | 'pass';

export interface Acl {
  direction: AclDirection;
  /** 0..32767 (ovn-nb(5) ACL.priority). */
  priority: number;
  match: string;
  action: AclAction;
}

export interface SubnetSpec {
  vpc: string;
  protocol: 'IPv4' | 'IPv6';
  /** Parsed `cidrBlock`. */
  cidr: Cidr;
  /** Gateway address (default: first usable address of the CIDR). */
  gateway: string;
  gatewayValue: bigint;
  /**
   * Addresses never allocated: `excludeIps` + the gateway, merged and sorted. Network and
   * broadcast are not listed here (IPAM adds them, see `reservedAddresses`).
   */
  excludeRanges: IpRange[];
  /** `excludeIps` in canonical text (`a` or `a..b`), gateway included — for OVN `exclude_ips`. */
  excludeIps: string[];
  /** `ovn` or `<nad>.<namespace>.ovn`. */
  provider: string;
  natOutgoing: boolean;
  private: boolean;
  allowSubnets: Cidr[];
  /** Default true: VMs get address and default route from OVN without anyone logging in. */
  enableDHCP: boolean;
  /** Parsed from Kube-OVN's `key=value,key=value` string (e.g. `lease_time=3600,dns_server=…`). */
  dhcpV4Options: Record<string, string>;
  /** Name of a Vlan resource (underlay subnet), if any. */
  vlan?: string;
  /**
   * Set for provider `<nad>.<namespace>`: an external network — a physical segment a NAD of
   * another CNI reaches through a NIC (`"master"`), whose gateway is a real router. It only
   * gives out addresses (EIPs): no logical switch, router port or gateway claim in OVN.
   */
  external?: { nad: string; namespace: string };
  mtu?: number;
  acls: Acl[];
  gatewayType: 'distributed' | 'centralized';
  gatewayNode: string;
  namespaces: string[];
  default: boolean;
}

export type Subnet = Base<'Subnet', SubnetSpec>;

// ---- NetworkAttachmentDefinition ------------------------------------------------------------

export interface NadSpec {
  /** The parsed `spec.config` JSON (for a conflist, the kube-ovn plugin's entry). */
  config: Record<string, unknown>;
  /** CNI plugin type (`kube-ovn`, `bridge`, …). */
  cniType: string;
  /** True when this NAD attaches to an OVN network managed here. */
  kubeOvn: boolean;
  /** `<name>.<namespace>.ovn` for kube-ovn NADs. */
  provider?: string;
  /** The NIC a NAD of another CNI (macvlan, …) sits on: an external network's uplink. */
  master?: string;
  serverSocket?: string;
}

export type NetworkAttachmentDefinition = Base<'NetworkAttachmentDefinition', NadSpec> & {
  meta: Meta & { namespace: string };
};

// ---- Underlay ----------------------------------------------------------------------------

export interface ProviderNetworkSpec {
  defaultInterface: string;
  customInterfaces: { interface: string; nodes: string[] }[];
  excludeNodes: string[];
}

export type ProviderNetwork = Base<'ProviderNetwork', ProviderNetworkSpec>;

export interface VlanSpec {
  /** 802.1Q VLAN id, 0 = untagged. */
  id: number;
  /** Name of a ProviderNetwork. */
  provider: string;
}

export type Vlan = Base<'Vlan', VlanSpec>;

// ---- NAT gateway -------------------------------------------------------------------------

export interface VpcNatGatewaySpec {
  vpc: string;
  subnet: string;
  lanIp: string;
  externalSubnets: string[];
  routes: { cidr: Cidr; nextHopIP: string }[];
  selector: string[];
}
export type VpcNatGateway = Base<'VpcNatGateway', VpcNatGatewaySpec>;

export interface IptablesEipSpec {
  /** Requested address; absent = allocate from the external subnet. */
  v4ip?: string;
  macAddress?: string;
  natGwDp: string;
  /** Defaults to the gateway's first external subnet. */
  externalSubnet: string;
}
export type IptablesEip = Base<'IptablesEIP', IptablesEipSpec>;

export interface IptablesSnatRuleSpec {
  eip: string;
  internalCIDR: Cidr;
}
export type IptablesSnatRule = Base<'IptablesSnatRule', IptablesSnatRuleSpec>;

export interface IptablesDnatRuleSpec {
  eip: string;
  protocol: 'tcp' | 'udp';
  externalPort: number;
  internalIp: string;
  internalPort: number;
}
export type IptablesDnatRule = Base<'IptablesDnatRule', IptablesDnatRuleSpec>;

export interface IptablesFipRuleSpec {
  eip: string;
  internalIp: string;
}
export type IptablesFipRule = Base<'IptablesFIPRule', IptablesFipRuleSpec>;

export type Resource =
  | Vpc
  | Subnet
  | NetworkAttachmentDefinition
  | ProviderNetwork
  | Vlan
  | VpcNatGateway
  | IptablesEip
  | IptablesSnatRule
  | IptablesDnatRule
  | IptablesFipRule;

/**
 * A validated, self-consistent set of resources, keyed by name (NADs by `namespace/name`).
 * Every reference between members resolves inside the set.
 */
export interface ResourceSet {
  vpcs: Map<string, Vpc>;
  subnets: Map<string, Subnet>;
  nads: Map<string, NetworkAttachmentDefinition>;
  providerNetworks: Map<string, ProviderNetwork>;
  vlans: Map<string, Vlan>;
  natGateways: Map<string, VpcNatGateway>;
  eips: Map<string, IptablesEip>;
  snatRules: Map<string, IptablesSnatRule>;
  dnatRules: Map<string, IptablesDnatRule>;
  fipRules: Map<string, IptablesFipRule>;
}

export function emptyResourceSet(): ResourceSet {
  return {
    vpcs: new Map(),
    subnets: new Map(),
    nads: new Map(),
    providerNetworks: new Map(),
    vlans: new Map(),
    natGateways: new Map(),
    eips: new Map(),
    snatRules: new Map(),
    dnatRules: new Map(),
    fipRules: new Map(),
  };
}

/** Map key of a resource within its kind: `name`, or `namespace/name` for NADs. */
export function resourceKey(r: { kind: Kind; meta: Meta }): string {
  return r.kind === 'NetworkAttachmentDefinition'
    ? `${r.meta.namespace ?? 'default'}/${r.meta.name}`
    : r.meta.name;
}

/** Identity of a resource across kinds: `Kind/key` (`Subnet/vswitch1`, `NetworkAttachmentDefinition/default/vswitch1`). */
export function resourceId(r: { kind: Kind; meta: Meta }): string {
  return `${r.kind}/${resourceKey(r)}`;
}

/** The map of `set` that holds `kind`. */
export function mapFor(set: ResourceSet, kind: Kind): Map<string, Resource> {
  const table: Record<Kind, Map<string, Resource>> = {
    Vpc: set.vpcs,
    Subnet: set.subnets,
    NetworkAttachmentDefinition: set.nads,
    ProviderNetwork: set.providerNetworks,
    Vlan: set.vlans,
    VpcNatGateway: set.natGateways,
    IptablesEIP: set.eips,
    IptablesSnatRule: set.snatRules,
    IptablesDnatRule: set.dnatRules,
    IptablesFIPRule: set.fipRules,
  } as Record<Kind, Map<string, Resource>>;
  return table[kind];
}

/** All resources of a set, in kind order then insertion order. */
export function allResources(set: ResourceSet): Resource[] {
  return KINDS.flatMap((k) => [...mapFor(set, k).values()]);
}

/** The Subnet whose provider is `provider` (1:1 after validation). */
export function subnetByProvider(set: ResourceSet, provider: string): Subnet | undefined {
  for (const s of set.subnets.values()) if (s.spec.provider === provider) return s;
  return undefined;
}
