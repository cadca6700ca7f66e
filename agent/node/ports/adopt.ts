/**
 * Workload ports written by an earlier release: their LSPs carry the deployment's owner id (the
 * Northbound writer wrote them), an IPAM owner `vm/<netns>/<ns>/<nad>` and
 * `options:requested-chassis`; the node-local facts (namespace, interface, DHCP) sit in the
 * node's OVS Interface record. Upgrading must not cost a VM its network, so:
 * - the writer never prunes such an LSP (`isLegacyPort`, passed to its engine as `keep`);
 * - the agent of the port's chassis adopts it: one update rewrites its `external_ids` to the
 *   node-owned form (owner `<owner>/node/<node>`, the per-node IPAM owner, address claims, the
 *   node-local facts), keeping the row, its address and its binding.
 */
import { update, type DatabaseCache, type Operation, type Row } from '../../../ovsdb/index.js';
import {
  externalIds,
  IP_OWNER_KEY,
  mapColumn,
  OWNER_KEY,
  parseLspAddress,
  ROW_KEY,
  SUBNET_KEY,
} from '../../ownership.js';
import { PORT_OWNER_PREFIX, portIpamOwner } from './names.js';
import { nodePortIds, type NodePort } from './nb-ports.js';
import { localPorts } from './ovs.js';

/** An LSP of deployment `owner` that is a workload port of the earlier release. */
export function isLegacyPort(table: string, row: Row, owner: string): boolean {
  if (table !== 'Logical_Switch_Port') return false;
  const ids = externalIds(row);
  const ipOwner = ids[IP_OWNER_KEY];
  return ids[OWNER_KEY] === owner && typeof ipOwner === 'string' && ipOwner.startsWith(PORT_OWNER_PREFIX);
}

/** The updates adopting this chassis' legacy ports (none when there are none). */
export function planAdoption(
  nb: DatabaseCache,
  ovs: DatabaseCache,
  opts: { owner: string; nodeOwnerId: string; node: string; chassis: string },
): Operation[] {
  const ops: Operation[] = [];
  const local = localPorts(ovs, opts.owner);
  for (const row of nb.rows('Logical_Switch_Port')) {
    if (!isLegacyPort('Logical_Switch_Port', row, opts.owner)) continue;
    if (mapColumn(row, 'options')['requested-chassis'] !== opts.chassis) continue;
    const rec = local.find((l) => l.lsp === row['name']);
    const a = parseLspAddress((row['addresses'] as string[] | undefined)?.[0]);
    if (!rec || !a) continue; // not attached here: nothing to learn the namespace from
    const ids = externalIds(row) as Record<string, string>;
    const port: NodePort = {
      name: String(row['name']),
      subnet: ids[SUBNET_KEY] ?? '',
      ip: a.ip,
      mac: a.mac,
      owner: portIpamOwner(opts.node, rec.netns, rec.network),
      chassis: opts.chassis,
      node: opts.node,
      netns: rec.netns,
      network: rec.network,
      ifname: rec.ifname,
      dhcp: rec.dhcp,
      defaultRoute: !rec.dhcp && rec.ifname === 'eth0',
    };
    // The builder's other keys (e.g. the resource) stay; ours replace theirs.
    const external_ids = { ...ids, ...nodePortIds(port, opts.nodeOwnerId), [ROW_KEY]: ids[ROW_KEY] ?? '' };
    ops.push(update('Logical_Switch_Port', [['_uuid', '==', row._uuid]], { external_ids }));
  }
  return ops;
}
