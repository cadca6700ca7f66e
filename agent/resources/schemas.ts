/**
 * zod schemas of the raw manifest shapes, field for field as Kube-OVN's CRDs (`kubeovn.io/v1`)
 * and Multus's NetworkAttachmentDefinition (`k8s.cni.cncf.io/v1`) spell them, so YAML copied
 * from the Kube-OVN and Harvester docs loads unchanged.
 *
 * Objects are strict: an unknown field is an error naming it. Kube-OVN fields this agent does
 * not implement are listed in `UNSUPPORTED` (accepted only while empty/false/0, so a copied
 * manifest with their defaults still loads, while one that relies on them is told why not).
 * Standard `metadata` fields are accepted and ignored; `status` is accepted and ignored.
 * Semantic checks (CIDRs, ranges, references) live in `normalize.ts` and `validate.ts`.
 */
import { z } from 'zod';

const str = z.string();
const strList = z.array(z.string());
const uint = z.number().int().nonnegative();
const anything = z.unknown();

/** Kubernetes object names: DNS-1123 subdomain (RFC 1123 labels joined by dots), ≤253. */
export const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const metadataSchema = z.looseObject({
  name: z.string().min(1).max(253).regex(NAME_RE, 'must be a lowercase RFC 1123 name (a-z, 0-9, -, .)'),
  namespace: z.string().regex(NAME_RE, 'must be a lowercase RFC 1123 name').optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  uid: z.string().optional(),
  creationTimestamp: z.union([z.string(), z.date()]).optional(),
});

const staticRoute = z.strictObject({
  cidr: str,
  nextHopIP: str,
  policy: z.enum(['policyDst', 'policySrc']).optional(),
  routeTable: str.optional(),
  ecmpMode: anything.optional(),
  bfdId: anything.optional(),
});

const policyRoute = z.strictObject({
  priority: z.number().int(),
  match: str,
  action: str,
  nextHopIP: str.optional(),
});

const vpcPeering = z.strictObject({ remoteVpc: str, localConnectIP: str });

export const vpcSpec = z.strictObject({
  namespaces: strList.optional(),
  defaultSubnet: str.optional(),
  staticRoutes: z.array(staticRoute).optional(),
  policyRoutes: z.array(policyRoute).optional(),
  vpcPeerings: z.array(vpcPeering).optional(),
  enableExternal: anything.optional(),
  extraExternalSubnets: anything.optional(),
  enableBfd: anything.optional(),
  bfdPort: anything.optional(),
  dynamicRouting: anything.optional(),
});

const acl = z.strictObject({
  direction: str,
  priority: z.number().int(),
  match: str,
  action: str,
});

export const subnetSpec = z.strictObject({
  default: z.boolean().optional(),
  vpc: str.optional(),
  protocol: z.enum(['IPv4', 'IPv6', 'Dual']).optional(),
  namespaces: strList.optional(),
  cidrBlock: str,
  gateway: str.optional(),
  excludeIps: strList.optional(),
  provider: str.optional(),
  gatewayType: z.enum(['distributed', 'centralized']).optional(),
  gatewayNode: str.optional(),
  natOutgoing: z.boolean().optional(),
  mtu: uint.optional(),
  private: z.boolean().optional(),
  allowSubnets: strList.optional(),
  vlan: str.optional(),
  enableDHCP: z.boolean().optional(),
  dhcpV4Options: str.optional(),
  acls: z.array(acl).optional(),
  // Kube-OVN features without an equivalent here (see UNSUPPORTED).
  enableLb: z.boolean().optional(),
  vips: anything.optional(),
  logicalGateway: anything.optional(),
  disableGatewayCheck: anything.optional(),
  disableInterConnection: anything.optional(),
  dhcpV6Options: anything.optional(),
  enableIPv6RA: anything.optional(),
  ipv6RAConfigs: anything.optional(),
  allowEWTraffic: anything.optional(),
  natOutgoingPolicyRules: anything.optional(),
  u2oInterconnectionIP: anything.optional(),
  u2oInterconnection: anything.optional(),
  u2oFeatures: anything.optional(),
  enableEcmp: anything.optional(),
  enableMulticastSnoop: anything.optional(),
  enableExternalLBAddress: anything.optional(),
  externalEgressGateway: anything.optional(),
  policyRoutingPriority: anything.optional(),
  policyRoutingTableID: anything.optional(),
  routeTable: anything.optional(),
  namespaceSelectors: anything.optional(),
  gatewayNodeSelectors: anything.optional(),
  nodeNetwork: anything.optional(),
});

export const nadSpec = z.strictObject({ config: str });

export const providerNetworkSpec = z.strictObject({
  defaultInterface: str,
  customInterfaces: z.array(z.strictObject({ interface: str, nodes: strList })).optional(),
  excludeNodes: strList.optional(),
  nodeSelector: anything.optional(),
  exchangeLinkName: anything.optional(),
  preserveVlanInterfaces: anything.optional(),
  vlanInterfaces: anything.optional(),
});

export const vlanSpec = z.strictObject({
  id: z.number().int(),
  provider: str,
  vlanId: anything.optional(),
  providerInterfaceName: anything.optional(),
});

export const vpcNatGatewaySpec = z.strictObject({
  vpc: str,
  subnet: str,
  lanIp: str,
  externalSubnets: strList.optional(),
  selector: strList.optional(),
  tolerations: anything.optional(),
  affinity: anything.optional(),
  routes: z.array(z.strictObject({ cidr: str, nextHopIP: str })).optional(),
  qosPolicy: anything.optional(),
  bgpSpeaker: anything.optional(),
});

export const iptablesEipSpec = z.strictObject({
  v4ip: str.optional(),
  v6ip: anything.optional(),
  macAddress: str.optional(),
  natGwDp: str,
  externalSubnet: str.optional(),
  qosPolicy: anything.optional(),
  namespace: anything.optional(),
});

export const iptablesSnatRuleSpec = z.strictObject({ eip: str, internalCIDR: str });

const port = z.union([z.string(), z.number().int()]);
export const iptablesDnatRuleSpec = z.strictObject({
  eip: str,
  externalPort: port,
  protocol: str.optional(),
  internalIp: str,
  internalPort: port,
  clusterIP: anything.optional(),
  vpcNatGwDp: anything.optional(),
  type: anything.optional(),
  sessionAffinity: anything.optional(),
  sessionAffinityTimeoutSeconds: anything.optional(),
});

export const iptablesFipRuleSpec = z.strictObject({ eip: str, internalIp: str });

/** Spec schema per kind. */
export const SPEC_SCHEMAS = {
  Vpc: vpcSpec,
  Subnet: subnetSpec,
  NetworkAttachmentDefinition: nadSpec,
  ProviderNetwork: providerNetworkSpec,
  Vlan: vlanSpec,
  VpcNatGateway: vpcNatGatewaySpec,
  IptablesEIP: iptablesEipSpec,
  IptablesSnatRule: iptablesSnatRuleSpec,
  IptablesDnatRule: iptablesDnatRuleSpec,
  IptablesFIPRule: iptablesFipRuleSpec,
} as const;

/** apiVersion per kind. */
export const API_VERSIONS: Record<keyof typeof SPEC_SCHEMAS, string> = {
  Vpc: 'kubeovn.io/v1',
  Subnet: 'kubeovn.io/v1',
  NetworkAttachmentDefinition: 'k8s.cni.cncf.io/v1',
  ProviderNetwork: 'kubeovn.io/v1',
  Vlan: 'kubeovn.io/v1',
  VpcNatGateway: 'kubeovn.io/v1',
  IptablesEIP: 'kubeovn.io/v1',
  IptablesSnatRule: 'kubeovn.io/v1',
  IptablesDnatRule: 'kubeovn.io/v1',
  IptablesFIPRule: 'kubeovn.io/v1',
};

/**
 * Kube-OVN spec fields this agent does not implement, per kind. Each is accepted only while
 * it holds its empty value (false, 0, '', [], {}, null), so manifests that merely spell out
 * Kube-OVN's defaults still load.
 */
export const UNSUPPORTED: Record<string, readonly string[]> = {
  Vpc: ['enableExternal', 'extraExternalSubnets', 'enableBfd', 'bfdPort', 'dynamicRouting'],
  Subnet: [
    'vips',
    'logicalGateway',
    'disableGatewayCheck',
    'disableInterConnection',
    'dhcpV6Options',
    'enableIPv6RA',
    'ipv6RAConfigs',
    'allowEWTraffic',
    'natOutgoingPolicyRules',
    'u2oInterconnectionIP',
    'u2oInterconnection',
    'u2oFeatures',
    'enableEcmp',
    'enableMulticastSnoop',
    'enableExternalLBAddress',
    'externalEgressGateway',
    'policyRoutingPriority',
    'policyRoutingTableID',
    'routeTable',
    'namespaceSelectors',
    'gatewayNodeSelectors',
    'nodeNetwork',
  ],
  ProviderNetwork: ['nodeSelector', 'exchangeLinkName', 'preserveVlanInterfaces', 'vlanInterfaces'],
  Vlan: ['vlanId', 'providerInterfaceName'],
  VpcNatGateway: ['qosPolicy', 'bgpSpeaker'],
  IptablesEIP: ['v6ip', 'qosPolicy', 'namespace'],
  IptablesDnatRule: ['clusterIP', 'vpcNatGwDp', 'type', 'sessionAffinity', 'sessionAffinityTimeoutSeconds'],
  'Vpc.staticRoutes': ['ecmpMode', 'bfdId'],
};

/** True for the "not set" values of `UNSUPPORTED` fields. */
export function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isEmptyValue);
  return false;
}
