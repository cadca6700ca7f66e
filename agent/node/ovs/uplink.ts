/**
 * Moving the uplink NIC's layer-3 configuration onto its provider bridge, as Kube-OVN does when a
 * NIC joins `br-<network>`: once the NIC is an OVS port, the host reaches the network through the
 * bridge's internal port, so the NIC's addresses and routes must live there (with the kernel
 * datapath the NIC's own stack stops receiving). On removal the reverse, before the bridge goes.
 *
 * What moves (rtnetlink, RFC 3549 §3.1.2-3): global-scope addresses (link-local and host scope
 * stay: the kernel manages them), and main-table unicast routes out of the NIC that the kernel
 * did not create itself (`proto kernel` prefix routes follow their address). Order, so that at
 * no point is the host without a path: add the addresses to the target, re-point the routes
 * with NLM_F_REPLACE (same destination, table and metric → the same route, new device), then
 * delete the addresses from the source.
 *
 * Contract: idempotent — a source with nothing to move is a no-op and does not even wait for the
 * target link. Runs in `netns` (the node's namespace in the sandbox; the host in production).
 */
import {
  deleteAddress,
  getLink,
  listAddresses,
  listRoutes,
  MAIN_TABLE,
  replaceAddress,
  replaceRoute,
  rtnl,
  setLinkUp,
  type AddressInfo,
  type RouteInfo,
} from '../../../netlink/index.js';
import { NodeOvsError } from './errors.js';

export interface MoveL3Options {
  /** Network namespace (undefined: the agent's own). */
  netns?: string;
  from: string;
  to: string;
  /** How long to wait for `to` to appear (vswitchd creates a bridge's internal port). Default 10 s. */
  waitMs?: number;
}

export interface MoveL3Report {
  from: string;
  to: string;
  /** CIDRs moved. */
  addresses: string[];
  /** Destinations of the routes moved. */
  routes: string[];
}

const RT_SCOPE_UNIVERSE = 0;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What would move from `from` (exported for tests). */
export function movable(
  addrs: readonly AddressInfo[],
  routes: readonly RouteInfo[],
  from: string,
): { addrs: AddressInfo[]; routes: RouteInfo[] } {
  return {
    addrs: addrs.filter((a) => a.scope === RT_SCOPE_UNIVERSE),
    routes: routes.filter((r) => r.dev === from && r.protocol !== 'kernel' && r.table === MAIN_TABLE),
  };
}

/** Moves `from`'s global addresses and its routes to `to` (see the module comment). */
export async function moveL3(opts: MoveL3Options): Promise<MoveL3Report> {
  const nl = rtnl(opts.netns);
  const report: MoveL3Report = { from: opts.from, to: opts.to, addresses: [], routes: [] };
  if (!(await getLink(nl, opts.from))) return report;
  const what = movable(await listAddresses(nl, { link: opts.from }), await listRoutes(nl), opts.from);
  if (what.addrs.length === 0 && what.routes.length === 0) return report;
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  while (!(await getLink(nl, opts.to))) {
    if (Date.now() > deadline) {
      throw new NodeOvsError(
        'UPLINK_MOVE_FAILED',
        `link ${opts.to} did not appear; ${opts.from} left as it is`,
      );
    }
    await sleep(50);
  }
  try {
    await setLinkUp(nl, opts.to);
    for (const a of what.addrs) {
      await replaceAddress(nl, opts.to, a.cidr, { nodad: a.family === 6 });
      report.addresses.push(a.cidr);
    }
    for (const r of what.routes) {
      await replaceRoute(nl, {
        dst: r.dst,
        dev: opts.to,
        table: r.table,
        family: r.family,
        ...(r.via !== undefined ? { via: r.via } : {}),
        ...(r.metric !== undefined ? { metric: r.metric } : {}),
      });
      report.routes.push(r.dst);
    }
    for (const a of what.addrs) await deleteAddress(nl, opts.from, a.cidr);
  } catch (err) {
    throw new NodeOvsError(
      'UPLINK_MOVE_FAILED',
      `moving addresses/routes ${opts.from} -> ${opts.to} failed`,
      {
        cause: err,
      },
    );
  }
  return report;
}
