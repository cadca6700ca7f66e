/** The MTU of a subnet's workload ports. */
import type { Subnet } from '../../resources/types.js';

/**
 * MTU of a subnet's ports: the subnet's `mtu`, else what the NB builder hands out in DHCP
 * (docs/northbound.md "DHCP": overlay 1400, VLAN 1500), so static and DHCP ports agree.
 */
export function subnetMtu(subnet: Subnet, defaults: { overlayMtu: number; underlayMtu: number }): number {
  return subnet.spec.mtu ?? (subnet.spec.vlan !== undefined ? defaults.underlayMtu : defaults.overlayMtu);
}
