/**
 * VPC NAT gateways in Northbound: the VPC router sends the traffic a gateway translates to the
 * gateway's `lanIp`, so VMs keep their subnet gateway and nobody adds a route inside a VM.
 *
 * For each VpcNatGateway, the sources it translates are the internalCIDRs of its SNAT rules and
 * the internalIps of its FIP and DNAT rules (a DNAT'd VM's replies must go back through the
 * gateway to be translated back). Two Logical_Router_Policy rows on the VPC's router
 * (ovn-nb(5); policies apply after routing, so they override the route a packet would take):
 *
 * - priority {@link NAT_GW_PRIORITY}.allowInternal: `ip4.src == {sources} && ip4.dst == {internal}`
 *   → `allow`, where internal = the VPC's subnets and every destination `staticRoutes` prefix: traffic
 *   between subnets, to peered VPCs and along the Vpc's own routes is left alone;
 * - priority {@link NAT_GW_PRIORITY}.reroute: `ip4.src == {sources}` → `reroute` to lanIp.
 *
 * And a default route `0.0.0.0/0` via the lanIp of the VPC's first gateway (by name): OVN drops
 * a packet with no route before any policy applies, so the policies need a route to override.
 * Sources no gateway translates then leave through that gateway with their own address (as the
 * default VPC's subnets without natOutgoing do).
 *
 * A Vpc that declares its own default route (a `policyDst` static route 0.0.0.0/0) decides itself where
 * outside traffic goes: no policy is built for it (the gateway still runs). `policyRoutes` of
 * the Vpc above these priorities win as well.
 */
import type { ResourceSet, VpcNatGateway } from '../../resources/types.js';
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import { eipRecordName, IP_KEY, IP_OWNER_KEY, keys, SUBNET_KEY } from './names.js';
import { addStaticRoute } from './router.js';
import { eipOwner } from './types.js';

/** The policy priorities of a NAT gateway (below Kube-OVN's 31000 band for its own policies). */
export const NAT_GW_PRIORITY = { allowInternal: 29_100, reroute: 29_000 } as const;

export const natGatewayResource = (name: string): string => `VpcNatGateway/${name}`;

/** The addresses (CIDR text) whose traffic `gw` translates, sorted and without duplicates. */
export function natSources(resources: ResourceSet, gw: string): string[] {
  const eips = new Set(
    [...resources.eips.values()].filter((e) => e.spec.natGwDp === gw).map((e) => e.meta.name),
  );
  const out = new Set<string>();
  for (const r of resources.snatRules.values()) if (eips.has(r.spec.eip)) out.add(r.spec.internalCIDR.text);
  for (const r of resources.fipRules.values()) if (eips.has(r.spec.eip)) out.add(`${r.spec.internalIp}/32`);
  for (const r of resources.dnatRules.values()) if (eips.has(r.spec.eip)) out.add(`${r.spec.internalIp}/32`);
  return [...out].sort();
}

const set = (items: readonly string[]) => (items.length === 1 ? items[0]! : `{${items.join(', ')}}`);

/**
 * One Address_Set per IptablesEIP with an address: the record that keeps the address the EIP's
 * (IPAM holds it from Northbound after any restart or writer change, on every agent) and tells
 * the node running the gateway which address an EIP without `v4ip` got. Nothing matches on it.
 */
export function buildEipRecords(ctx: BuildContext, eips: ReadonlyMap<string, string>): void {
  for (const eip of [...ctx.resources.eips.values()].sort((a, b) => (a.meta.name < b.meta.name ? -1 : 1))) {
    const ip = eips.get(eip.meta.name) ?? eip.spec.v4ip;
    const resource = `IptablesEIP/${eip.meta.name}`;
    if (ip === undefined) {
      ctx.warn(resource, 'no address yet: it gets none in Northbound, and its gateway waits');
      continue;
    }
    ctx.add({
      table: 'Address_Set',
      key: keys.eip(eip.meta.name),
      resource,
      columns: {
        name: eipRecordName(eip.meta.name),
        addresses: [ip],
        external_ids: {
          [SUBNET_KEY]: eip.spec.externalSubnet,
          [IP_OWNER_KEY]: eipOwner(eip.meta.name),
          [IP_KEY]: ip,
        },
      },
    });
  }
}

export function buildNatGateways(ctx: BuildContext, routers: Map<string, DesiredRow>): void {
  const gateways = [...ctx.resources.natGateways.values()].sort((a, b) =>
    a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0,
  );
  for (const gw of gateways) buildGateway(ctx, routers, gw);
}

function buildGateway(ctx: BuildContext, routers: Map<string, DesiredRow>, gw: VpcNatGateway): void {
  const vpcName = gw.spec.vpc;
  const router = routers.get(vpcName);
  const vpc = ctx.resources.vpcs.get(vpcName);
  if (!router || !vpc) return;
  const resource = natGatewayResource(gw.meta.name);
  const dstRoutes = vpc.spec.staticRoutes.filter((r) => r.policy === 'policyDst' && r.cidr.family === 4);
  const ownDefault = dstRoutes.some((r) => r.cidr.prefix === 0);
  if (ownDefault) return;
  // The router must have a route at all before its policies can reroute (a packet without one
  // is dropped in routing): the VPC's way out is its first gateway (by name), whose policies,
  // like every other gateway's, then steer the sources each translates.
  if (
    !ctx.has('Logical_Router_Static_Route', keys.route(vpcName, 'dst-ip', '', '0.0.0.0/0', gw.spec.lanIp))
  ) {
    const first = [...ctx.resources.natGateways.values()]
      .filter((g) => g.spec.vpc === vpcName)
      .map((g) => g.meta.name)
      .sort()[0];
    if (first === gw.meta.name)
      addStaticRoute(ctx, router, vpcName, resource, {
        prefix: '0.0.0.0/0',
        nexthop: gw.spec.lanIp,
        policy: 'dst-ip',
        routeTable: '',
      });
  }
  const sources = natSources(ctx.resources, gw.meta.name);
  if (sources.length === 0) return;
  const internal = new Set<string>();
  for (const s of ctx.subnetsOf(vpcName)) if (s.spec.cidr.family === 4) internal.add(s.spec.cidr.text);
  for (const r of dstRoutes) internal.add(r.cidr.text);
  const policies: { priority: number; match: string; action: 'allow' | 'reroute' }[] = [];
  if (internal.size > 0)
    policies.push({
      priority: NAT_GW_PRIORITY.allowInternal,
      match: `ip4.src == ${set(sources)} && ip4.dst == ${set([...internal].sort())}`,
      action: 'allow',
    });
  policies.push({
    priority: NAT_GW_PRIORITY.reroute,
    match: `ip4.src == ${set(sources)}`,
    action: 'reroute',
  });
  // All or nothing: a gateway's routing is never half built.
  if (policies.some((p) => ctx.has('Logical_Router_Policy', keys.policy(vpcName, p.priority, p.match)))) {
    ctx.warn(resource, `another NAT gateway of Vpc ${vpcName} translates the same sources; its routing wins`);
    return;
  }
  for (const p of policies) {
    const key = keys.policy(vpcName, p.priority, p.match);
    const row = ctx.add({
      table: 'Logical_Router_Policy',
      key,
      resource,
      columns: {
        priority: p.priority,
        match: p.match,
        action: p.action,
        nexthops: p.action === 'reroute' ? [gw.spec.lanIp] : [],
        nexthop: undefined,
        external_ids: {},
      },
    });
    ctx.link(router, 'policies', row);
  }
}
