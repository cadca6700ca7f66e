/**
 * Workload (VM) ports: one Logical_Switch_Port per {@link PortAllocation} (ovn-nb(5)
 * Logical_Switch_Port `addresses`, `port_security`, `dhcpv4_options`, `options:requested-chassis`).
 *
 * `external_ids` carry the IPAM owner and subnet, so IPAM holds the address from NB (identity
 * is stable across restarts): `{ subnet: ids[SUBNET_KEY], owner: ids[IP_OWNER_KEY], ip, mac }`
 * with ip and mac from `addresses[0]` (`"<mac> <ip>"`, agent/ownership.ts).
 */
import { cidrContains, tryParseIp } from '../../../netlink/inet.js';
import { formatLspAddress } from '../../ownership.js';
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import { IP_OWNER_KEY, keys, SUBNET_KEY } from './names.js';
import type { SubnetInfo } from './switch.js';
import type { PortAllocation } from './types.js';

/** `resource` of a port's row. */
export function portResource(p: PortAllocation): string {
  return p.resource ?? `Port/${p.name}`;
}

/** Adds the LSP of every port whose subnet exists; others are reported and skipped. */
export function buildPorts(
  ctx: BuildContext,
  subnets: Map<string, SubnetInfo>,
  dhcp: Map<string, DesiredRow>,
): void {
  for (const subnetName of [...ctx.portSubnets()].sort()) {
    const info = subnets.get(subnetName);
    for (const port of ctx.portsOf(subnetName)) {
      if (!info) {
        ctx.warn(portResource(port), `subnet ${JSON.stringify(subnetName)} does not exist; port skipped`);
        continue;
      }
      buildPort(ctx, info, dhcp.get(subnetName), port);
    }
  }
}

function buildPort(
  ctx: BuildContext,
  info: SubnetInfo,
  dhcp: DesiredRow | undefined,
  port: PortAllocation,
): void {
  const resource = portResource(port);
  const ip = tryParseIp(port.ip);
  if (!ip || !cidrContains(info.subnet.spec.cidr, ip)) {
    ctx.warn(
      resource,
      `address ${port.ip} is not in subnet ${info.subnet.meta.name} (${info.subnet.spec.cidr.text})`,
    );
    return;
  }
  if (!ctx.claim('Logical_Switch_Port', port.name, resource)) return;
  const address = formatLspAddress(port.mac, ip.text);
  const options: Record<string, string> = {};
  if (port.chassis !== undefined) options['requested-chassis'] = port.chassis;
  const v4 = ip.family === 4;
  const row = ctx.add({
    table: 'Logical_Switch_Port',
    key: keys.lsp(port.name),
    resource,
    columns: {
      name: port.name,
      type: '',
      addresses: [address],
      port_security: [address],
      options,
      external_ids: { [IP_OWNER_KEY]: port.owner, [SUBNET_KEY]: info.subnet.meta.name },
    },
    refs: {
      dhcpv4_options: v4 && dhcp ? [{ table: dhcp.table, key: dhcp.key }] : [],
      dhcpv6_options: !v4 && dhcp ? [{ table: dhcp.table, key: dhcp.key }] : [],
    },
  });
  ctx.link(info.ls, 'ports', row);
}
