/**
 * Names, row keys and the builders' own `external_ids` keys.
 *
 * Names follow Kube-OVN's conventions, so operators reading `ovn-nbctl show` find what they
 * expect: router `<vpc>`, switch `<subnet>`, router port `<vpc>-<subnet>`, its switch-side
 * peer `<subnet>-<vpc>`, localnet port `localnet.<subnet>`, peering port `<vpc>-<remoteVpc>`.
 * Keys (`external_ids[ROW_KEY]`, see `../desired.ts`) are unique within a table.
 */
import { createHash } from 'node:crypto';
import { deriveMac } from '../../ipam/mac.js';

export { IP_KEY, IP_OWNER_KEY, SUBNET_KEY } from '../../ownership.js';
/** Logical_Switch/Logical_Router_Port: the VPC the row belongs to. */
export const VPC_KEY = 'vpc-agent.io/vpc';

export const routerName = (vpc: string): string => vpc;
export const switchName = (subnet: string): string => subnet;
/** Router side of a subnet's router port pair. */
export const routerPortName = (vpc: string, subnet: string): string => `${vpc}-${subnet}`;
/** Switch side (type `router`) of a subnet's router port pair. */
export const switchRouterPortName = (subnet: string, vpc: string): string => `${subnet}-${vpc}`;
export const localnetPortName = (subnet: string): string => `localnet.${subnet}`;
/** Peering port on `vpc`'s router towards `remote`. */
export const peeringPortName = (vpc: string, remote: string): string => `${vpc}-${remote}`;
export const gatewayChassisName = (lrp: string, chassis: string): string => `${lrp}-${chassis}`;

export const keys = {
  router: (vpc: string) => `lr/${vpc}`,
  switch: (subnet: string) => `ls/${subnet}`,
  lrp: (name: string) => `lrp/${name}`,
  lsp: (name: string) => `lsp/${name}`,
  dhcp: (subnet: string) => `dhcp/${subnet}`,
  acl: (subnet: string, role: string) => `acl/${subnet}/${role}`,
  route: (vpc: string, policy: string, table: string, prefix: string, nexthop: string) =>
    `route/${vpc}/${policy}/${table}/${prefix}/${nexthop}`,
  policy: (vpc: string, priority: number, match: string) => `policy/${vpc}/${priority}/${digest(match)}`,
  snat: (vpc: string, logicalIp: string) => `nat/${vpc}/snat/${logicalIp}`,
  gatewayChassis: (lrp: string, chassis: string) => `gwc/${lrp}/${chassis}`,
  eip: (name: string) => `eip/${name}`,
} as const;

/**
 * Address_Set holding an EIP's address (its record). Address set names are identifiers in
 * logical-flow matches (letters, digits, `_`, `.`), so the EIP name goes in as a digest.
 */
export const eipRecordName = (eip: string): string => `vpc_agent.eip.${digest(eip)}`;

/** Short stable digest of free text (matches) for keys. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * MAC of a router port (and DHCP `server_mac`): derived from the port name, so it is stable
 * across restarts without being stored; locally administered, unicast (IEEE 802 §8.2).
 */
export function routerPortMac(lrpName: string): string {
  return deriveMac('vpc-agent.io/router-port', lrpName);
}

/** `server_mac` for subnets without a router port (VLAN subnets): stable per subnet. */
export function dhcpServerMac(subnet: string): string {
  return deriveMac('vpc-agent.io/dhcp-server', subnet);
}

/** ovn-nb(5): ACL.name is at most 63 characters. */
export function aclName(text: string): string {
  return text.length <= 63 ? text : text.slice(0, 63);
}

export const subnetResource = (name: string): string => `Subnet/${name}`;
export const vpcResource = (name: string): string => `Vpc/${name}`;
