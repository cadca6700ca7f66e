/**
 * The Northbound writer's desired state from a snapshot. Allocation comes first (the
 * natOutgoing gateway's address from IPAM), then the pure build (`buildNorthboundReport`) sees
 * only values. Workload ports are not part of it: each node's agent writes its own
 * (`agent/node/ports/nb-ports.ts`), and the writer leaves those rows alone.
 */
import type { Ipam } from '../ipam/index.js';
import type { Snapshot } from '../pipeline/snapshot.js';
import { DEFAULT_EXTERNAL_SUBNET, DEFAULT_VPC } from '../resources/types.js';
import { buildNorthboundReport, eipOwner, natGatewayOwner } from './build/index.js';
import type { DesiredState } from './desired.js';

export interface WriterDesired {
  state: DesiredState;
  warnings: { resource: string; message: string }[];
}

/** Allocates what the build needs, then builds. */
export function writerDesired(
  snapshot: Snapshot,
  ipam: Ipam,
  opts: { gatewayChassis: string[] },
): WriterDesired {
  const resources = snapshot.resources;
  const natGateway: { chassis: string[]; ip?: string } = { chassis: opts.gatewayChassis };
  const warnings: WriterDesired['warnings'] = [];
  const needsGateway = [...resources.subnets.values()].some(
    (s) => s.spec.natOutgoing && s.spec.vpc === DEFAULT_VPC,
  );
  const owner = natGatewayOwner(DEFAULT_VPC);
  if (needsGateway && ipam.hasSubnet(DEFAULT_EXTERNAL_SUBNET)) {
    try {
      natGateway.ip = ipam.allocate(DEFAULT_EXTERNAL_SUBNET, owner).ip;
    } catch (err) {
      warnings.push({
        resource: `Subnet/${DEFAULT_EXTERNAL_SUBNET}`,
        message: `no address for the natOutgoing gateway: ${(err as Error).message}`,
      });
    }
  } else if (ipam.hasSubnet(DEFAULT_EXTERNAL_SUBNET)) {
    ipam.release(owner, DEFAULT_EXTERNAL_SUBNET);
  }
  const eips = allocateEips(resources, ipam, warnings);
  const report = buildNorthboundReport({ resources, ports: [], options: { natGateway }, eips });
  return { state: report.state, warnings: [...warnings, ...report.warnings] };
}

/**
 * Every IptablesEIP's address from IPAM (owner `eip/<name>`): its `v4ip`, or the next free one
 * of its external network, then the same one for as long as its Northbound record exists. An
 * EIP removed from the resources lets its address go (its record is pruned with it).
 */
function allocateEips(resources: Snapshot['resources'], ipam: Ipam, warnings: WriterDesired['warnings']) {
  const out = new Map<string, string>();
  for (const eip of resources.eips.values()) {
    const subnet = eip.spec.externalSubnet;
    if (!ipam.hasSubnet(subnet)) continue;
    const owner = eipOwner(eip.meta.name);
    const wanted = eip.spec.v4ip;
    try {
      const current = ipam.get(subnet, owner)?.ip;
      if (wanted !== undefined && current !== undefined && current !== wanted) {
        // v4ip edited: the record moves to the new address (its hold follows the record).
        const holder = ipam.ownerOf(subnet, wanted);
        if (holder !== undefined && holder !== owner)
          throw new Error(`${wanted} is already allocated to ${holder}`);
        ipam.release(owner, subnet);
        out.set(eip.meta.name, wanted);
        continue;
      }
      out.set(eip.meta.name, ipam.allocate(subnet, owner, wanted !== undefined ? { ip: wanted } : {}).ip);
    } catch (err) {
      warnings.push({
        resource: `IptablesEIP/${eip.meta.name}`,
        message: `no address: ${(err as Error).message}`,
      });
    }
  }
  for (const a of ipam.allocations())
    if (a.owner.startsWith('eip/') && !resources.eips.has(a.owner.slice(4))) ipam.release(a.owner, a.subnet);
  return out;
}
