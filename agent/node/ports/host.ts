/**
 * The host half of one workload port: the veth pair (host end in the node namespace, peer in
 * the workload's namespace with address, MTU and default route) and its OVS port on br-int.
 * Idempotent: run it on a port that is complete and nothing changes; run it after a veth, OVS
 * port, address or route was deleted out of band and it is back. Used by the port add and by
 * the ports reconciler's repair pass alike.
 */
import { closeRtnl } from '../../../netlink/index.js';
import { ops as typedOps, type OvsdbClient, type TxnBatcher, type vswitch } from '../../../ovsdb/index.js';
import type { Subnet } from '../../resources/types.js';
import { disableTxChecksumFor } from '../ovs/datapath.js';
import { integrationDatapathType, rootRow } from '../ovs/plan.js';
import { hostIfname } from './names.js';
import type { NodePort } from './nb-ports.js';
import { subnetMtu } from './nb.js';
import { localPorts, planAttach, planDetach } from './ovs.js';
import { plugVeth, unplugVeth } from './veth.js';
import { waitForCache } from './wait.js';

const o = typedOps<vswitch.Tables>();

export interface HostContext {
  ovs: OvsdbClient;
  /** Namespace of br-int's datapath and the host-side veths (undefined = the agent's own). */
  nodeNetns: string | undefined;
  /** Owner id of the OVS rows (the Interface records). */
  owner: string;
  overlayMtu: number;
  underlayMtu: number;
  /**
   * Joins the OVS port inserts and removals of concurrent adds and deletes into one transaction
   * (one reconfiguration of ovs-vswitchd for a burst of VMs); without it each sends its own.
   */
  attach?: TxnBatcher;
  /** When each OVS port was last re-added because vswitchd could not open it (rate limit). */
  reopened?: Map<string, number>;
}

/** A broken OVS port is re-added at most this often (its own re-add is a change that triggers a pass). */
const REOPEN_EVERY_MS = 5_000;

/**
 * Makes the host state of `p` complete; true when anything had to be created. `lap`, when given,
 * is called after the veth pair (`veth`) and after the OVS port (`ovs`).
 */
export async function ensureHost(
  ctx: HostContext,
  p: NodePort,
  subnet: Subnet,
  lap?: (phase: 'veth' | 'ovs') => void,
): Promise<boolean> {
  const host = hostIfname(p.name);
  const { created } = await plugVeth({
    nodeNetns: ctx.nodeNetns,
    host,
    netns: p.netns,
    ifname: p.ifname,
    mac: p.mac,
    mtu: subnetMtu(subnet, ctx),
    address: p.dhcp ? undefined : `${p.ip}/${subnet.spec.cidr.prefix}`,
    defaultVia: !p.dhcp && p.defaultRoute ? subnet.spec.gateway : undefined,
    disableTxChecksum: disableTxChecksumFor(integrationDatapathType(ctx.ovs.cache)),
    ipv6: p.routed === true,
  });
  lap?.('veth');
  const spec = {
    name: host,
    lsp: p.name,
    mac: p.mac,
    netns: p.netns,
    network: p.network,
    ifname: p.ifname,
    dhcp: p.dhcp,
    owner: ctx.owner,
  };
  // vswitchd does not reopen a re-created device under an existing port name, nor one it failed
  // to open (`Interface.error`, `ofport` -1): remove it first, then add it again.
  const rec = localPorts(ctx.ovs.cache, ctx.owner).find((l) => l.host === host);
  const broken = rec !== undefined && (rec.error !== undefined || rec.ofport === -1);
  const last = ctx.reopened?.get(host) ?? 0;
  if (created || (broken && Date.now() - last >= REOPEN_EVERY_MS)) {
    ctx.reopened?.set(host, Date.now());
    await detachApplied(ctx.ovs, host);
  }
  const res = ctx.attach
    ? await ctx.attach.run((cache, tag) => planAttach(cache, spec, tag))
    : await ctx.ovs.run((cache) => planAttach(cache, spec), { waitForCache: true });
  lap?.('ovs');
  return created || res.ops !== undefined;
}

/** How long a re-add waits for vswitchd to apply the removal before adding the port back. */
const APPLIED_TIMEOUT_MS = 5_000;

/**
 * Removes OVS port `host` and waits until ovs-vswitchd has applied that (`cur_cfg` reaching the
 * `next_cfg` the removal bumped, as `ovs-vsctl` waits): a removal and a re-add that reach
 * vswitchd in one batch look like no change to it, and it would keep the old, gone device.
 * Without vswitchd (or `cur_cfg` unmonitored) it waits at most {@link APPLIED_TIMEOUT_MS}.
 */
async function detachApplied(ovs: OvsdbClient, host: string): Promise<void> {
  const res = await ovs.run(
    (cache) => {
      const ops = planDetach(cache, host);
      if (ops.length === 0) return [];
      const root = rootRow(cache);
      return [...ops, o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['next_cfg', '+=', 1]])];
    },
    { waitForCache: true },
  );
  if (res.ops === undefined) return;
  const root = () => rootRow(ovs.cache);
  const target = Number(root()['next_cfg']);
  if (!Number.isFinite(target) || root()['cur_cfg'] === undefined) return;
  await waitForCache(
    ovs.cache,
    () => (Number(root()['cur_cfg']) >= target ? true : undefined),
    APPLIED_TIMEOUT_MS,
    () => new Error('vswitchd did not apply the removal in time'),
  ).catch(() => undefined);
}

/** Forgets the rate-limit entry of a removed port. */
function forgetReopen(ctx: HostContext, host: string): void {
  ctx.reopened?.delete(host);
}

/** Removes the OVS port and the veth pair of LSP `name` (gone already is success). */
export async function removeHost(ctx: HostContext, name: string, netns?: string): Promise<void> {
  const rec = localPorts(ctx.ovs.cache, ctx.owner).find((l) => l.lsp === name);
  const host = rec?.host ?? hostIfname(name);
  if (ctx.attach) await ctx.attach.run((cache) => planDetach(cache, host));
  else await ctx.ovs.run((cache) => planDetach(cache, host), { waitForCache: true });
  await unplugVeth(ctx.nodeNetns, host);
  forgetReopen(ctx, host);
  const ns = netns ?? rec?.netns;
  // The cached netlink socket of a workload namespace goes with its last port.
  if (ns !== undefined && !localPorts(ctx.ovs.cache, ctx.owner).some((l) => l.netns === ns && l.lsp !== name))
    closeRtnl(ns);
}
