/**
 * Links (RTM_NEWLINK/DELLINK/GETLINK/SETLINK, RFC 3549 §3.1.1; attributes in <linux/if_link.h>):
 * list and look up, create veth pairs (peer directly in another namespace), bridges and vlans,
 * delete, up/down, MTU, MAC, rename, master, and moving a link into another namespace.
 *
 * Contract: every operation is idempotent. Creating a link that already exists with the same kind is
 * success (it is returned as it is); with another kind it fails with EEXIST. Deleting, or moving, a
 * link that is gone is success. Links are addressed by name; the kernel resolves IFLA_IFNAME when the
 * index is 0, so most changes are one request.
 */
import { closeSync } from 'node:fs';
import { FlagsNew, type ifla, type rt } from 'netlink';
import { isGone, NetlinkError } from './errors.js';
import { linkInfo, linkKindOf, macvlanInfoData, u32, vethInfoData, vlanInfoData } from './attrs.js';
import { checkIfname, formatMac, parseMac } from './inet.js';
import { openNetns, type NetnsRef } from './setns.js';
import { rtnl, type Rtnl } from './socket.js';

/** What we report of a link. */
export interface LinkInfo {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: `veth`, `bridge`, `vlan`, ...; undefined for plain devices (lo, physical NICs). */
  kind: string | undefined;
  mtu: number | undefined;
  mac: string | undefined;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** IF_OPER_* (RFC 2863 ifOperStatus): 6 = up, 2 = down, 7 = lowerlayerdown, 0 = unknown. */
  operState: number | undefined;
  /** Index of the master (bridge) this link is enslaved to. */
  masterIndex: number | undefined;
  /** For a veth or vlan: the index of the peer/parent (in the peer's namespace when it differs). */
  linkIndex: number | undefined;
}

/** Converts a parsed RTM_NEWLINK message into {@link LinkInfo}. Exported for tests. */
export function toLinkInfo(m: rt.LinkMessage): LinkInfo {
  const a: ifla.LinkAttrs = m.attrs;
  return {
    index: m.data.index ?? 0,
    name: a.ifname ?? '',
    kind: linkKindOf(a.linkinfo),
    mtu: a.mtu,
    mac: a.address && a.address.length > 0 ? formatMac(a.address) : undefined,
    up: m.data.flags?.up === true,
    operState: a.operstate,
    masterIndex: a.master,
    linkIndex: a.link && a.link.length >= 4 ? a.link.readUInt32LE(0) : undefined,
  };
}

/** Every link of the socket's namespace. */
export async function listLinks(nl: Rtnl): Promise<LinkInfo[]> {
  const msgs = await nl.call('link.list', undefined, (s) => s.getLinks(), { dump: true });
  return msgs.map(toLinkInfo);
}

/** The link named `name`, or undefined when there is none. */
export async function getLink(nl: Rtnl, name: string): Promise<LinkInfo | undefined> {
  checkIfname(name);
  try {
    const msgs = await nl.call('link.get', name, (s) => s.getLink({}, { ifname: name }));
    return msgs[0] ? toLinkInfo(msgs[0]) : undefined;
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/** The link named `name`; ENODEV when absent. */
export async function requireLink(nl: Rtnl, name: string): Promise<LinkInfo> {
  const link = await getLink(nl, name);
  if (!link) throw new NetlinkError(19, { op: 'link.get', target: name, netns: nl.netns });
  return link;
}

const CREATE_EXCL = FlagsNew.CREATE | FlagsNew.EXCL;

/**
 * Sends RTM_NEWLINK with CREATE|EXCL; on EEXIST returns the existing link when it is of `kind`
 * (idempotent create), else rethrows with a hint.
 */
async function createLink(
  nl: Rtnl,
  name: string,
  kind: string,
  attrs: ifla.LinkAttrs,
  op: string,
  hint?: string,
): Promise<LinkInfo> {
  try {
    await nl.call(op, name, (s) => s.newLink({}, { ifname: name, ...attrs }, { flags: CREATE_EXCL }));
  } catch (err) {
    if (!(err instanceof NetlinkError)) throw err;
    if (err.errnoName === 'EEXIST') {
      const existing = await getLink(nl, name);
      if (existing?.kind === kind) return existing;
      const why = existing ? `exists as ${existing.kind ?? 'a device'} not ${kind}` : 'a peer name is taken';
      throw new NetlinkError(err.errno, { op, target: name, netns: nl.netns, hint: why }, { cause: err });
    }
    if (hint && (err.errnoName === 'EOPNOTSUPP' || err.errnoName === 'ENOTSUP')) {
      throw new NetlinkError(err.errno, { op, target: name, netns: nl.netns, hint }, { cause: err });
    }
    throw err;
  }
  return requireLink(nl, name);
}

/** Runs `fn` with an fd of `ref` (opened and closed here when given by name). */
async function withNetnsFd<T>(ref: NetnsRef, op: string, fn: (fd: number) => Promise<T>): Promise<T> {
  if (typeof ref !== 'string') return fn(ref.fd);
  const fd = openNetns(ref, op);
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}

export interface VethSpec {
  /** This end's name, created in the socket's namespace. */
  name: string;
  peer: {
    name: string;
    /** Create the peer directly in this namespace (name under /run/netns, or an open fd). */
    netns?: NetnsRef;
    mac?: string;
  };
  mtu?: number;
  mac?: string;
}

/**
 * Creates a veth pair (<linux/veth.h> VETH_INFO_PEER), the peer directly in `peer.netns` when given.
 * Both ends get `mtu`. Idempotent on this end's name (an existing veth is returned).
 */
export async function createVeth(nl: Rtnl, spec: VethSpec): Promise<LinkInfo> {
  checkIfname(spec.name);
  checkIfname(spec.peer.name);
  const build = (fd?: number): ifla.LinkAttrs => {
    const peer = { name: spec.peer.name, ...(fd === undefined ? {} : { netnsFd: fd }) };
    const data = vethInfoData({
      ...peer,
      ...(spec.mtu === undefined ? {} : { mtu: spec.mtu }),
      ...(spec.peer.mac === undefined ? {} : { mac: parseMac(spec.peer.mac) }),
    });
    const attrs: ifla.LinkAttrs = { linkinfo: linkInfo('veth', data) };
    if (spec.mtu !== undefined) attrs.mtu = spec.mtu;
    if (spec.mac !== undefined) attrs.address = parseMac(spec.mac);
    return attrs;
  };
  if (spec.peer.netns === undefined) return createLink(nl, spec.name, 'veth', build(), 'link.create.veth');
  return withNetnsFd(spec.peer.netns, 'link.create.veth', (fd) =>
    createLink(nl, spec.name, 'veth', build(fd), 'link.create.veth'),
  );
}

/** Creates a Linux bridge (kind `bridge`). Idempotent. */
export async function createBridge(nl: Rtnl, spec: { name: string; mtu?: number }): Promise<LinkInfo> {
  checkIfname(spec.name);
  const attrs: ifla.LinkAttrs = { linkinfo: linkInfo('bridge') };
  if (spec.mtu !== undefined) attrs.mtu = spec.mtu;
  return createLink(nl, spec.name, 'bridge', attrs, 'link.create.bridge');
}

/**
 * Creates an 802.1Q vlan link `name` on `parent` with VLAN id `id` (1..4094). Needs the kernel's 8021q
 * support: without it the kernel answers EOPNOTSUPP, reported with that explanation.
 */
export async function createVlan(
  nl: Rtnl,
  spec: { name: string; parent: string; id: number },
): Promise<LinkInfo> {
  checkIfname(spec.name);
  if (!Number.isInteger(spec.id) || spec.id < 1 || spec.id > 4094) {
    throw new NetlinkError(22, {
      op: 'link.create.vlan',
      target: spec.name,
      hint: `vlan id ${spec.id} not in 1..4094`,
    });
  }
  const parent = await requireLink(nl, spec.parent);
  const attrs: ifla.LinkAttrs = {
    link: u32(parent.index),
    linkinfo: linkInfo('vlan', vlanInfoData(spec.id)),
  };
  return createLink(
    nl,
    spec.name,
    'vlan',
    attrs,
    'link.create.vlan',
    'this kernel has no 802.1Q (8021q) vlan support',
  );
}

/**
 * Creates a macvlan `name` on `parent` in bridge mode, directly in `netns` when given (the parent
 * stays here), with `mac` when given. Idempotent on `name` in the socket's namespace only: with
 * `netns`, check there first.
 */
export async function createMacvlan(
  nl: Rtnl,
  spec: { name: string; parent: string; netns?: NetnsRef; mac?: string },
): Promise<void> {
  checkIfname(spec.name);
  const parent = await requireLink(nl, spec.parent);
  const attrs = (fd?: number): ifla.LinkAttrs => ({
    link: u32(parent.index),
    linkinfo: linkInfo('macvlan', macvlanInfoData()),
    ...(spec.mac === undefined ? {} : { address: parseMac(spec.mac) }),
    ...(fd === undefined ? {} : { netNsFd: fd }),
  });
  const op = 'link.create.macvlan';
  if (spec.netns === undefined) {
    await createLink(nl, spec.name, 'macvlan', attrs(), op);
    return;
  }
  await withNetnsFd(spec.netns, op, (fd) =>
    nl.call(op, spec.name, (s) => s.newLink({}, { ifname: spec.name, ...attrs(fd) }, { flags: CREATE_EXCL })),
  );
}

/** Deletes link `name`. Returns false when it was already gone. Deleting one veth end removes both. */
export async function deleteLink(nl: Rtnl, name: string): Promise<boolean> {
  checkIfname(name);
  try {
    await nl.call('link.delete', name, (s) => s.delLink({}, { ifname: name }));
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/**
 * Deletes every link of the socket's namespace in device group `group` (IFLA_GROUP, `ip link
 * delete group N`) in one request. The kernel unregisters them as one batch: one wait for the
 * readers of the network stack to let go, where deleting them one by one waits once per link
 * (~20 ms each here). Returns false when no link was in the group.
 */
export async function deleteLinkGroup(nl: Rtnl, group: number): Promise<boolean> {
  try {
    await nl.call('link.delete.group', String(group), (s) => s.delLink({}, { group }));
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/** Puts link `name` in device group `group` (IFLA_GROUP; 0 is the default group). */
export async function setGroup(nl: Rtnl, name: string, group: number): Promise<void> {
  await setByName(nl, 'link.group', name, {}, { group });
}

/** RTM_SETLINK by name (index 0 + IFLA_IFNAME). */
function setByName(
  nl: Rtnl,
  op: string,
  name: string,
  data: rt.Link,
  attrs: ifla.LinkAttrs = {},
): Promise<unknown> {
  checkIfname(name);
  return nl.call(op, name, (s) => s.setLink(data, { ifname: name, ...attrs }));
}

/** Sets IFF_UP (or clears it with `up = false`). */
export async function setLinkUp(nl: Rtnl, name: string, up = true): Promise<void> {
  await setByName(nl, up ? 'link.up' : 'link.down', name, {
    flags: up ? { up: true } : {},
    change: { up: true },
  });
}

export function setLinkDown(nl: Rtnl, name: string): Promise<void> {
  return setLinkUp(nl, name, false);
}

export async function setMtu(nl: Rtnl, name: string, mtu: number): Promise<void> {
  if (!Number.isInteger(mtu) || mtu < 68)
    throw new NetlinkError(22, { op: 'link.mtu', target: name, hint: `mtu ${mtu}` });
  await setByName(nl, 'link.mtu', name, {}, { mtu });
}

export async function setMac(nl: Rtnl, name: string, mac: string): Promise<void> {
  await setByName(nl, 'link.mac', name, {}, { address: parseMac(mac) });
}

/** Enslaves `name` to bridge `master`, or releases it when `master` is undefined. */
export async function setMaster(nl: Rtnl, name: string, master: string | undefined): Promise<void> {
  const index = master === undefined ? 0 : (await requireLink(nl, master)).index;
  await setByName(nl, 'link.master', name, {}, { master: index });
}

/**
 * Renames `from` to `to`. The kernel refuses to rename an up link (EBUSY), so an up link is taken
 * down, renamed and brought back up. Idempotent: when `from` is gone and `to` exists, nothing is done.
 */
export async function renameLink(nl: Rtnl, from: string, to: string): Promise<void> {
  checkIfname(to);
  const link = await getLink(nl, from);
  if (!link) {
    if (await getLink(nl, to)) return;
    throw new NetlinkError(19, { op: 'link.rename', target: from, netns: nl.netns });
  }
  if (link.up) await setLinkDown(nl, from);
  await nl.call('link.rename', from, (s) => s.setLink({ index: link.index }, { ifname: to }));
  if (link.up) await setLinkUp(nl, to);
}

/**
 * Moves link `name` into namespace `target` (IFLA_NET_NS_FD). The link loses its addresses and
 * routes and comes up down there. Idempotent: when `name` is not here but already in the target
 * (checked when `target` is a name), this is success and returns false.
 */
export async function moveLink(nl: Rtnl, name: string, target: NetnsRef): Promise<boolean> {
  try {
    await withNetnsFd(target, 'link.move', (fd) => setByName(nl, 'link.move', name, {}, { netNsFd: fd }));
    return true;
  } catch (err) {
    if (isGone(err) && typeof target === 'string' && (await getLink(rtnl(target), name))) return false;
    throw err;
  }
}
