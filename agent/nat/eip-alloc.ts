/**
 * Addresses for IptablesEIPs without `v4ip`, chosen BEFORE the desired state is built (the build
 * stays pure). Pure itself: the same resources and the same `held` map give the same answer.
 *
 * - An EIP keeps what it was given (`held`) while that address is still free and inside its
 *   external subnet.
 * - Others get the lowest free address of their external subnet: not the network/broadcast, not
 *   the gateway or `excludeIps`, not another EIP's `v4ip` or allocation. EIPs are served in name
 *   order, so two agents deciding from the same resources agree.
 *
 * TODO(persistence): `held` lives in memory, so the choice is stable across passes but not
 * across an agent restart if the set of EIPs changed meanwhile. The address is meant to be
 * written back as the EIP's `status.ip` (and read back into `held`) once the Kubernetes source
 * can write status.
 */
import { cidrContains, formatIp, parseIp } from '../../netlink/inet.js';
import { reservedAddresses, type ResourceSet } from '../resources/index.js';

export function allocateEips(
  set: ResourceSet,
  held: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const taken = new Set<bigint>();
  for (const e of set.eips.values()) if (e.spec.v4ip) taken.add(parseIp(e.spec.v4ip).value);
  const out = new Map<string, string>();
  const waiting = [...set.eips.values()]
    .filter((e) => !e.spec.v4ip)
    .sort((a, b) => a.meta.name.localeCompare(b.meta.name));
  const usable = (subnetName: string, v: bigint): boolean => {
    const s = set.subnets.get(subnetName);
    if (!s || s.spec.cidr.family !== 4 || !cidrContains(s.spec.cidr, v, 4)) return false;
    if (reservedAddresses(s.spec.cidr).includes(v)) return false;
    return !s.spec.excludeRanges.some((r) => v >= r.first && v <= r.last);
  };
  // First keep what is held, so a newcomer never takes an older EIP's address.
  const rest = [];
  for (const e of waiting) {
    const h = held.get(e.meta.name);
    const v = h === undefined ? undefined : parseIp(h).value;
    if (v !== undefined && !taken.has(v) && usable(e.spec.externalSubnet, v)) {
      taken.add(v);
      out.set(e.meta.name, formatIp(4, v));
    } else rest.push(e);
  }
  for (const e of rest) {
    const s = set.subnets.get(e.spec.externalSubnet);
    if (!s) continue;
    for (let v = s.spec.cidr.first; v <= s.spec.cidr.last; v++) {
      if (taken.has(v) || !usable(e.spec.externalSubnet, v)) continue;
      taken.add(v);
      out.set(e.meta.name, formatIp(4, v));
      break;
    }
  }
  return out;
}
