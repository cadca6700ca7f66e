/**
 * The workload's veth pair (netlink, no fork/exec): the host end in the node's namespace (where
 * br-int's datapath is), the peer created directly in the target namespace under its final
 * name, then MAC, MTU, address, link up and default route there.
 *
 * TX checksum offload is turned off on the namespace side (the side that sends into br-int's
 * datapath) when the caller says so: on the userspace datapath only, see
 * `agent/node/ovs/datapath.ts`. Otherwise it is left as the kernel sets it (on).
 *
 * Idempotent: an existing pair (host end whose peer is `ifname` in the namespace) is kept and
 * re-configured; a host end without its peer is deleted and the pair re-created (`created` tells
 * the caller so it re-adds the OVS port — vswitchd does not reopen a re-created device).
 */
import {
  createVeth,
  deleteLink,
  deleteLinkGroup,
  disableIpv6,
  disableTxChecksumOffload,
  getLink,
  getTxChecksumOffload,
  isGone,
  listAddresses,
  listRoutes,
  replaceAddress,
  replaceRoute,
  rtnl,
  type Rtnl,
  setGroup,
  setLinkUp,
  setMac,
  setMtu,
} from '../../../netlink/index.js';
import { joinConcurrent } from '../../../ovsdb/index.js';
import { PortError } from './errors.js';

export interface VethPlug {
  /** Node namespace (br-int's); undefined = the agent's own. */
  nodeNetns: string | undefined;
  host: string;
  netns: string;
  ifname: string;
  mac: string;
  mtu: number;
  /** `ip/prefix`; undefined = no address (DHCP). */
  address: string | undefined;
  /** Default route via this gateway; undefined = none. */
  defaultVia: string | undefined;
  /** Turn TX checksum offload off on the namespace side (`disableTxChecksumFor(br-int's datapath)`). */
  disableTxChecksum: boolean;
  /**
   * Keep IPv6 on the namespace side. Off for a port whose port security names its IPv4 address:
   * OVN then drops every IPv6 packet of it (ovn-nb(5), `port_security`), so a link-local address,
   * DAD and multicast joins would only cost the kernel work. The host end never has IPv6: it is
   * an OVS port, not an IP interface.
   */
  ipv6: boolean;
}

/**
 * Creates (or re-uses) and configures the pair; `created` = the host end is new.
 *
 * A new pair is made in one request with the peer's MAC and both MTUs, so it only needs its
 * address, IPv6 off and the links up; the node namespace's socket carries three requests for it:
 * look-up, create, up. An existing pair is read first and only what differs is changed.
 */
export async function plugVeth(p: VethPlug): Promise<{ created: boolean }> {
  const hostNl = rtnl(p.nodeNetns);
  const vmNl = rtnl(p.netns);
  let [host, inside] = await Promise.all([getLink(hostNl, p.host), getLink(vmNl, p.ifname)]);
  // Our pair: the namespace side's IFLA_LINK is the host end's index.
  const paired = host !== undefined && inside?.kind === 'veth' && inside.linkIndex === host.index;
  if (host && !paired) {
    await deleteLink(hostNl, p.host);
    host = undefined;
    // The peer went with it.
    inside = await getLink(vmNl, p.ifname);
  }
  let created = false;
  if (!host) {
    if (inside)
      throw new PortError(
        'CONFLICT',
        'ERR_PORT_IFNAME_IN_USE',
        `interface ${p.ifname} already exists in network namespace ${p.netns}`,
      );
    await createVeth(hostNl, {
      name: p.host,
      mtu: p.mtu,
      peer: { name: p.ifname, netns: p.netns, mac: p.mac },
    });
    created = true;
    // Before the links come up: the kernel never starts IPv6 on them.
    disableIpv6(p.nodeNetns, p.host);
    if (!p.ipv6) disableIpv6(p.netns, p.ifname);
  } else {
    // An existing pair (a retried add, or the repair pass, which looks at every port): read, and
    // change only what differs. Writes wake every netlink listener on the node (vswitchd,
    // ovn-controller); a pass over thousands of healthy ports should send none.
    if (inside!.mac?.toLowerCase() !== p.mac.toLowerCase()) await setMac(vmNl, p.ifname, p.mac);
    if (inside!.mtu !== p.mtu) await setMtu(vmNl, p.ifname, p.mtu);
    if (host.mtu !== p.mtu) await setMtu(hostNl, p.host, p.mtu);
  }
  const nic = { netns: p.netns, link: p.ifname };
  if (p.disableTxChecksum && (created || (await getTxChecksumOffload(nic))))
    await disableTxChecksumOffload(nic);
  if (p.address && (created || !(await hasAddress(vmNl, p.ifname, p.address))))
    await replaceAddress(vmNl, p.ifname, p.address);
  await Promise.all([
    created || !inside!.up ? setLinkUp(vmNl, p.ifname) : undefined,
    created || !host!.up ? setLinkUp(hostNl, p.host) : undefined,
  ]);
  if (p.defaultVia && (created || !(await hasDefaultRoute(vmNl, p.ifname, p.defaultVia))))
    await replaceRoute(vmNl, { dst: 'default', via: p.defaultVia, dev: p.ifname });
  return { created };
}

async function hasAddress(nl: Rtnl, ifname: string, cidr: string): Promise<boolean> {
  return (await listAddresses(nl, { link: ifname, family: 4 })).some((a) => a.cidr === cidr);
}

async function hasDefaultRoute(nl: Rtnl, ifname: string, via: string): Promise<boolean> {
  return (await listRoutes(nl, { family: 4 })).some(
    (r) => r.dst === 'default' && r.via === via && r.dev === ifname && (r.metric ?? 0) === 0,
  );
}

/** Deletes the pair through its host end (the peer goes with it). False when already gone. */
export function unplugVeth(nodeNetns: string | undefined, host: string): Promise<boolean> {
  return vethRemover(nodeNetns).remove(host);
}

/**
 * The device group host ends are put in to be deleted together ('vpca' in ASCII, far from the
 * small numbers operators give groups). A link an agent left in it, stopped between the two
 * steps, was being deleted: the next batch deletes it too.
 */
export const REMOVAL_GROUP = 0x76706361;

interface Removal {
  host: string;
  resolve: (gone: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Deletes the host ends of veth pairs, joining concurrent deletes into one: each link is put in
 * {@link REMOVAL_GROUP}, then the group is deleted in one request, which the kernel unregisters
 * as one batch. One by one, each deletion waits for the network stack's readers to let go
 * (~20 ms per link here, holding the RTNL lock): a burst of VM deletions took seconds that way.
 * While a batch runs, the next one gathers. One per namespace, shared by everyone deleting there.
 */
function vethRemover(nodeNetns: string | undefined): { remove(host: string): Promise<boolean> } {
  const key = nodeNetns ?? '';
  let r = removers.get(key);
  if (!r) {
    r = createRemover(nodeNetns);
    removers.set(key, r);
  }
  return r;
}

const removers = new Map<string, { remove(host: string): Promise<boolean> }>();

function createRemover(nodeNetns: string | undefined): { remove(host: string): Promise<boolean> } {
  const join = joinConcurrent<Removal>(async (batch) => {
    const nl = rtnl(nodeNetns);
    const marked = await Promise.all(
      batch.map(async (w) => {
        try {
          await setGroup(nl, w.host, REMOVAL_GROUP);
          return true;
        } catch (err) {
          if (isGone(err)) w.resolve(false);
          else w.reject(err);
          return false;
        }
      }),
    );
    const todo = batch.filter((_, i) => marked[i]);
    if (todo.length === 0) return;
    await deleteLinkGroup(nl, REMOVAL_GROUP);
    for (const w of todo) w.resolve(true);
  });
  return {
    remove(host) {
      return new Promise((resolve, reject) => join({ host, resolve, reject }));
    },
  };
}
