/**
 * `natOutgoing` for subnets of the default VPC (docs/northbound.md, "natOutgoing").
 *
 * The `ovn-cluster` router gets a distributed gateway port on the external subnet — a VLAN
 * (underlay) subnet named by `options.natGateway.externalSubnet` — holding an address from that
 * subnet (`options.natGateway.ip`, allocated by IPAM for {@link natGatewayOwner}), scheduled on
 * the gateway chassis given in the options (ovn-nb(5) Logical_Router_Port `gateway_chassis`,
 * Gateway_Chassis). A default route points at the external subnet's gateway, and each
 * natOutgoing subnet gets one `snat` NAT row: `logical_ip` = the subnet CIDR, `external_ip` =
 * the gateway port's address (ovn-nb(5) NAT).
 */
import { cidrContains, tryParseIp } from '../../../netlink/inet.js';
import { DEFAULT_VPC, type Subnet } from '../../resources/types.js';
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import { addStaticRoute } from './router.js';
import {
  gatewayChassisName,
  IP_OWNER_KEY,
  IP_KEY,
  keys,
  routerPortMac,
  routerPortName,
  SUBNET_KEY,
  subnetResource,
  switchRouterPortName,
  VPC_KEY,
} from './names.js';
import { routerSwitchPort, type SubnetInfo } from './switch.js';
import { natGatewayOwner } from './types.js';

/** Builds the gateway port, its default route and the SNAT rows, when everything needed is there. */
export function buildNatOutgoing(
  ctx: BuildContext,
  routers: Map<string, DesiredRow>,
  subnets: Map<string, SubnetInfo>,
): void {
  const natted: Subnet[] = [];
  for (const info of subnets.values()) {
    const s = info.subnet;
    if (!s.spec.natOutgoing) continue;
    const resource = subnetResource(s.meta.name);
    if (s.spec.vpc !== DEFAULT_VPC) {
      ctx.warn(
        resource,
        `natOutgoing applies to subnets of ${DEFAULT_VPC} only (use a VpcNatGateway); ignored`,
      );
    } else if (info.vlan) {
      ctx.warn(resource, 'natOutgoing is ignored on a VLAN subnet (its gateway is the physical router)');
    } else if (s.spec.cidr.family !== 4) {
      ctx.warn(resource, 'natOutgoing is IPv4 only; ignored');
    } else natted.push(s);
  }
  const gw = buildGateway(ctx, routers, subnets, natted);
  if (!gw) return;
  for (const s of natted) {
    const row = ctx.add({
      table: 'NAT',
      key: keys.snat(DEFAULT_VPC, s.spec.cidr.text),
      resource: subnetResource(s.meta.name),
      columns: {
        type: 'snat',
        logical_ip: s.spec.cidr.text,
        external_ip: gw.ip,
        logical_port: undefined,
        external_mac: undefined,
        external_port_range: '',
        external_ids: { [SUBNET_KEY]: s.meta.name },
      },
      refs: { gateway_port: [{ table: gw.lrp.table, key: gw.lrp.key }] },
    });
    ctx.link(gw.router, 'nat', row);
  }
}

interface Gateway {
  router: DesiredRow;
  lrp: DesiredRow;
  ip: string;
}

/** The ovn-cluster router's port on the external subnet, or undefined (with warnings) when it cannot be built. */
function buildGateway(
  ctx: BuildContext,
  routers: Map<string, DesiredRow>,
  subnets: Map<string, SubnetInfo>,
  natted: readonly Subnet[],
): Gateway | undefined {
  const opts = ctx.options.natGateway;
  const router = routers.get(DEFAULT_VPC);
  const ext = subnets.get(opts.externalSubnet);
  const blame = (message: string): undefined => {
    for (const s of natted) ctx.warn(subnetResource(s.meta.name), `natOutgoing has no effect: ${message}`);
    return undefined;
  };
  if (!router) return blame(`VPC ${DEFAULT_VPC} has no router`);
  if (!ext) {
    return natted.length > 0
      ? blame(`external subnet ${JSON.stringify(opts.externalSubnet)} does not exist`)
      : undefined;
  }
  const resource = subnetResource(ext.subnet.meta.name);
  if (!ext.vlan) {
    ctx.warn(resource, 'the external subnet must be a VLAN (underlay) subnet; no NAT gateway');
    return blame('the external subnet is not a VLAN subnet');
  }
  if (opts.ip === undefined) {
    ctx.warn(resource, 'no gateway address given (options.natGateway.ip); no NAT gateway');
    return blame('no NAT gateway address');
  }
  const ip = tryParseIp(opts.ip);
  if (!ip || !cidrContains(ext.subnet.spec.cidr, ip)) {
    ctx.warn(resource, `gateway address ${opts.ip} is not in ${ext.subnet.spec.cidr.text}; no NAT gateway`);
    return blame('bad NAT gateway address');
  }
  const lrpName = routerPortName(DEFAULT_VPC, ext.subnet.meta.name);
  const lspName = switchRouterPortName(ext.subnet.meta.name, DEFAULT_VPC);
  if (!ctx.claim('Logical_Router_Port', lrpName, resource)) return blame('gateway port name taken');
  if (!ctx.claim('Logical_Switch_Port', lspName, resource)) return blame('gateway port name taken');

  const lrp = ctx.addParent({
    table: 'Logical_Router_Port',
    key: keys.lrp(lrpName),
    resource,
    columns: {
      name: lrpName,
      mac: routerPortMac(lrpName),
      networks: [`${ip.text}/${ext.subnet.spec.cidr.prefix}`],
      peer: undefined,
      ipv6_ra_configs: {},
      external_ids: {
        [VPC_KEY]: DEFAULT_VPC,
        [SUBNET_KEY]: ext.subnet.meta.name,
        [IP_OWNER_KEY]: natGatewayOwner(DEFAULT_VPC),
        // Node ports claim addresses against this key too (agent/node/ports/nb-ports.ts).
        [IP_KEY]: ip.text,
      },
    },
    refs: { gateway_chassis: [] },
  });
  ctx.link(router, 'ports', lrp);
  // Highest priority first; ovn-northd makes the top live chassis the active gateway.
  const chassisList = [...new Set(opts.chassis)];
  if (chassisList.length === 0 && natted.length > 0) {
    ctx.warn(
      resource,
      'no gateway chassis (options.natGateway.chassis): ovn-northd applies no SNAT without one',
    );
  }
  chassisList.forEach((chassis, i) => {
    const row = ctx.add({
      table: 'Gateway_Chassis',
      key: keys.gatewayChassis(lrpName, chassis),
      resource,
      columns: {
        name: gatewayChassisName(lrpName, chassis),
        chassis_name: chassis,
        priority: Math.max(0, chassisList.length - i),
        external_ids: {},
      },
    });
    ctx.link(lrp, 'gateway_chassis', row);
  });
  // `nat-addresses=router`: the gateway chassis sends gratuitous ARPs for the SNAT address,
  // so the physical network learns where it lives (ovn-nb(5) Logical_Switch_Port options).
  routerSwitchPort(ctx, ext.ls, {
    lspName,
    lrpName,
    resource,
    subnet: ext.subnet.meta.name,
    options: { 'nat-addresses': 'router' },
  });
  addDefaultRoute(ctx, router, ext.subnet);
  return { router, lrp, ip: ip.text };
}

/** 0.0.0.0/0 via the external gateway, unless the VPC already declares a main-table default route. */
function addDefaultRoute(ctx: BuildContext, router: DesiredRow, ext: Subnet): void {
  const vpc = ctx.resources.vpcs.get(DEFAULT_VPC);
  const declared = vpc?.spec.staticRoutes.some(
    (r) => r.policy === 'policyDst' && r.routeTable === '' && r.cidr.prefix === 0 && r.cidr.family === 4,
  );
  if (declared) return;
  addStaticRoute(ctx, router, DEFAULT_VPC, subnetResource(ext.meta.name), {
    prefix: '0.0.0.0/0',
    nexthop: ext.spec.gateway,
    policy: 'dst-ip',
    routeTable: '',
  });
}
