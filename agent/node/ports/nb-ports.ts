/**
 * A node's own Logical_Switch_Ports: the node's agent writes them itself (writer or not), under
 * its node owner id (`<owner>/node/<node>`, see `agent/ownership.ts`). Pure planners over the
 * NB monitor cache; the caller sends the operations with `OvsdbClient.run`, which rebuilds them
 * from the newer cache when a precondition fails.
 *
 * Why the node writes them, rather than forwarding to the Northbound writer: a port add then
 * needs no other agent to be up, and a writer failover cannot lose a port in flight. The price
 * is that addresses are claimed by several writers; the claims are made safe inside each
 * transaction:
 * - the plan checks the cache (indexed) that no LSP or router port of anyone carries
 *   `vpc-agent.io/subnet` + `vpc-agent.io/ip` = this address, nor `vpc-agent.io/mac` = this MAC;
 * - the transaction starts with a verify (`wait`, RFC 7047 §5.2.6, timeout 0) that the subnet's
 *   switch exists and its `ports` are exactly what the plan saw. ovsdb-server (and the RAFT
 *   leader) applies transactions one at a time, so of two nodes adding ports to one subnet at
 *   the same instant exactly one commits; the other's verify fails, its `run()` rebuilds from
 *   the newer cache, and the check either passes (another address) or gives up with
 *   {@link ClaimTakenError} so the caller allocates another one;
 * - then `insert` of the LSP and a `mutate … insert` of it into the switch's `ports` (the switch
 *   is the writer's row; the writer's own updates of the column keep foreign members).
 * - Deleting is `mutate … delete` from the switch (the LSP is then collected, RFC 7047 §3.2);
 *   deleting a port that is gone is success (no operations).
 */
import {
  insert,
  mutate,
  update,
  verify,
  wait,
  type DatabaseCache,
  type Operation,
  type Row,
} from '../../../ovsdb/index.js';
import { keys, switchName } from '../../nb/build/names.js';
import { ownedByKey, ownedRows } from '../../nb/reconcile/ownership.js';
import {
  externalIds,
  formatLspAddress,
  IP_KEY,
  IP_OWNER_KEY,
  MAC_KEY,
  mapColumn,
  OWNER_KEY,
  parseLspAddress,
  RESOURCE_KEY,
  ROW_KEY,
  SUBNET_KEY,
} from '../../ownership.js';
import { PortError } from './errors.js';

/** LSP `external_ids` keys of the node-local facts of a port (restored after a reboot). */
export const PORT_KEYS = {
  netns: 'vpc-agent.io/netns',
  network: 'vpc-agent.io/network',
  ifname: 'vpc-agent.io/ifname',
  dhcp: 'vpc-agent.io/dhcp',
  defaultRoute: 'vpc-agent.io/default-route',
  node: 'vpc-agent.io/node',
  routed: 'vpc-agent.io/routed',
  movable: 'vpc-agent.io/movable',
  /** The CNI attachment's container id (CNI_CONTAINERID): how a DEL finds the port. */
  containerId: 'vpc-agent.io/container-id',
  /** `<namespace>/<name>` of the pod the port was added for. */
  pod: 'vpc-agent.io/pod',
  /** `<namespace>/<name>` of the KubeVirt VM the port belongs to (it outlives the VM's pods). */
  vm: 'vpc-agent.io/vm',
  /** `true`: a VM's port kept while the VM has no pod on this node (no host state). */
  retained: 'vpc-agent.io/retained',
  /** `true`: an address reserved for another CNI plugin's interface (no host state). */
  ipamOnly: 'vpc-agent.io/ipam-only',
} as const;

/** One port of this node, as its LSP records it. */
export interface NodePort {
  /** LSP name. */
  name: string;
  subnet: string;
  ip: string;
  mac: string;
  /** IPAM owner. */
  owner: string;
  chassis: string;
  node: string;
  netns: string;
  /** `<namespace>/<nad>`. */
  network: string;
  ifname: string;
  dhcp: boolean;
  defaultRoute: boolean;
  /**
   * The port forwards traffic of other addresses (a NAT gateway's LAN leg): its port security
   * holds its MAC only, so packets it routes on behalf of others are not dropped.
   */
  routed?: boolean;
  /**
   * The port moves between nodes with what it belongs to (a NAT gateway): another node may
   * take its LSP over, keeping the address (its IPAM owner is not a node's).
   */
  movable?: boolean;
  /** The CNI attachment's container id, when a CNI plugin added the port. */
  containerId?: string;
  /** `<namespace>/<name>` of the pod the port was added for. */
  pod?: string;
  /** `<namespace>/<name>` of the KubeVirt VM the port belongs to. */
  vm?: string;
  /** The VM has no pod here now: the LSP keeps its address and MAC, the host has nothing. */
  retained?: boolean;
  /** An address for another plugin's interface: the LSP is the reservation, the host has nothing. */
  ipamOnly?: boolean;
}

/** The address or MAC is already held by another row: allocate another one. */
export class ClaimTakenError extends PortError {
  constructor(
    readonly what: 'ip' | 'mac',
    message: string,
  ) {
    super('CONFLICT', 'ERR_PORT_CLAIM_TAKEN', message, { field: what });
  }
}

const byUuid = (uuid: string) => [['_uuid', '==', uuid] as const];

/** The writer's switch of `subnet`, if Northbound has it. */
export function subnetSwitch(cache: DatabaseCache, owner: string, subnet: string): Row | undefined {
  return ownedByKey(cache, 'Logical_Switch', keys.switch(subnet), owner)[0];
}

/** The writer's DHCP_Options row of `subnet`, if any. */
export function subnetDhcp(cache: DatabaseCache, owner: string, subnet: string): Row | undefined {
  return ownedByKey(cache, 'DHCP_Options', keys.dhcp(subnet), owner)[0];
}

/** The `external_ids` of `p`'s LSP: ownership, its address claims and the node-local facts. */
export function nodePortIds(p: NodePort, nodeOwnerId: string): Record<string, string> {
  return {
    [OWNER_KEY]: nodeOwnerId,
    [ROW_KEY]: keys.lsp(p.name),
    [RESOURCE_KEY]: `Port/${p.name}`,
    [IP_OWNER_KEY]: p.owner,
    [SUBNET_KEY]: p.subnet,
    [IP_KEY]: p.ip,
    [MAC_KEY]: p.mac,
    [PORT_KEYS.node]: p.node,
    [PORT_KEYS.netns]: p.netns,
    [PORT_KEYS.network]: p.network,
    [PORT_KEYS.ifname]: p.ifname,
    [PORT_KEYS.dhcp]: String(p.dhcp),
    [PORT_KEYS.defaultRoute]: String(p.defaultRoute),
    ...(p.routed ? { [PORT_KEYS.routed]: 'true' } : {}),
    ...(p.movable ? { [PORT_KEYS.movable]: 'true' } : {}),
    ...(p.containerId ? { [PORT_KEYS.containerId]: p.containerId } : {}),
    ...(p.pod ? { [PORT_KEYS.pod]: p.pod } : {}),
    ...(p.vm ? { [PORT_KEYS.vm]: p.vm } : {}),
    ...(p.retained ? { [PORT_KEYS.retained]: 'true' } : {}),
    ...(p.ipamOnly ? { [PORT_KEYS.ipamOnly]: 'true' } : {}),
  };
}

/** The LSP columns of `p` (external_ids included, ownership keys too). */
export function portColumns(
  p: NodePort,
  nodeOwnerId: string,
  dhcpUuid: string | undefined,
  v4: boolean,
): Record<string, unknown> {
  const address = formatLspAddress(p.mac, p.ip);
  return {
    name: p.name,
    type: '',
    addresses: [address],
    port_security: [p.routed ? p.mac : address],
    options: { 'requested-chassis': p.chassis },
    dhcpv4_options: v4 && dhcpUuid ? dhcpUuid : [],
    dhcpv6_options: !v4 && dhcpUuid ? dhcpUuid : [],
    external_ids: nodePortIds(p, nodeOwnerId),
  };
}

/** The ports of this node that Northbound holds (its owner id), by LSP name. */
export function nodePortsFromNb(cache: DatabaseCache, nodeOwnerId: string): Map<string, NodePort> {
  const out = new Map<string, NodePort>();
  // The ownership index: this node's rows only, not a scan of every LSP.
  for (const row of ownedRows(cache, 'Logical_Switch_Port', nodeOwnerId)) {
    const p = nodePortOf(row);
    if (p) out.set(p.name, p);
  }
  return out;
}

/** A node port LSP row → its {@link NodePort}; undefined when a key is missing. */
export function nodePortOf(row: Row): NodePort | undefined {
  const ids = externalIds(row) as Record<string, string>;
  const a = parseLspAddress((row['addresses'] as string[] | undefined)?.[0]);
  const subnet = ids[SUBNET_KEY];
  const owner = ids[IP_OWNER_KEY];
  const netns = ids[PORT_KEYS.netns];
  if (!a || !subnet || !owner || !netns) return undefined;
  return {
    name: String(row['name']),
    subnet,
    ip: a.ip,
    mac: a.mac,
    owner,
    chassis: mapColumn(row, 'options')['requested-chassis'] ?? '',
    node: ids[PORT_KEYS.node] ?? '',
    netns,
    network: ids[PORT_KEYS.network] ?? '',
    ifname: ids[PORT_KEYS.ifname] ?? '',
    dhcp: ids[PORT_KEYS.dhcp] === 'true',
    defaultRoute: ids[PORT_KEYS.defaultRoute] !== 'false',
    ...(ids[PORT_KEYS.routed] === 'true' ? { routed: true } : {}),
    ...(ids[PORT_KEYS.movable] === 'true' ? { movable: true } : {}),
    ...(ids[PORT_KEYS.containerId] ? { containerId: ids[PORT_KEYS.containerId] } : {}),
    ...(ids[PORT_KEYS.pod] ? { pod: ids[PORT_KEYS.pod] } : {}),
    ...(ids[PORT_KEYS.vm] ? { vm: ids[PORT_KEYS.vm] } : {}),
    ...(ids[PORT_KEYS.retained] === 'true' ? { retained: true } : {}),
    ...(ids[PORT_KEYS.ipamOnly] === 'true' ? { ipamOnly: true } : {}),
  };
}

const IP_INDEX = 'vpc-agent.claim-ip';
const MAC_INDEX = 'vpc-agent.claim-mac';
const CLAIM_TABLES = ['Logical_Switch_Port', 'Logical_Router_Port'] as const;

/** Cache indexes of the claim keys (`<subnet> <ip>`, `<mac>`), added once per cache. */
function claimIndexes(cache: DatabaseCache): void {
  for (const table of CLAIM_TABLES) {
    const t = cache.table(table);
    if (t.index(IP_INDEX)) continue;
    t.addIndex(IP_INDEX, (row) => {
      const ids = externalIds(row);
      const subnet = ids[SUBNET_KEY];
      const ip = ids[IP_KEY];
      return typeof subnet === 'string' && typeof ip === 'string' ? `${subnet} ${ip}` : undefined;
    });
    t.addIndex(MAC_INDEX, (row) => {
      const mac = externalIds(row)[MAC_KEY];
      return typeof mac === 'string' ? mac : undefined;
    });
  }
}

/** Another row of anyone holding `p`'s address or MAC, if the cache shows one (indexed: O(1)). */
function claimHolder(
  cache: DatabaseCache,
  p: NodePort,
  self: string | undefined,
): ClaimTakenError | undefined {
  claimIndexes(cache);
  for (const table of CLAIM_TABLES) {
    const byIp = cache.lookup(table, IP_INDEX, `${p.subnet} ${p.ip}`).find((r) => r._uuid !== self);
    if (byIp)
      return new ClaimTakenError('ip', `ip: ${p.ip} in ${p.subnet} is held by ${String(byIp['name'])}`);
    const byMac = cache.lookup(table, MAC_INDEX, p.mac).find((r) => r._uuid !== self);
    if (byMac) return new ClaimTakenError('mac', `mac: ${p.mac} is held by ${String(byMac['name'])}`);
  }
  return undefined;
}

/**
 * The server-side half of a claim. Every address of a subnet is held by a port on the subnet's
 * switch (a workload LSP, or the router-type LSP inserted with its router port), so a `wait` that
 * the switch's `ports` are still exactly what this plan saw makes the insert atomic with the
 * check above: if another agent added a port to the switch meanwhile, the transaction fails,
 * `run()` rebuilds from the newer cache and the check sees that port. It costs the server one
 * row lookup and a comparison of this switch's ports, not a scan of every LSP. A requested
 * (static) MAC can clash across subnets, so it also gets a `wait` over every row carrying it.
 */
function claimWaits(ls: Row, p: NodePort, staticMac: boolean): Operation[] {
  const out: Operation[] = [verify('Logical_Switch', byUuid(ls._uuid), { ports: ls['ports'] })];
  if (staticMac)
    for (const table of CLAIM_TABLES)
      out.push(
        wait(
          table,
          [
            ['external_ids', 'includes', { [MAC_KEY]: p.mac }],
            ...(table === 'Logical_Switch_Port' ? [['name', '!=', p.name] as const] : []),
          ],
          ['name'],
          '==',
          [],
          0,
        ),
      );
  return out;
}

/**
 * Operations that make Northbound hold `p` as this node's port: an insert with its claims, an
 * update of the columns that differ, or nothing. Throws {@link ClaimTakenError} when the cache
 * shows the address or MAC held by another row, and a PortError when the switch is missing or
 * the name is another owner's.
 */
export function planPortWrite(
  cache: DatabaseCache,
  opts: { owner: string; nodeOwnerId: string; v4: boolean; staticMac?: boolean },
  p: NodePort,
  /** Several ports in one transaction: each insert's uuid-name, and the switches verified already. */
  batch?: { name: string; verified: Set<string> },
): Operation[] {
  const ls = subnetSwitch(cache, opts.owner, p.subnet);
  if (!ls)
    throw new PortError(
      'UNAVAILABLE',
      'ERR_PORT_NO_SWITCH',
      `subnet ${p.subnet}: its logical switch ${switchName(p.subnet)} is not in Northbound yet`,
    );
  const dhcp = subnetDhcp(cache, opts.owner, p.subnet)?._uuid;
  const want = portColumns(p, opts.nodeOwnerId, dhcp, opts.v4);
  const actual = cache.lookup('Logical_Switch_Port', 'name', p.name)[0];
  const takeover = actual !== undefined && isRetainedElsewhere(actual, opts, p);
  if (actual && !takeover) {
    const ids = externalIds(actual);
    // A movable port another node had is taken over (the update below rewrites its ownership).
    const movableTakeOver =
      p.movable === true && ids[PORT_KEYS.movable] === 'true' && ids[IP_OWNER_KEY] === p.owner;
    const holder = movableTakeOver
      ? undefined
      : ids[OWNER_KEY] !== opts.nodeOwnerId
        ? String(ids[OWNER_KEY] ?? 'another system')
        : ids[IP_OWNER_KEY] !== p.owner
          ? String(ids[PORT_KEYS.netns] ?? ids[IP_OWNER_KEY])
          : undefined;
    if (holder !== undefined)
      throw new PortError(
        'CONFLICT',
        'ERR_PORT_NAME_TAKEN',
        `name: logical port ${p.name} belongs to ${holder}`,
        {
          field: 'name',
        },
      );
  }
  const taken = claimHolder(cache, p, actual?._uuid);
  if (taken) throw taken;
  if (!actual) {
    const name = batch?.name ?? 'port';
    const claims = claimWaits(ls, p, opts.staticMac ?? false);
    // One verify per switch and transaction: a second one would see the first insert's mutate.
    if (batch?.verified.has(ls._uuid)) claims.shift();
    batch?.verified.add(ls._uuid);
    return [
      ...claims,
      insert('Logical_Switch_Port', want, { uuidName: name }),
      mutate('Logical_Switch', byUuid(ls._uuid), [['ports', 'insert', [name]]]),
    ];
  }
  const changed = changedColumns(actual, want);
  if (Object.keys(changed).length === 0) return [];
  // The row must still be there: an update of a row deleted meanwhile (by the node a movable
  // port is taken from) would match nothing and succeed, leaving no port at all.
  const ops: Operation[] = [
    wait('Logical_Switch_Port', byUuid(actual._uuid), ['name'], '==', [{ name: p.name }], 0),
  ];
  // Taking over another node's retained VM port: only if it is still retained and still that
  // node's when the transaction runs (two nodes starting the VM at once: one wins).
  if (takeover) ops.push(retainedStill(actual));
  if (changed['addresses']) ops.push(...claimWaits(ls, p, opts.staticMac ?? false));
  ops.push(update('Logical_Switch_Port', byUuid(actual._uuid), changed));
  return ops;
}

/**
 * `actual` is a VM's port another node of this deployment keeps for it (retained: the VM has no
 * pod there) and `p` is that VM's port (same IPAM owner): the VM started here, and this node
 * takes the LSP over with its address and MAC.
 */
function isRetainedElsewhere(
  actual: Row,
  opts: { owner: string; nodeOwnerId: string },
  p: NodePort,
): boolean {
  const ids = externalIds(actual);
  const owner = ids[OWNER_KEY];
  return (
    typeof owner === 'string' &&
    owner !== opts.nodeOwnerId &&
    owner.startsWith(`${opts.owner}/node/`) &&
    ids[PORT_KEYS.retained] === 'true' &&
    p.vm !== undefined &&
    ids[IP_OWNER_KEY] === p.owner
  );
}

/** A `wait` (RFC 7047 §5.2.6, timeout 0) that `lsp` is still retained by the same owner. */
function retainedStill(lsp: Row): Operation {
  const ids = externalIds(lsp);
  return wait(
    'Logical_Switch_Port',
    [
      ...byUuid(lsp._uuid),
      ['external_ids', 'includes', { [OWNER_KEY]: String(ids[OWNER_KEY]), [PORT_KEYS.retained]: 'true' }],
    ],
    ['name'],
    '==',
    [{ name: lsp['name'] }],
    0,
  );
}

function same(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) =>
    Array.isArray(v) ? (v.length === 1 ? v[0] : v.length === 0 ? undefined : v) : v;
  return JSON.stringify(sortKeys(norm(a))) === JSON.stringify(sortKeys(norm(b)));
}

function sortKeys(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)));
}

function changedColumns(actual: Row, want: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [col, v] of Object.entries(want)) if (!same(actual[col], v)) out[col] = v;
  return out;
}

/** Operations removing this node's LSP `name` (none when it is gone or not ours). */
export function planPortRemove(cache: DatabaseCache, nodeOwnerId: string, name: string): Operation[] {
  const lsp = cache.lookup('Logical_Switch_Port', 'name', name)[0];
  if (!lsp || externalIds(lsp)[OWNER_KEY] !== nodeOwnerId) return [];
  // Still ours when the transaction runs: another node may have taken a movable port over
  // since this cache was read (the transaction then fails and is planned again, as a no-op).
  const ops: Operation[] = [
    wait(
      'Logical_Switch_Port',
      [...byUuid(lsp._uuid), ['external_ids', 'includes', { [OWNER_KEY]: nodeOwnerId }]],
      ['name'],
      '==',
      [{ name }],
      0,
    ),
  ];
  for (const ls of cache.rows('Logical_Switch')) {
    const ports = ls['ports'];
    const list = Array.isArray(ports) ? ports : ports === undefined ? [] : [ports];
    if (list.includes(lsp._uuid))
      ops.push(mutate('Logical_Switch', byUuid(ls._uuid), [['ports', 'delete', [lsp._uuid]]]));
  }
  return ops;
}
