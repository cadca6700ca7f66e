/**
 * CNI CHECK of one attachment (container id + interface): is everything the ADD made still there?
 * Reads only — the LSP in Northbound, the OVS port, the veth pair and the address in the
 * workload's namespace, the Southbound binding — and reports the first thing that is wrong as a
 * PortError naming it. Repairs are the ports reconciler's business, not CHECK's.
 */
import { getLink, listAddresses, listLinks, netnsExists, rtnl } from '../../../netlink/index.js';
import type { OvsdbClient } from '../../../ovsdb/index.js';
import { bindingState } from './binding.js';
import { PortError } from './errors.js';
import { formatNetwork, hostIfname } from './names.js';
import type { NodePort } from './nb-ports.js';
import { localPorts } from './ovs.js';
import type { ValidCheckRequest } from './request.js';

export interface CheckDeps {
  ovs: OvsdbClient;
  sb: OvsdbClient;
  /** This node's ports, as Northbound holds them. */
  ports: ReadonlyMap<string, NodePort>;
  nodeNetns: string | undefined;
}

const broken = (name: string, what: string) =>
  new PortError('CONFLICT', 'ERR_PORT_CHECK_FAILED', `port ${name}: ${what}`);

/** The attachment's port when it is complete; a PortError saying what is not. */
export async function checkAttachment(
  deps: CheckDeps,
  config: { chassis: string; owner: string },
  req: ValidCheckRequest,
): Promise<NodePort> {
  const network = req.network ? formatNetwork(req.network) : undefined;
  const p = [...deps.ports.values()].find(
    (x) =>
      x.containerId === req.containerId &&
      x.ifname === req.ifname &&
      (network === undefined || x.network === network),
  );
  if (!p)
    throw new PortError(
      'NOT_FOUND',
      'ERR_PORT_NO_ATTACHMENT',
      `no port of container ${req.containerId} interface ${req.ifname}${network ? ` on ${network}` : ''} on this node`,
    );
  if (p.netns !== req.netns) throw broken(p.name, `was added in namespace ${p.netns}, not ${req.netns}`);
  // An address-only reservation: the delegating plugin checks its own interface.
  if (p.ipamOnly) return p;
  const host = hostIfname(p.name);
  const rec = localPorts(deps.ovs.cache, config.owner).find((l) => l.host === host);
  if (!rec) throw broken(p.name, `OVS port ${host} is missing from br-int`);
  if (rec.error !== undefined || rec.ofport === -1)
    throw broken(p.name, `OVS interface ${host}: ${rec.error ?? 'not opened (ofport -1)'}`);
  const hostLink = await getLink(rtnl(deps.nodeNetns), host);
  if (!hostLink) throw broken(p.name, `host-side veth ${host} is missing`);
  if (!netnsExists(p.netns)) throw broken(p.name, `network namespace ${p.netns} is gone`);
  const nl = rtnl(p.netns);
  const link = (await listLinks(nl)).find((l) => l.name === p.ifname);
  if (!link) throw broken(p.name, `interface ${p.ifname} is missing in ${p.netns}`);
  if (link.kind !== 'veth' || link.linkIndex !== hostLink.index)
    throw broken(p.name, `interface ${p.ifname} in ${p.netns} is not the peer of ${host}`);
  if (link.mac !== p.mac) throw broken(p.name, `interface ${p.ifname} has MAC ${link.mac}, not ${p.mac}`);
  if (!link.up) throw broken(p.name, `interface ${p.ifname} is down`);
  if (!p.dhcp) {
    const addrs = await listAddresses(nl, { link: p.ifname });
    if (!addrs.some((a) => a.address === p.ip))
      throw broken(p.name, `interface ${p.ifname} lacks its address ${p.ip}`);
  }
  const state = bindingState(deps.sb.cache, config.chassis, p.name);
  if (state !== 'up')
    throw broken(p.name, `its Southbound Port_Binding is ${state}, not up on ${config.chassis}`);
  return p;
}
