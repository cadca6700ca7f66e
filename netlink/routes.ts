/**
 * Routes (RTM_NEWROUTE/DELROUTE/GETROUTE, RFC 3549 §3.1.3; `struct rtmsg` and RTA_* in
 * <linux/rtnetlink.h>): default routes, routes via a gateway and/or out of a device, IPv4 and IPv6.
 *
 * Contract: {@link replaceRoute} uses NLM_F_CREATE|NLM_F_REPLACE (adding twice is success, a changed
 * gateway replaces the old one); {@link deleteRoute} of a route that is not there (ESRCH) is success.
 */
import { FlagsNew, type rt } from 'netlink';
import { isGone, NetlinkInputError } from './errors.js';
import { afOf, familyOfAf, ipFromBytes, ipToBytes, parseCidr, parseIp, type IpFamily } from './inet.js';
import { listLinks, requireLink } from './links.js';
import type { Rtnl } from './socket.js';

/** RT_TABLE_MAIN. */
export const MAIN_TABLE = 254;

export interface RouteSpec {
  /** `default` or a CIDR (host bits are cleared: `10.1.2.3/24` means `10.1.2.0/24`). */
  dst: string;
  /** Gateway address (RTA_GATEWAY). */
  via?: string;
  /** Output link name (RTA_OIF). */
  dev?: string;
  /** RTA_PRIORITY (the `metric` of `ip route`). */
  metric?: number;
  /** Routing table id (default main, 254). */
  table?: number;
  /** Preferred source address (RTA_PREFSRC). */
  src?: string;
  /** Needed only for `default` without `via` (default 4). */
  family?: IpFamily;
}

export interface RouteInfo {
  family: IpFamily;
  /** `default` or `network/len`. */
  dst: string;
  via: string | undefined;
  dev: string | undefined;
  oif: number | undefined;
  metric: number | undefined;
  table: number;
  /** RTPROT_* name as `ip route` prints it: `kernel`, `boot`, `static`, `dhcp`, ... */
  protocol: string;
  /** RT_SCOPE_* name: `universe`, `link`, `host`, ... */
  scope: string;
  /** RTN_* name: `unicast`, `local`, `broadcast`, ... */
  type: string;
}

/** Builds the rtmsg + attributes for `spec` (exported for tests); `oif` is the resolved device index. */
export function routeRequest(
  spec: RouteSpec,
  oif?: number,
  { forDelete = false }: { forDelete?: boolean } = {},
): [rt.Route, rt.RouteAttrs] {
  const gw = spec.via === undefined ? undefined : parseIp(spec.via);
  const dst = spec.dst === 'default' ? undefined : parseCidr(spec.dst, { allowHostBits: true });
  const family = dst?.family ?? gw?.family ?? spec.family ?? 4;
  if (gw && gw.family !== family)
    throw new NetlinkInputError(`route ${spec.dst} via ${spec.via}: family mismatch`);
  if (!forDelete && !gw && oif === undefined)
    throw new NetlinkInputError(`route ${spec.dst}: needs via and/or dev`);
  const table = spec.table ?? MAIN_TABLE;
  const data: rt.Route = {
    family: afOf(family),
    dstLen: dst?.prefix ?? 0,
    table: table < 256 ? table : 252, // RT_TABLE_COMPAT when the id does not fit in u8
    // RTPROT_BOOT (3) is what `ip route add` sets. Deletion matches on what is given: protocol
    // RTPROT_UNSPEC (0) and scope NOWHERE (255) match any (fib_table_delete in net/ipv4/fib_trie.c).
    protocol: (forDelete ? 0 : 3) as rt.RouteProtocol,
    // Without a gateway the destination is directly on the link (RT_SCOPE_LINK), as `ip route` does.
    scope: forDelete ? 'NOWHERE' : gw ? 'UNIVERSE' : 'LINK',
    type: 'UNICAST',
  };
  const attrs: rt.RouteAttrs = { table };
  if (dst) attrs.dst = ipToBytes({ family: dst.family, value: dst.first });
  if (gw) attrs.gateway = ipToBytes(gw);
  if (oif !== undefined) attrs.oif = oif;
  if (spec.metric !== undefined) attrs.priority = spec.metric;
  if (spec.src !== undefined) attrs.prefsrc = ipToBytes(parseIp(spec.src));
  return [data, attrs];
}

const describe = (s: RouteSpec) =>
  [s.dst, s.via && `via ${s.via}`, s.dev && `dev ${s.dev}`, s.table && `table ${s.table}`]
    .filter(Boolean)
    .join(' ');

/** Adds or replaces the route for `spec.dst` (and metric/table). */
export async function replaceRoute(nl: Rtnl, spec: RouteSpec): Promise<void> {
  const oif = spec.dev === undefined ? undefined : (await requireLink(nl, spec.dev)).index;
  const [data, attrs] = routeRequest(spec, oif);
  await nl.call('route.replace', describe(spec), (s) =>
    s.newRoute(data, attrs, { flags: FlagsNew.CREATE | FlagsNew.REPLACE }),
  );
}

/** Deletes the route; `via`/`dev` narrow the match when given. Returns false when it was not there. */
export async function deleteRoute(nl: Rtnl, spec: RouteSpec): Promise<boolean> {
  try {
    const oif = spec.dev === undefined ? undefined : (await requireLink(nl, spec.dev)).index;
    const [data, attrs] = routeRequest(spec, oif, { forDelete: true });
    await nl.call('route.delete', describe(spec), (s) => s.delRoute(data, attrs));
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/** The package decodes known enum values to their names (`'BOOT'`) and leaves unknown ones numeric. */
const enumName = (v: unknown): string => (typeof v === 'string' ? v.toLowerCase() : String(v ?? 0));

/** Converts a parsed RTM_NEWROUTE message (exported for tests). */
export function toRouteInfo(
  m: rt.RouteMessage,
  names: Map<number, string> = new Map(),
): RouteInfo | undefined {
  const family = familyOfAf(m.data.family);
  if (!family) return undefined;
  const dstLen = m.data.dstLen ?? 0;
  const dst = m.attrs.dst
    ? `${ipFromBytes(m.attrs.dst).text}/${dstLen}`
    : dstLen === 0
      ? 'default'
      : undefined;
  if (!dst) return undefined;
  const oif = m.attrs.oif;
  return {
    family,
    dst,
    via: m.attrs.gateway ? ipFromBytes(m.attrs.gateway).text : undefined,
    dev: oif === undefined ? undefined : names.get(oif),
    oif,
    metric: m.attrs.priority,
    table: m.attrs.table ?? m.data.table ?? 0,
    protocol: enumName(m.data.protocol),
    scope: enumName(m.data.scope),
    type: enumName(m.data.type),
  };
}

/** Unicast routes of one table (default main), optionally of one family. */
export async function listRoutes(
  nl: Rtnl,
  filter: { family?: IpFamily; table?: number } = {},
): Promise<RouteInfo[]> {
  const data: rt.Route = filter.family === undefined ? {} : { family: afOf(filter.family) };
  const [msgs, links] = await Promise.all([
    nl.call('route.list', undefined, (s) => s.getRoutes(data), { dump: true }),
    listLinks(nl),
  ]);
  const names = new Map(links.map((l) => [l.index, l.name]));
  const table = filter.table ?? MAIN_TABLE;
  return msgs
    .map((m) => toRouteInfo(m, names))
    .filter((r): r is RouteInfo => r !== undefined)
    .filter(
      (r) =>
        r.table === table &&
        r.type === 'unicast' &&
        (filter.family === undefined || r.family === filter.family),
    );
}
