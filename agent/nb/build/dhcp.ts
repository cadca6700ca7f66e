/**
 * OVN native DHCP: one DHCP_Options row per subnet with `enableDHCP` (the default), referenced
 * by each workload port's `dhcpv4_options` (`dhcpv6_options` for IPv6). ovn-controller answers
 * the VM's DHCP itself, so a VM gets its address, netmask, MTU and **default route** (option 3,
 * `router`) without anyone logging in (ovn-nb(5) DHCP_Options; RFC 2132).
 */
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import { keys, SUBNET_KEY, subnetResource } from './names.js';
import type { SubnetInfo } from './switch.js';

/**
 * DHCPv4 option names ovn-northd accepts in DHCP_Options.options (OVN 23.03, ovn-nb(5)).
 * `dhcpV4Options` keys outside this list are reported and dropped (ovn-northd would ignore
 * them without a word).
 */
export const DHCPV4_OPTION_NAMES: ReadonlySet<string> = new Set([
  'server_id',
  'server_mac',
  'lease_time',
  'router',
  'netmask',
  'dns_server',
  'log_server',
  'lpr_server',
  'swap_server',
  'policy_filter',
  'router_solicitation',
  'nis_server',
  'ntp_server',
  'netbios_name_server',
  'classless_static_route',
  'ms_classless_static_route',
  'next_server',
  'ip_forward_enable',
  'router_discovery',
  'ethernet_encap',
  'default_ttl',
  'tcp_ttl',
  'mtu',
  'T1',
  'T2',
  'arp_cache_timeout',
  'tcp_keepalive_interval',
  'netbios_node_type',
  'wpad',
  'bootfile_name',
  'path_prefix',
  'tftp_server_address',
  'hostname',
  'domain_name',
  'bootfile_name_alt',
  'broadcast_address',
  'tftp_server',
  'domain_search_list',
]);

/** The DHCP_Options row of every subnet that has DHCP enabled, by subnet name. */
export function buildDhcp(ctx: BuildContext, subnets: Map<string, SubnetInfo>): Map<string, DesiredRow> {
  const out = new Map<string, DesiredRow>();
  for (const info of subnets.values()) {
    if (!info.subnet.spec.enableDHCP) continue;
    const options = info.subnet.spec.cidr.family === 4 ? dhcpV4Options(ctx, info) : dhcpV6Options(ctx, info);
    const name = info.subnet.meta.name;
    const row = ctx.add({
      table: 'DHCP_Options',
      key: keys.dhcp(name),
      resource: subnetResource(name),
      columns: { cidr: info.subnet.spec.cidr.text, options, external_ids: { [SUBNET_KEY]: name } },
    });
    out.set(name, row);
  }
  return out;
}

/**
 * Mandatory `server_id`/`server_mac`/`lease_time` plus `router` and `mtu`; then the subnet's
 * `dhcpV4Options` on top (the user's value wins, as in Kube-OVN, e.g. a custom lease time or
 * `dns_server={a,b}`).
 */
function dhcpV4Options(ctx: BuildContext, info: SubnetInfo): Record<string, string> {
  const s = info.subnet.spec;
  const options: Record<string, string> = {
    server_id: s.gateway,
    server_mac: info.serverMac,
    router: s.gateway,
    lease_time: String(ctx.options.leaseTime),
    mtu: String(info.mtu),
  };
  for (const [k, v] of Object.entries(s.dhcpV4Options)) {
    if (DHCPV4_OPTION_NAMES.has(k)) options[k] = v;
    else
      ctx.warn(
        subnetResource(info.subnet.meta.name),
        `dhcpV4Options: ${k} is not an OVN DHCPv4 option; dropped`,
      );
  }
  return options;
}

/** DHCPv6: `server_id` is the server's MAC (DUID-LL, ovn-nb(5)); routes come from RAs. */
function dhcpV6Options(ctx: BuildContext, info: SubnetInfo): Record<string, string> {
  if (Object.keys(info.subnet.spec.dhcpV4Options).length > 0) {
    ctx.warn(subnetResource(info.subnet.meta.name), 'dhcpV4Options ignored on an IPv6 subnet');
  }
  return { server_id: info.serverMac };
}
