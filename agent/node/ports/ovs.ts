/**
 * The host-side veth as an OVS port on br-int (ovs-vswitchd.conf.db(5) Bridge/Port/Interface),
 * bound to its logical port through `Interface.external_ids:iface-id` (ovn-architecture(7)
 * "Life Cycle of a VIF"). Pure planners over the Open_vSwitch monitor cache; the caller sends
 * the operations with `OvsdbClient.run`.
 *
 * The Interface also records what the node needs to find the port again after a restart
 * (namespace, network, interface name, DHCP) — node-local facts that have no place in NB.
 *
 * Deleting relies on garbage collection (RFC 7047 §3.2, Port and Interface are not root tables):
 * removing the Port from `Bridge.ports` deletes it and its Interface.
 */
import type { DatabaseCache, Operation, Row } from '../../../ovsdb/index.js';
import { ops as typedOps, type vswitch } from '../../../ovsdb/index.js';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../../nb/desired.js';
import { INTEGRATION_BRIDGE } from '../ovs/desired.js';
import { bridgeByName, externalIdsOf } from '../ovs/plan.js';
import { PortError } from './errors.js';

const o = typedOps<vswitch.Tables>();

/** `external_ids` keys of a workload port's Interface. */
export const IFACE_KEYS = {
  ifaceId: 'iface-id',
  attachedMac: 'attached-mac',
  netns: 'vpc-agent.io/netns',
  network: 'vpc-agent.io/network',
  ifname: 'vpc-agent.io/ifname',
  dhcp: 'vpc-agent.io/dhcp',
} as const;

/** `vpc-agent.io/key` prefix of workload ports' rows. */
export const PORT_ROW_KEY_PREFIX = 'vm-port/';

export interface OvsPortSpec {
  /** Host-side veth = OVS Port and Interface name. */
  name: string;
  lsp: string;
  mac: string;
  netns: string;
  /** `<namespace>/<nad>`. */
  network: string;
  ifname: string;
  dhcp: boolean;
  owner: string;
}

/** The Interface's `external_ids` for `spec`. */
export function interfaceIds(spec: OvsPortSpec): Record<string, string> {
  return {
    [IFACE_KEYS.ifaceId]: spec.lsp,
    [IFACE_KEYS.attachedMac]: spec.mac,
    [IFACE_KEYS.netns]: spec.netns,
    [IFACE_KEYS.network]: spec.network,
    [IFACE_KEYS.ifname]: spec.ifname,
    [IFACE_KEYS.dhcp]: String(spec.dhcp),
    ...marks(spec),
  };
}

function marks(spec: OvsPortSpec): Record<string, string> {
  return {
    [OWNER_KEY]: spec.owner,
    [ROW_KEY]: `${PORT_ROW_KEY_PREFIX}${spec.name}`,
    [RESOURCE_KEY]: `Port/${spec.lsp}`,
  };
}

const portByName = (cache: DatabaseCache, name: string): Row | undefined =>
  cache.lookup('Port', 'name', name)[0];

/** The Interface rows of a Port. */
function interfacesOf(cache: DatabaseCache, port: Row): Row[] {
  return (port['interfaces'] as string[])
    .map((u) => cache.get('Interface', u))
    .filter((r) => r !== undefined);
}

/**
 * Operations that make `spec.name` a port of br-int with the right `external_ids`: nothing when
 * it is already so; a mutation of our keys in the Interface's `external_ids` when only they differ
 * (keys other writers keep there stay); else an
 * insert. A Port of that name on another bridge is an error (not ours to move). `tag` keeps the
 * insert's uuid-names apart from other ports' in one transaction.
 */
export function planAttach(cache: DatabaseCache, spec: OvsPortSpec, tag = ''): Operation[] {
  const br = bridgeByName(cache, INTEGRATION_BRIDGE);
  if (!br)
    throw new PortError(
      'UNAVAILABLE',
      'ERR_PORT_NO_BR_INT',
      `this node's Open_vSwitch has no ${INTEGRATION_BRIDGE}`,
    );
  const ids = interfaceIds(spec);
  const port = portByName(cache, spec.name);
  if (port) {
    if (!(br['ports'] as string[]).includes(port._uuid))
      throw new PortError('CONFLICT', 'ERR_PORT_OVS_NAME', `OVS port ${spec.name} exists on another bridge`);
    const iface = interfacesOf(cache, port).find((i) => i['name'] === spec.name);
    if (iface) {
      // Only our keys: ovn-controller adds `ovn-installed` (and others may add theirs), and
      // writing the whole map would take them away again on every pass.
      const actual = externalIdsOf(iface);
      if (Object.entries(ids).every(([k, v]) => actual[k] === v)) return [];
      return [
        o.mutate(
          'Interface',
          [['_uuid', '==', iface._uuid]],
          [
            ['external_ids', 'delete', Object.keys(ids)],
            ['external_ids', 'insert', ids],
          ],
        ),
      ];
    }
  }
  const out: Operation[] = [];
  if (port) out.push(...planDetach(cache, spec.name));
  out.push(
    o.insert('Interface', { name: spec.name, type: '', external_ids: ids }, { uuidName: `iface${tag}` }),
    o.insert(
      'Port',
      { name: spec.name, interfaces: [`iface${tag}`], external_ids: marks(spec) },
      { uuidName: `port${tag}` },
    ),
    o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'insert', [`port${tag}`]]]),
  );
  return out;
}

/** Operations removing Port `name` from whichever bridge holds it ([] when there is none). */
export function planDetach(cache: DatabaseCache, name: string): Operation[] {
  const port = portByName(cache, name);
  if (!port) return [];
  const out: Operation[] = [];
  for (const br of cache.rows('Bridge')) {
    if ((br['ports'] as string[]).includes(port._uuid))
      out.push(o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'delete', [port._uuid]]]));
  }
  return out;
}

/** What the node recorded about one workload port (from its Interface). */
export interface LocalPortRecord {
  /** OVS Interface = host veth name. */
  host: string;
  lsp: string;
  mac: string;
  netns: string;
  network: string;
  ifname: string;
  dhcp: boolean;
  /** `Interface.error` (vswitchd could not open it), if any. */
  error: string | undefined;
  ofport: number | undefined;
}

/** Every workload port this owner recorded on the node. */
export function localPorts(cache: DatabaseCache, owner: string): LocalPortRecord[] {
  const out: LocalPortRecord[] = [];
  for (const row of cache.rows('Interface')) {
    const ids = externalIdsOf(row);
    if (ids[OWNER_KEY] !== owner || !(ids[ROW_KEY] ?? '').startsWith(PORT_ROW_KEY_PREFIX)) continue;
    const err = row['error'];
    const ofport = row['ofport'];
    out.push({
      host: String(row['name']),
      lsp: ids[IFACE_KEYS.ifaceId] ?? '',
      mac: ids[IFACE_KEYS.attachedMac] ?? '',
      netns: ids[IFACE_KEYS.netns] ?? '',
      network: ids[IFACE_KEYS.network] ?? '',
      ifname: ids[IFACE_KEYS.ifname] ?? '',
      dhcp: ids[IFACE_KEYS.dhcp] === 'true',
      error: typeof err === 'string' && err !== '' ? err : undefined,
      ofport: typeof ofport === 'number' ? ofport : undefined,
    });
  }
  return out.sort((a, b) => a.host.localeCompare(b.host));
}
