/**
 * ACLs on a subnet's Logical_Switch (ovn-nb(5) ACL): private-subnet isolation and the
 * subnet's own `acls`.
 *
 * Priority bands (docs/northbound.md, "ACL priority bands"):
 *
 * | priority | direction | match (IPv4 shown)                         | action |
 * |----------|-----------|--------------------------------------------|--------|
 * | 1200     | from-lport| `udp.src == 68 && udp.dst == 67` (DHCPv4)   | allow  |
 * | 1100     | to-lport  | `ip4.dst == S && ip4.src == {S, allow…}`   | allow  |
 * | 1100     | from-lport| `ip4.src == S && ip4.dst == {S, allow…}`   | allow  |
 * | 1000     | to-lport  | `ip4.dst == S`                              | drop   |
 * | 1000     | from-lport| `ip4.src == S`                              | drop   |
 *
 * S is the subnet's CIDR. `to-lport` ACLs see what is delivered to the subnet's VMs, `from-lport`
 * ACLs what they send; the router port is a port of the switch too, so traffic from other
 * subnets meets the to-lport pair and traffic to them the from-lport pair. ARP is not IP and
 * never matches; ovn-northd passes IPv6 neighbour discovery and DHCP replies ahead of all ACLs.
 * Allows are plain `allow` (stateless unless the switch is stateful because of a user's
 * `allow-related`, in which case OVN commits them too): both directions are spelled out, so
 * no connection tracking is needed for isolation.
 *
 * User ACLs keep their own priorities: above 1200 they override isolation, below 1000 they
 * only see traffic isolation lets through on non-private switches (and non-IP traffic).
 */
import type { Acl, Subnet } from '../../resources/types.js';
import type { DesiredRow } from '../desired.js';
import type { BuildContext } from './context.js';
import { aclName, digest, keys, SUBNET_KEY, subnetResource } from './names.js';
import type { SubnetInfo } from './switch.js';

/** Agent ACL priorities (see the table above). */
export const ACL_PRIORITY = {
  /** Infrastructure that must always pass: DHCP requests to OVN. */
  infra: 1200,
  /** The subnet itself and its allowSubnets. */
  allow: 1100,
  /** Everything else to or from the subnet. */
  drop: 1000,
} as const;

/** OVN 23.03's ACL.action enum: `pass` (ACL tiers) came later. */
const SUPPORTED_ACTIONS: ReadonlySet<string> = new Set([
  'allow',
  'allow-related',
  'allow-stateless',
  'drop',
  'reject',
]);

type Direction = 'from-lport' | 'to-lport';

/** Adds private-subnet and user ACLs to every subnet's switch. */
export function buildAcls(ctx: BuildContext, subnets: Map<string, SubnetInfo>): void {
  for (const info of subnets.values()) {
    if (info.subnet.spec.private) buildPrivateAcls(ctx, info);
    buildUserAcls(ctx, info);
  }
}

function addAcl(
  ctx: BuildContext,
  info: SubnetInfo,
  role: string,
  acl: { direction: Direction; priority: number; match: string; action: string },
): void {
  const name = info.subnet.meta.name;
  const row: DesiredRow = ctx.add({
    table: 'ACL',
    key: keys.acl(name, role),
    resource: subnetResource(name),
    columns: {
      name: aclName(`${name}/${role}`),
      direction: acl.direction,
      priority: acl.priority,
      match: acl.match,
      action: acl.action,
      log: false,
      label: 0,
      external_ids: { [SUBNET_KEY]: name },
    },
  });
  ctx.link(info.ls, 'acls', row);
}

/** `{a, b}` address-set syntax for more than one prefix (ovn-sb(5) "Logical_Flow match"). */
function setOf(items: readonly string[]): string {
  return items.length === 1 ? (items[0] as string) : `{${items.join(', ')}}`;
}

/** The subnet's CIDR then its allowSubnets of the same family, without duplicates. */
export function allowedPrefixes(subnet: Subnet): string[] {
  const s = subnet.spec;
  const out = [s.cidr.text];
  for (const c of s.allowSubnets) if (c.family === s.cidr.family && !out.includes(c.text)) out.push(c.text);
  return out;
}

function buildPrivateAcls(ctx: BuildContext, info: SubnetInfo): void {
  const s = info.subnet.spec;
  const ip = s.cidr.family === 4 ? 'ip4' : 'ip6';
  const self = s.cidr.text;
  const allowed = setOf(allowedPrefixes(info.subnet));
  const P = ACL_PRIORITY;
  // DHCP from a VM outranks the drops: a REBINDING client (RFC 2131 §4.4.5) broadcasts from
  // its own address. Replies, and IPv6 neighbour discovery, are passed by ovn-northd's own
  // flows above every ACL (priority 34000/65532 in ls_in_acl/ls_out_acl).
  addAcl(ctx, info, 'private/from/dhcp', {
    direction: 'from-lport',
    priority: P.infra,
    match: s.cidr.family === 4 ? 'udp.src == 68 && udp.dst == 67' : 'udp.src == 546 && udp.dst == 547',
    action: 'allow',
  });
  addAcl(ctx, info, 'private/to/allow', {
    direction: 'to-lport',
    priority: P.allow,
    match: `${ip}.dst == ${self} && ${ip}.src == ${allowed}`,
    action: 'allow',
  });
  addAcl(ctx, info, 'private/from/allow', {
    direction: 'from-lport',
    priority: P.allow,
    match: `${ip}.src == ${self} && ${ip}.dst == ${allowed}`,
    action: 'allow',
  });
  addAcl(ctx, info, 'private/to/drop', {
    direction: 'to-lport',
    priority: P.drop,
    match: `${ip}.dst == ${self}`,
    action: 'drop',
  });
  addAcl(ctx, info, 'private/from/drop', {
    direction: 'from-lport',
    priority: P.drop,
    match: `${ip}.src == ${self}`,
    action: 'drop',
  });
}

/**
 * The subnet's `acls`, verbatim (direction, priority, match, action). Keyed by content, so
 * reordering the list changes nothing; an exact duplicate is reported once and built once.
 */
function buildUserAcls(ctx: BuildContext, info: SubnetInfo): void {
  const name = info.subnet.meta.name;
  for (const acl of info.subnet.spec.acls) {
    if (!SUPPORTED_ACTIONS.has(acl.action)) {
      ctx.warn(subnetResource(name), `ACL action ${acl.action} is not supported by this OVN; ACL skipped`);
      continue;
    }
    const role = userAclRole(acl);
    if (ctx.has('ACL', keys.acl(name, role))) {
      ctx.warn(
        subnetResource(name),
        `ACL ${acl.direction} ${acl.priority} ${JSON.stringify(acl.match)} is listed twice`,
      );
      continue;
    }
    addAcl(ctx, info, role, acl);
  }
}

/** Key role of a user ACL: direction, priority and a digest of match + action. */
export function userAclRole(acl: Acl): string {
  return `user/${acl.direction === 'from-lport' ? 'from' : 'to'}/${acl.priority}/${digest(`${acl.action}\0${acl.match}`)}`;
}
