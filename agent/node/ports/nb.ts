/**
 * The workload ports as Northbound holds them, so the agent's `ports` list is rebuilt on start
 * — without it the NB reconciler would prune every port after a restart.
 * An owned LSP with `vpc-agent.io/ip-owner` (agent/nb/build/ports.ts) becomes one
 * {@link PortAllocation}: subnet and owner from `external_ids`, mac and ip from `addresses[0]`,
 * the chassis from `options:requested-chassis`, the resource from `vpc-agent.io/resource`.
 */
import type { DatabaseCache, Row } from '../../../ovsdb/index.js';
import { IP_OWNER_KEY, SUBNET_KEY, type PortAllocation } from '../../nb/build/index.js';
import { OWNER_KEY, RESOURCE_KEY } from '../../nb/desired.js';
import { parseLspAddress } from '../../ownership.js';
import type { Subnet } from '../../resources/types.js';

const mapOf = (row: Row, column: string): Record<string, string> => {
  const v = row[column];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
};

/** Workload ports of `owner` found in the NB cache, by LSP name order. */
export function portsFromNb(cache: DatabaseCache, owner: string): PortAllocation[] {
  const out: PortAllocation[] = [];
  for (const row of cache.rows('Logical_Switch_Port')) {
    const ids = mapOf(row, 'external_ids');
    if (ids[OWNER_KEY] !== owner || row['type'] !== '') continue;
    const ipOwner = ids[IP_OWNER_KEY];
    const subnet = ids[SUBNET_KEY];
    const address = parseLspAddress((row['addresses'] as string[] | undefined)?.[0]);
    if (!ipOwner || !subnet || !address) continue;
    const { mac, ip } = address;
    const chassis = mapOf(row, 'options')['requested-chassis'];
    const resource = ids[RESOURCE_KEY];
    out.push({
      subnet,
      name: String(row['name']),
      ip,
      mac,
      owner: ipOwner,
      ...(resource ? { resource } : {}),
      ...(chassis ? { chassis } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * MTU of a subnet's ports: the subnet's `mtu`, else what the NB builder hands out in DHCP
 * (docs/northbound.md "DHCP": overlay 1400, VLAN 1500), so static and DHCP ports agree.
 */
export function subnetMtu(subnet: Subnet, defaults: { overlayMtu: number; underlayMtu: number }): number {
  return subnet.spec.mtu ?? (subnet.spec.vlan !== undefined ? defaults.underlayMtu : defaults.overlayMtu);
}
