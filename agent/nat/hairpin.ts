/**
 * How the node reaches the EIPs of the gateways it hosts when net2 is a macvlan.
 *
 * A macvlan child never hears its parent: frames the node sends out of the master NIC go to
 * the wire, not to the children, so from the node an EIP on a local gateway is unreachable
 * (ARP for it goes unanswered). Children of one parent in bridge mode do reach each other, so
 * the node gets a child of its own — the "shim", `natshim-<hash of the NIC>`, no address — and
 * a /32 route per local EIP through it. Packets to an EIP leave through the shim with the
 * node's address as source; the gateway's answer for that address is answered by the shim
 * (any local address answers ARP on any interface by default), so it comes back the same way.
 *
 * One shim per master NIC, shared by the gateways on it; removed with its last EIP, and only
 * when pruning is allowed. Routes through a shim are all ours (the shim is).
 */
import { createHash } from 'node:crypto';
import {
  createMacvlan,
  deleteLink,
  deleteRoute,
  listLinks,
  listRoutes,
  replaceRoute,
  rtnl,
  setLinkUp,
} from '../../netlink/index.js';
import type { NatDesired } from './desired.js';

export const SHIM_PREFIX = 'natshim-';

export const shimName = (master: string): string =>
  `${SHIM_PREFIX}${createHash('sha256').update(master).digest('hex').slice(0, 6)}`;

/** master NIC → the EIPs of local gateways on it (pure). */
export function hairpinDesired(d: NatDesired): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const gw of d.gateways.values()) {
    const m = gw.external.master;
    if (!m) continue;
    const ips = gw.eips.flatMap((e) => (e.ip ? [e.ip] : []));
    out.set(m, [...(out.get(m) ?? []), ...ips].sort());
  }
  return out;
}

/**
 * Makes the shims and their routes match `wanted` in `hostNetns` (undefined: the agent's own).
 * Returns what changed.
 */
export async function ensureHairpin(
  wanted: ReadonlyMap<string, readonly string[]>,
  opts: { hostNetns?: string; prune: boolean },
): Promise<string[]> {
  const nl = rtnl(opts.hostNetns);
  const changes: string[] = [];
  const links = await listLinks(nl);
  const routes = await listRoutes(nl, { family: 4 });
  const wantedShims = new Set<string>();
  for (const [master, ips] of wanted) {
    const shim = shimName(master);
    wantedShims.add(shim);
    if (!links.some((l) => l.name === master)) continue; // no NIC: net2 fails and says why
    const link = links.find((l) => l.name === shim);
    if (!link) {
      await createMacvlan(nl, { name: shim, parent: master });
      changes.push(`shim ${shim} on ${master}`);
    }
    if (!link?.up) await setLinkUp(nl, shim);
    const have = routes.filter((r) => r.dev === shim).map((r) => r.dst);
    for (const ip of ips)
      if (!have.includes(`${ip}/32`)) {
        await replaceRoute(nl, { dst: `${ip}/32`, dev: shim });
        changes.push(`route ${ip} dev ${shim}`);
      }
    for (const dst of opts.prune ? have : [])
      if (!ips.includes(dst.replace(/\/32$/, ''))) {
        await deleteRoute(nl, { dst, dev: shim });
        changes.push(`route ${dst} dev ${shim} removed`);
      }
  }
  if (opts.prune) {
    for (const l of links)
      if (l.name.startsWith(SHIM_PREFIX) && !wantedShims.has(l.name)) {
        await deleteLink(nl, l.name);
        changes.push(`shim ${l.name} removed`);
      }
  }
  return changes;
}
