/**
 * The Northbound writer's desired state from a snapshot. Allocation comes first (the
 * natOutgoing gateway's address from IPAM), then the pure build (`buildNorthboundReport`) sees
 * only values. Workload ports are not part of it: each node's agent writes its own
 * (`agent/node/ports/nb-ports.ts`), and the writer leaves those rows alone.
 */
import type { Ipam } from '../ipam/index.js';
import type { Snapshot } from '../pipeline/snapshot.js';
import { DEFAULT_EXTERNAL_SUBNET, DEFAULT_VPC } from '../resources/types.js';
import { buildNorthboundReport, natGatewayOwner } from './build/index.js';
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
  const report = buildNorthboundReport({ resources, ports: [], options: { natGateway } });
  return { state: report.state, warnings: [...warnings, ...report.warnings] };
}
