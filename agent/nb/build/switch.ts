/**
 * One Logical_Switch per Subnet, attached to its VPC's router by a router port pair, or — for
 * a VLAN (underlay) subnet — to the physical network by a localnet port (ovn-nb(5):
 * Logical_Switch, Logical_Router_Port, Logical_Switch_Port types `router` and `localnet`).
 */
import type { Subnet } from '../../resources/types.js';
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import {
  dhcpServerMac,
  keys,
  localnetPortName,
  routerPortMac,
  routerPortName,
  SUBNET_KEY,
  subnetResource,
  switchName,
  switchRouterPortName,
  VPC_KEY,
} from './names.js';

/** What later builders (DHCP, ACLs, ports, NAT) need to know about a built subnet. */
export interface SubnetInfo {
  subnet: Subnet;
  ls: DesiredRow;
  /** Underlay: the gateway is a physical router on the VLAN; no router port pair. */
  vlan: boolean;
  /** The router port on the VPC router, when there is one. */
  lrp?: DesiredRow;
  /** DHCP `server_mac`: the router port's MAC, or a stable per-subnet MAC for VLAN subnets. */
  serverMac: string;
  /** MTU handed out by DHCP / RA. */
  mtu: number;
}

/** Builds every subnet's switch, router port pair or localnet port. */
export function buildSwitches(ctx: BuildContext, routers: Map<string, DesiredRow>): Map<string, SubnetInfo> {
  const out = new Map<string, SubnetInfo>();
  for (const subnet of ctx.subnets) {
    const info = buildSwitch(ctx, subnet, routers);
    if (info) out.set(subnet.meta.name, info);
  }
  return out;
}

function ipamHints(ctx: BuildContext, subnet: Subnet): Record<string, string> {
  if (!ctx.options.ovnIpamHints) return {};
  // ovn-nb(5) Logical_Switch other_config: subnet + exclude_ips (space separated, `a..b`
  // ranges) for IPv4, ipv6_prefix for IPv6.
  const s = subnet.spec;
  if (s.cidr.family === 6) return { ipv6_prefix: s.cidr.text.split('/')[0] as string };
  const hints: Record<string, string> = { subnet: s.cidr.text };
  if (s.excludeIps.length > 0) hints['exclude_ips'] = s.excludeIps.join(' ');
  return hints;
}

function buildSwitch(
  ctx: BuildContext,
  subnet: Subnet,
  routers: Map<string, DesiredRow>,
): SubnetInfo | undefined {
  const name = subnet.meta.name;
  const s = subnet.spec;
  const resource = subnetResource(name);
  const vlan = s.vlan !== undefined;
  const ls = ctx.addParent({
    table: 'Logical_Switch',
    key: keys.switch(name),
    resource,
    columns: {
      name: switchName(name),
      other_config: ipamHints(ctx, subnet),
      external_ids: { [VPC_KEY]: s.vpc },
    },
    refs: { ports: [], acls: [] },
  });
  const mtu = s.mtu ?? (vlan ? ctx.options.underlayMtu : ctx.options.overlayMtu);
  const info: SubnetInfo = { subnet, ls, vlan, serverMac: dhcpServerMac(name), mtu };

  if (vlan) {
    buildLocalnet(ctx, info);
    return info;
  }
  const router = routers.get(s.vpc);
  if (!router) {
    ctx.warn(resource, `VPC ${JSON.stringify(s.vpc)} has no router; the subnet is not routed`);
    return info;
  }
  const lrpName = routerPortName(s.vpc, name);
  const lspName = switchRouterPortName(name, s.vpc);
  if (!ctx.claim('Logical_Router_Port', lrpName, resource)) return info;
  if (!ctx.claim('Logical_Switch_Port', lspName, resource)) return info;
  const mac = routerPortMac(lrpName);
  // IPv6 with DHCP: router advertisements tell hosts to use DHCPv6 for addresses and give the
  // default route (ovn-nb(5) Logical_Router_Port ipv6_ra_configs; RFC 4861 §4.2 M flag).
  const ra: Record<string, string> =
    s.cidr.family === 6 && s.enableDHCP
      ? { address_mode: 'dhcpv6_stateful', send_periodic: 'true', mtu: String(mtu) }
      : {};
  const lrp = ctx.add({
    table: 'Logical_Router_Port',
    key: keys.lrp(lrpName),
    resource,
    columns: {
      name: lrpName,
      mac,
      networks: [`${s.gateway}/${s.cidr.prefix}`],
      peer: undefined,
      ipv6_ra_configs: ra,
      external_ids: { [VPC_KEY]: s.vpc, [SUBNET_KEY]: name },
    },
    refs: { gateway_chassis: [] },
  });
  ctx.link(router, 'ports', lrp);
  routerSwitchPort(ctx, ls, { lspName, lrpName, resource, subnet: name });
  info.lrp = lrp;
  info.serverMac = mac;
  return info;
}

/**
 * The switch side of a router port pair: an LSP of type `router` (addresses `router`) bound
 * to `lrpName`, linked from `ls`. `options` adds to `router-port` (e.g. `nat-addresses`).
 */
export function routerSwitchPort(
  ctx: BuildContext,
  ls: DesiredRow,
  p: { lspName: string; lrpName: string; resource: string; subnet: string; options?: Record<string, string> },
): DesiredRow {
  const lsp = ctx.add({
    table: 'Logical_Switch_Port',
    key: keys.lsp(p.lspName),
    resource: p.resource,
    columns: {
      name: p.lspName,
      type: 'router',
      addresses: ['router'],
      port_security: [],
      options: { 'router-port': p.lrpName, ...p.options },
      external_ids: { [SUBNET_KEY]: p.subnet },
    },
  });
  ctx.link(ls, 'ports', lsp);
  return lsp;
}

/**
 * VLAN subnet: a localnet port `localnet.<subnet>`, `network_name` = the ProviderNetwork (the
 * node maps it to `br-<provider>` in `ovn-bridge-mappings`), `tag` = the VLAN id; id 0 means
 * untagged, so `tag` stays empty (its range is 1..4095).
 */
function buildLocalnet(ctx: BuildContext, info: SubnetInfo): void {
  const name = info.subnet.meta.name;
  const resource = subnetResource(name);
  const vlan = ctx.resources.vlans.get(info.subnet.spec.vlan as string);
  if (!vlan) {
    ctx.warn(resource, `Vlan ${JSON.stringify(info.subnet.spec.vlan)} is missing; no localnet port`);
    return;
  }
  const lspName = localnetPortName(name);
  if (!ctx.claim('Logical_Switch_Port', lspName, resource)) return;
  const lsp = ctx.add({
    table: 'Logical_Switch_Port',
    key: keys.lsp(lspName),
    resource,
    columns: {
      name: lspName,
      type: 'localnet',
      addresses: ['unknown'],
      port_security: [],
      options: { network_name: vlan.spec.provider },
      tag: vlan.spec.id === 0 ? undefined : vlan.spec.id,
      external_ids: { [SUBNET_KEY]: name },
    },
  });
  ctx.link(info.ls, 'ports', lsp);
}
