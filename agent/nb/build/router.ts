/**
 * One Logical_Router per VPC (the default VPC `ovn-cluster` included), its static routes,
 * policy routes and peering ports (ovn-nb(5): Logical_Router, Logical_Router_Static_Route,
 * Logical_Router_Policy, Logical_Router_Port `peer`).
 *
 * Routing between the subnets of one VPC needs nothing here: each subnet's router port
 * (`switch.ts`) gives ovn-northd a connected route.
 */
import type { Vpc } from '../../resources/types.js';
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import { keys, peeringPortName, routerName, routerPortMac, VPC_KEY, vpcResource } from './names.js';

/** Adds the router of every VPC (with empty ref lists, so removed children get unlinked). */
export function buildRouters(ctx: BuildContext): Map<string, DesiredRow> {
  const routers = new Map<string, DesiredRow>();
  for (const vpc of ctx.vpcs) {
    const name = vpc.meta.name;
    const row = ctx.addParent({
      table: 'Logical_Router',
      key: keys.router(name),
      resource: vpcResource(name),
      columns: { name: routerName(name), external_ids: {} },
      refs: { ports: [], static_routes: [], policies: [], nat: [] },
    });
    routers.set(name, row);
    buildStaticRoutes(ctx, vpc, row);
    buildPolicyRoutes(ctx, vpc, row);
    buildPeerings(ctx, vpc, row);
  }
  return routers;
}

/** A static route row, linked from `router`; false (and nothing added) for a duplicate. */
export function addStaticRoute(
  ctx: BuildContext,
  router: DesiredRow,
  vpc: string,
  resource: string,
  route: { prefix: string; nexthop: string; policy: 'dst-ip' | 'src-ip'; routeTable: string },
): boolean {
  const key = keys.route(vpc, route.policy, route.routeTable, route.prefix, route.nexthop);
  if (ctx.has('Logical_Router_Static_Route', key)) return false;
  const row = ctx.add({
    table: 'Logical_Router_Static_Route',
    key,
    resource,
    columns: {
      ip_prefix: route.prefix,
      nexthop: route.nexthop,
      policy: route.policy,
      route_table: route.routeTable,
      external_ids: {},
    },
  });
  ctx.link(router, 'static_routes', row);
  return true;
}

/** `staticRoutes` → Logical_Router_Static_Route (`policyDst` → dst-ip, `policySrc` → src-ip). */
function buildStaticRoutes(ctx: BuildContext, vpc: Vpc, router: DesiredRow): void {
  const name = vpc.meta.name;
  for (const r of vpc.spec.staticRoutes) {
    const added = addStaticRoute(ctx, router, name, vpcResource(name), {
      prefix: r.cidr.text,
      nexthop: r.nextHopIP,
      policy: r.policy === 'policySrc' ? 'src-ip' : 'dst-ip',
      routeTable: r.routeTable,
    });
    if (!added) ctx.warn(vpcResource(name), `static route ${r.cidr.text} via ${r.nextHopIP} is listed twice`);
  }
}

/** `policyRoutes` → Logical_Router_Policy; `reroute` goes to `nexthops` (ovn-nb(5)). */
function buildPolicyRoutes(ctx: BuildContext, vpc: Vpc, router: DesiredRow): void {
  const name = vpc.meta.name;
  for (const p of vpc.spec.policyRoutes) {
    const key = keys.policy(name, p.priority, p.match);
    if (ctx.has('Logical_Router_Policy', key)) {
      ctx.warn(vpcResource(name), `policy route at priority ${p.priority} with this match is listed twice`);
      continue;
    }
    if (p.action === 'reroute' && p.nextHopIP === undefined) {
      ctx.warn(vpcResource(name), `reroute policy at priority ${p.priority} has no nextHopIP; skipped`);
      continue;
    }
    const row = ctx.add({
      table: 'Logical_Router_Policy',
      key,
      resource: vpcResource(name),
      columns: {
        priority: p.priority,
        match: p.match,
        action: p.action,
        nexthops: p.action === 'reroute' && p.nextHopIP !== undefined ? [p.nextHopIP] : [],
        nexthop: undefined,
        external_ids: {},
      },
    });
    ctx.link(router, 'policies', row);
  }
}

/**
 * `vpcPeerings`: this VPC's side only — an LRP `<vpc>-<remote>` holding the localConnectIP,
 * `peer` = `<remote>-<vpc>`, which the remote VPC builds for its own side (validation makes
 * both sides declare the peering). Keys are per port name, so the two sides never collide.
 */
function buildPeerings(ctx: BuildContext, vpc: Vpc, router: DesiredRow): void {
  const name = vpc.meta.name;
  for (const peering of vpc.spec.vpcPeerings) {
    const lrp = peeringPortName(name, peering.remoteVpc);
    if (!ctx.claim('Logical_Router_Port', lrp, vpcResource(name))) continue;
    const row = ctx.add({
      table: 'Logical_Router_Port',
      key: keys.lrp(lrp),
      resource: vpcResource(name),
      columns: {
        name: lrp,
        mac: routerPortMac(lrp),
        networks: [`${peering.address}/${peering.network.prefix}`],
        peer: peeringPortName(peering.remoteVpc, name),
        external_ids: { [VPC_KEY]: name },
      },
      refs: { gateway_chassis: [] },
    });
    ctx.link(router, 'ports', row);
  }
}
