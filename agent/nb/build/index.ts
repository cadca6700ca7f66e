/**
 * Northbound desired state: a pure function of the validated resources and the ports IPAM has
 * allocated. The reconcile engine (`agent/nb/reconcile/`) diffs the result
 * with the rows the agent owns; docs/northbound.md describes every row built here.
 *
 * Order of work: routers (static/policy routes, peering) → switches (router port pairs,
 * localnet) → DHCP → ACLs → workload ports → natOutgoing gateway → VPC NAT gateways' routing and EIP records. Each step only adds rows and
 * links them from parents created before it.
 */
import type { DesiredState } from '../desired.js';
import { buildAcls } from './acl.js';
import { BuildContext } from './context.js';
import { buildDhcp } from './dhcp.js';
import { buildEipRecords, buildNatGateways } from './nat-gateway.js';
import { buildNatOutgoing } from './nat.js';
import { buildPorts } from './ports.js';
import { buildRouters } from './router.js';
import { buildSwitches } from './switch.js';
import { resolveOptions, type BuildInput, type BuildResult } from './types.js';

/** Builds the desired Northbound rows and reports what could not be expressed. */
export function buildNorthboundReport(input: BuildInput): BuildResult {
  const ctx = new BuildContext(input.resources, input.ports, resolveOptions(input.options));
  const routers = buildRouters(ctx);
  const subnets = buildSwitches(ctx, routers);
  const dhcp = buildDhcp(ctx, subnets);
  buildAcls(ctx, subnets);
  buildPorts(ctx, subnets, dhcp);
  buildNatOutgoing(ctx, routers, subnets);
  buildNatGateways(ctx, routers);
  buildEipRecords(ctx, input.eips ?? new Map());
  return { state: ctx.finish(), warnings: ctx.warnings };
}

/** Builds the desired Northbound rows (warnings dropped; use {@link buildNorthboundReport} to see them). */
export function buildNorthbound(input: BuildInput): DesiredState {
  return buildNorthboundReport(input).state;
}

export {
  DEFAULT_BUILD_OPTIONS,
  eipOwner,
  natGatewayOwner,
  resolveOptions,
  type BuildInput,
  type BuildOptions,
  type BuildOptionsInput,
  type BuildResult,
  type BuildWarning,
  type NatGatewayOptions,
  type PortAllocation,
} from './types.js';
export {
  IP_OWNER_KEY,
  SUBNET_KEY,
  VPC_KEY,
  eipRecordName,
  keys,
  localnetPortName,
  peeringPortName,
  routerPortMac,
  routerPortName,
  switchRouterPortName,
} from './names.js';
export { ACL_PRIORITY, allowedPrefixes } from './acl.js';
export { DHCPV4_OPTION_NAMES } from './dhcp.js';
