/**
 * What a gateway namespace holds now (read over netlink, nft and `ip`), and the steps that make
 * it what the desired gateway says (pure diff). Reading never changes anything.
 */
import { execa } from 'execa';
import {
  closeNftContext,
  closeRtnl,
  commandIn,
  getLink,
  listAddresses,
  listNetns,
  listRoutes,
  listNftTableText,
  netnsExists,
  readSysctl,
  rtnl,
  type LinkInfo,
  type RouteSpec,
} from '../../netlink/index.js';
import { LAN_IFNAME, WAN_IFNAME, type GatewayDesired } from './desired.js';
import { buildRuleset } from './ruleset.js';

/** The ownership marker, kept as the alias of `lo` inside each gateway namespace. */
export const markerOf = (owner: string, gateway: string): string =>
  `vpc-agent.io/owner=${owner} nat-gw=${gateway}`;
const MARKER = /^vpc-agent\.io\/owner=(\S+) nat-gw=(\S+)$/;

export interface Observation {
  exists: boolean;
  marker: string | undefined;
  forwarding: boolean;
  lan: LinkInfo | undefined;
  wan: LinkInfo | undefined;
  lanAddrs: string[];
  wanAddrs: string[];
  /** Static (non-kernel) IPv4 routes of the main table. */
  routes: { dst: string; via: string | undefined; dev: string | undefined }[];
  /** `nft -s list table` text, undefined when the table is absent. */
  nftText: string | undefined;
}

/** What a gateway namespace that does not exist looks like. */
export const EMPTY: Observation = {
  exists: false,
  marker: undefined,
  forwarding: false,
  lan: undefined,
  wan: undefined,
  lanAddrs: [],
  wanAddrs: [],
  routes: [],
  nftText: undefined,
};

/** The alias of `lo` in `netns` (undefined when none). */
export async function readMarker(netns: string): Promise<string | undefined> {
  const [cmd, argv] = commandIn(netns, 'ip', ['-j', 'link', 'show', 'dev', 'lo']);
  const r = await execa(cmd, argv, { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) return undefined;
  const alias = (JSON.parse(r.stdout) as { ifalias?: string }[])[0]?.ifalias;
  return alias || undefined;
}

/** Gateway namespaces with `prefix` whose marker names `owner`: name → gateway. */
export async function ownedNamespaces(prefix: string, owner: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const ns of listNetns().filter((n) => n.startsWith(prefix))) {
    const m = MARKER.exec((await readMarker(ns)) ?? '');
    if (m && m[1] === owner) out.set(ns, m[2]!);
  }
  return out;
}

export async function observe(gw: GatewayDesired, table: string): Promise<Observation> {
  if (!netnsExists(gw.netns)) {
    // Deleted behind our back: a cached socket or nft context would keep the old namespace (and
    // the links in it) alive.
    closeRtnl(gw.netns);
    closeNftContext(gw.netns);
    return EMPTY;
  }
  const nl = rtnl(gw.netns);
  const [lan, wan] = await Promise.all([getLink(nl, LAN_IFNAME), getLink(nl, WAN_IFNAME)]);
  const addrs = async (l: LinkInfo | undefined) =>
    l ? (await listAddresses(nl, { link: l.name, family: 4 })).map((a) => a.cidr) : [];
  const routes = (await listRoutes(nl, { family: 4 }))
    .filter((r) => r.protocol !== 'kernel')
    .map((r) => ({ dst: r.dst, via: r.via, dev: r.dev }));
  return {
    exists: true,
    marker: await readMarker(gw.netns),
    forwarding: (await readSysctl(gw.netns, 'net.ipv4.ip_forward')) === '1',
    lan,
    wan,
    lanAddrs: await addrs(lan),
    wanAddrs: await addrs(wan),
    routes,
    nftText: await listNftTableText(gw.netns, 'ip', table),
  };
}

export type Step =
  | { op: 'netns' }
  | { op: 'marker'; alias: string }
  | { op: 'forward' }
  | { op: 'attach-lan' }
  | { op: 'attach-wan' }
  | { op: 'mac'; dev: string; mac: string }
  | { op: 'addr'; dev: string; cidr: string }
  | { op: 'addr-del'; dev: string; cidr: string }
  | { op: 'up'; dev: string }
  | { op: 'route'; route: RouteSpec }
  | { op: 'route-del'; route: RouteSpec }
  | { op: 'nft'; digest: string; intact?: boolean }
  | { op: 'garp'; ips: string[] };

/** What the last apply left in a gateway's table (kept in memory by the reconciler). */
export interface Applied {
  digest: string;
  text: string;
}

/** The steps from `obs` to `gw` (pure). Empty when converged. */
export function planGateway(
  gw: GatewayDesired,
  obs: Observation,
  opts: { owner: string; table: string; applied: Applied | undefined },
): Step[] {
  const steps: Step[] = [];
  if (!obs.exists) steps.push({ op: 'netns' });
  const alias = markerOf(opts.owner, gw.name);
  if (obs.marker !== alias) steps.push({ op: 'marker', alias });
  if (!obs.forwarding) steps.push({ op: 'forward' });

  if (!obs.lan) steps.push({ op: 'attach-lan' });
  const lanCidr = `${gw.lan.ip}/${gw.lan.prefix}`;
  if (!obs.lanAddrs.includes(lanCidr)) steps.push({ op: 'addr', dev: LAN_IFNAME, cidr: lanCidr });
  if (!obs.lan?.up) steps.push({ op: 'up', dev: LAN_IFNAME });

  if (!obs.wan) steps.push({ op: 'attach-wan' });
  if (obs.wan?.mac !== gw.wanMac) steps.push({ op: 'mac', dev: WAN_IFNAME, mac: gw.wanMac });
  const wanWanted = gw.eips.flatMap((e) => (e.ip ? [`${e.ip}/${gw.external.cidr.prefix}`] : []));
  const added: string[] = [];
  for (const c of wanWanted)
    if (!obs.wanAddrs.includes(c)) {
      steps.push({ op: 'addr', dev: WAN_IFNAME, cidr: c });
      added.push(c.split('/')[0]!);
    }
  for (const c of obs.wanAddrs)
    if (!wanWanted.includes(c)) steps.push({ op: 'addr-del', dev: WAN_IFNAME, cidr: c });
  if (!obs.wan?.up) steps.push({ op: 'up', dev: WAN_IFNAME });

  const wantRoutes: RouteSpec[] = [
    ...(wanWanted.length > 0 ? [{ dst: 'default', via: gw.external.gateway, dev: WAN_IFNAME }] : []),
    ...gw.lanRoutes.map((r) => ({ dst: r.dst, via: r.via, dev: LAN_IFNAME })),
  ];
  const same = (a: RouteSpec, b: { dst: string; via: string | undefined; dev: string | undefined }) =>
    a.dst === b.dst && a.via === b.via && a.dev === b.dev;
  for (const r of wantRoutes) if (!obs.routes.some((o) => same(r, o))) steps.push({ op: 'route', route: r });
  for (const o of obs.routes)
    if (!wantRoutes.some((r) => same(r, o)))
      steps.push({
        op: 'route-del',
        route: { dst: o.dst, ...(o.via ? { via: o.via } : {}), ...(o.dev ? { dev: o.dev } : {}) },
      });

  const digest = buildRuleset(gw.rules, { table: opts.table }).digest;
  const intact = obs.nftText !== undefined && opts.applied?.text === obs.nftText;
  if (!intact || opts.applied?.digest !== digest)
    steps.push({ op: 'nft', digest, ...(intact ? { intact } : {}) });

  // Announce every EIP when the namespace or net2 is new (a new MAC upstream), else the new ones.
  const fresh = !obs.exists || !obs.wan || obs.wan.mac !== gw.wanMac;
  const announce = fresh ? wanWanted.map((c) => c.split('/')[0]!) : added;
  if (announce.length > 0) steps.push({ op: 'garp', ips: announce });
  return steps;
}
