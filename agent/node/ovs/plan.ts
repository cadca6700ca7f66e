/**
 * Diff of the node's desired Open_vSwitch state against the monitor cache → one minimal list of
 * operations (RFC 7047 §5.2). Pure: reads the cache, writes nothing.
 *
 * Ownership: rows the agent creates (Bridge, Port, Interface) carry `external_ids`
 * `vpc-agent.io/owner` = owner, `vpc-agent.io/key` (`bridge/br-x`, `port/eth1`, …) and
 * `vpc-agent.io/resource`. Rows without the owner mark are never changed or deleted: a desired
 * bridge or uplink port whose name is taken by a foreign row is reported and skipped. Foreign
 * ports on an owned bridge (the patch ports ovn-controller adds) are left alone.
 *
 * Deletion relies on OVSDB garbage collection (RFC 7047 §3.2 "isRoot"): Port and Interface are
 * not root tables, so removing a Port from `Bridge.ports` deletes it and its Interfaces, and
 * removing a Bridge from `Open_vSwitch.bridges` deletes it with its ports.
 */
import type { DatabaseCache, Mutation, Operation, Row } from '../../../ovsdb/index.js';
import { mutate, ops as typedOps, verify, type vswitch } from '../../../ovsdb/index.js';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../../nb/desired.js';
import {
  INTEGRATION_BRIDGE,
  type DesiredProviderBridge,
  type NodeOvsDesired,
  type NodeOvsProblem,
} from './desired.js';
import {
  BRIDGE_MAPPINGS_KEY,
  mergeBridgeMappings,
  OWNED_MAPPINGS_KEY,
  parseBridgeMappings,
} from './mappings.js';
import { NodeOvsError } from './errors.js';

const o = typedOps<vswitch.Tables>();

export interface PlanOptions {
  /** Value of `vpc-agent.io/owner` on the rows the agent owns. */
  owner: string;
  /**
   * Create br-int (owned, `fail_mode=secure`, the given datapath type) when it does not exist;
   * an existing br-int is never changed. Undefined: br-int is not looked at.
   */
  integrationBridge?: { datapathType: string };
  /**
   * Remove what the agent owns but no longer wants (default true). False while the resources
   * may be incomplete: bridges, uplink ports and mappings that are not desired are left alone.
   */
  prune?: boolean;
}

export interface NodeOvsPlan {
  ops: Operation[];
  problems: NodeOvsProblem[];
  /** Human-readable list of the changes, for logs and `/debug`. */
  changes: string[];
}

/** `external_ids` of a cached row ({} when absent). */
export function externalIdsOf(row: Row | undefined): Record<string, string> {
  const v = row?.['external_ids'];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
}

export function isOwned(row: Row, owner: string): boolean {
  return externalIdsOf(row)[OWNER_KEY] === owner;
}

/** The single Open_vSwitch row (throws `OVS_NOT_INITIALIZED` when `ovs-vsctl init` never ran). */
export function rootRow(cache: DatabaseCache): Row {
  const first = cache.rows('Open_vSwitch').next();
  if (first.done) throw new NodeOvsError('OVS_NOT_INITIALIZED', 'the Open_vSwitch table is empty');
  return first.value;
}

/** The bridge named `name`, if any. */
export function bridgeByName(cache: DatabaseCache, name: string): Row | undefined {
  return cache.lookup('Bridge', 'name', name)[0];
}

function portByName(cache: DatabaseCache, name: string): Row | undefined {
  return cache.lookup('Port', 'name', name)[0];
}

/** br-int's `datapath_type`; `` (the kernel datapath) when br-int is missing or has none. */
export function integrationDatapathType(cache: DatabaseCache): string {
  const t = bridgeByName(cache, INTEGRATION_BRIDGE)?.['datapath_type'];
  return typeof t === 'string' ? t : '';
}

/**
 * Datapath type for provider bridges: the configured one, else br-int's, else the chassis'
 * `external_ids:ovn-bridge-datapath-type` (ovn-controller(8)), else `` (the kernel datapath).
 */
export function resolveDatapathType(cache: DatabaseCache, configured?: string): string {
  if (configured !== undefined) return configured;
  const t = integrationDatapathType(cache);
  if (t !== '') return t;
  return externalIdsOf(rootRow(cache))['ovn-bridge-datapath-type'] ?? '';
}

const sameNumbers = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && [...a].sort((x, y) => x - y).every((v, i) => v === b[i]);

class Builder {
  readonly ops: Operation[] = [];
  readonly changes: string[] = [];
  private n = 0;
  constructor(
    readonly owner: string,
    readonly prune = true,
  ) {}

  name(): string {
    return `row${++this.n}`;
  }

  marks(kind: string, name: string, resource: string): Record<string, string> {
    return { [OWNER_KEY]: this.owner, [ROW_KEY]: `${kind}/${name}`, [RESOURCE_KEY]: resource };
  }

  /** Ensures our marks on an owned row's `external_ids` without touching other keys. */
  remark(table: 'Bridge' | 'Port' | 'Interface', row: Row, marks: Record<string, string>): void {
    const ids = externalIdsOf(row);
    if (Object.entries(marks).every(([k, v]) => ids[k] === v)) return;
    this.ops.push(
      mutate(
        table,
        [['_uuid', '==', row._uuid]],
        [
          ['external_ids', 'delete', Object.keys(marks)],
          ['external_ids', 'insert', marks],
        ],
      ),
    );
    this.changes.push(`${table} ${String(row['name'])}: external_ids marks`);
  }

  /** Inserts Port + Interface; returns the Port's uuid-name. */
  insertPort(
    name: string,
    iface: { type: string },
    port: { trunks?: number[]; vlan_mode?: 'trunk' },
    resource: string,
  ): string {
    const ifName = this.name();
    const portName = this.name();
    this.ops.push(
      o.insert(
        'Interface',
        { name, type: iface.type, external_ids: this.marks('iface', name, resource) },
        { uuidName: ifName },
      ),
      o.insert(
        'Port',
        { name, interfaces: [ifName], ...port, external_ids: this.marks('port', name, resource) },
        { uuidName: portName },
      ),
    );
    this.changes.push(`insert Port ${name}`);
    return portName;
  }
}

/** Computes the operations that bring the cache's state to `desired` (empty when converged). */
export function planNodeOvs(cache: DatabaseCache, desired: NodeOvsDesired, opts: PlanOptions): NodeOvsPlan {
  const b = new Builder(opts.owner, opts.prune ?? true);
  const problems: NodeOvsProblem[] = [...desired.problems];
  const root = rootRow(cache);
  const mappings = new Map(desired.mappings);
  const keep = new Set<string>();

  if (opts.integrationBridge && !bridgeByName(cache, INTEGRATION_BRIDGE)) {
    insertIntegrationBridge(b, root, opts.integrationBridge.datapathType);
  }

  for (const d of desired.bridges.values()) {
    const existing = bridgeByName(cache, d.bridge);
    if (existing && !isOwned(existing, opts.owner)) {
      problems.push({
        code: 'BRIDGE_NOT_OWNED',
        resource: d.resource,
        field: 'metadata.name',
        message: `bridge ${d.bridge} exists and is not managed by this agent; provider network skipped`,
      });
      mappings.delete(d.network);
      continue;
    }
    const uplink = portByName(cache, d.uplink.name);
    if (uplink && !isOwned(uplink, opts.owner)) {
      problems.push({
        code: 'PORT_NOT_OWNED',
        resource: d.resource,
        field: d.uplink.field,
        message: `OVS port ${d.uplink.name} exists and is not managed by this agent; provider network skipped`,
      });
      mappings.delete(d.network);
      continue;
    }
    if (existing) {
      keep.add(existing._uuid);
      updateBridge(cache, b, existing, d, uplink);
    } else {
      // An owned uplink port on another bridge (the NIC moved between networks) is removed there;
      // the same transaction re-creates it here (garbage collection runs before index checks).
      if (uplink) detachFromParent(cache, b, uplink);
      insertProviderBridge(b, root, d);
    }
  }

  for (const row of cache.rows('Bridge')) {
    if (!b.prune) break;
    if (!isOwned(row, opts.owner) || keep.has(row._uuid) || row['name'] === INTEGRATION_BRIDGE) continue;
    b.ops.push(o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['bridges', 'delete', [row._uuid]]]));
    b.changes.push(`delete Bridge ${String(row['name'])}`);
  }

  if (!b.prune) {
    // Keep every mapping we recorded that is not desired now.
    for (const m of parseBridgeMappings(externalIdsOf(root)[OWNED_MAPPINGS_KEY]))
      if (!mappings.has(m.network)) mappings.set(m.network, m.bridge);
  }
  planMappings(b, root, mappings, problems);
  return { ops: b.ops, problems, changes: b.changes };
}

function insertIntegrationBridge(b: Builder, root: Row, datapathType: string): void {
  const resource = 'Node/integration-bridge';
  const local = b.insertPort(INTEGRATION_BRIDGE, { type: 'internal' }, {}, resource);
  const br = b.name();
  b.ops.push(
    o.insert(
      'Bridge',
      {
        name: INTEGRATION_BRIDGE,
        datapath_type: datapathType,
        fail_mode: 'secure',
        other_config: { 'disable-in-band': 'true' },
        ports: [local],
        external_ids: b.marks('bridge', INTEGRATION_BRIDGE, resource),
      },
      { uuidName: br },
    ),
    o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['bridges', 'insert', [br]]]),
  );
  b.changes.push(`insert Bridge ${INTEGRATION_BRIDGE}`);
}

function uplinkColumns(d: DesiredProviderBridge): { trunks: number[]; vlan_mode: 'trunk' } {
  return { trunks: d.uplink.trunks, vlan_mode: 'trunk' };
}

function insertProviderBridge(b: Builder, root: Row, d: DesiredProviderBridge): void {
  // The bridge's own internal port, as `ovs-vsctl add-br` creates it (ovs-vsctl(8) "add-br").
  const local = b.insertPort(d.bridge, { type: 'internal' }, {}, d.resource);
  const up = b.insertPort(d.uplink.name, { type: '' }, uplinkColumns(d), d.resource);
  const br = b.name();
  b.ops.push(
    o.insert(
      'Bridge',
      {
        name: d.bridge,
        datapath_type: d.datapathType,
        fail_mode: 'standalone',
        ...(d.hwaddr !== undefined ? { other_config: { hwaddr: d.hwaddr } } : {}),
        ports: [local, up],
        external_ids: b.marks('bridge', d.bridge, d.resource),
      },
      { uuidName: br },
    ),
    o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['bridges', 'insert', [br]]]),
  );
  b.changes.push(`insert Bridge ${d.bridge}`);
}

/** Removes an owned port from whichever bridge holds it. */
function detachFromParent(cache: DatabaseCache, b: Builder, port: Row): void {
  for (const br of cache.rows('Bridge')) {
    if ((br['ports'] as string[]).includes(port._uuid)) {
      b.ops.push(o.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'delete', [port._uuid]]]));
      b.changes.push(`remove Port ${String(port['name'])} from ${String(br['name'])}`);
    }
  }
}

function updateBridge(
  cache: DatabaseCache,
  b: Builder,
  br: Row,
  d: DesiredProviderBridge,
  uplink: Row | undefined,
): void {
  const where = [['_uuid', '==', br._uuid] as const];
  const cols: Partial<vswitch.Bridge> = {};
  if (br['datapath_type'] !== d.datapathType) cols.datapath_type = d.datapathType;
  if (br['fail_mode'] !== 'standalone') cols.fail_mode = 'standalone';
  if (Object.keys(cols).length > 0) {
    b.ops.push(o.update('Bridge', where, cols));
    b.changes.push(`update Bridge ${d.bridge}: ${Object.keys(cols).join(', ')}`);
  }
  b.remark('Bridge', br, b.marks('bridge', d.bridge, d.resource));
  const other = (br['other_config'] ?? {}) as Record<string, string>;
  if (d.hwaddr !== undefined && other['hwaddr'] !== d.hwaddr) {
    b.ops.push(
      mutate('Bridge', where, [
        ['other_config', 'delete', ['hwaddr']],
        ['other_config', 'insert', { hwaddr: d.hwaddr }],
      ]),
    );
    b.changes.push(`update Bridge ${d.bridge}: other_config:hwaddr`);
  }

  const ports = (br['ports'] as string[]).map((u) => cache.get('Port', u)).filter((p) => p !== undefined);
  const add: string[] = [];
  const remove: string[] = [];
  if (!ports.some((p) => p['name'] === d.bridge)) {
    add.push(b.insertPort(d.bridge, { type: 'internal' }, {}, d.resource));
  }
  if (uplink && (br['ports'] as string[]).includes(uplink._uuid)) {
    updateUplink(cache, b, uplink, d);
  } else {
    if (uplink) detachFromParent(cache, b, uplink);
    add.push(b.insertPort(d.uplink.name, { type: '' }, uplinkColumns(d), d.resource));
  }
  for (const p of ports) {
    const name = p['name'];
    if (b.prune && isOwned(p, b.owner) && name !== d.bridge && name !== d.uplink.name) {
      remove.push(p._uuid);
      b.changes.push(`remove Port ${String(name)} from ${d.bridge}`);
    }
  }
  if (add.length > 0 || remove.length > 0) {
    const m: Mutation[] = [];
    if (remove.length > 0) m.push(['ports', 'delete', remove]);
    if (add.length > 0) m.push(['ports', 'insert', add]);
    b.ops.push(mutate('Bridge', where, m));
  }
}

function updateUplink(cache: DatabaseCache, b: Builder, port: Row, d: DesiredProviderBridge): void {
  const want = uplinkColumns(d);
  const cols: Partial<vswitch.Port> = {};
  if (!sameNumbers(port['trunks'] as number[], want.trunks)) cols.trunks = want.trunks;
  if (port['vlan_mode'] !== want.vlan_mode) cols.vlan_mode = want.vlan_mode;
  if (port['tag'] !== undefined) cols.tag = undefined;
  if (Object.keys(cols).length > 0) {
    b.ops.push(o.update('Port', [['_uuid', '==', port._uuid]], cols));
    b.changes.push(`update Port ${d.uplink.name}: ${Object.keys(cols).join(', ')}`);
  }
  b.remark('Port', port, b.marks('port', d.uplink.name, d.resource));
  for (const u of port['interfaces'] as string[]) {
    const iface = cache.get('Interface', u);
    if (!iface) continue;
    if (iface['type'] !== '') {
      b.ops.push(o.update('Interface', [['_uuid', '==', u]], { type: '' }));
      b.changes.push(`update Interface ${String(iface['name'])}: type`);
    }
  }
}

/** Merges the agent's pairs into `ovn-bridge-mappings` and keeps the record of ours. */
function planMappings(b: Builder, root: Row, desired: Map<string, string>, problems: NodeOvsProblem[]): void {
  const ids = externalIdsOf(root);
  const current = ids[BRIDGE_MAPPINGS_KEY];
  const record = ids[OWNED_MAPPINGS_KEY];
  const merged = mergeBridgeMappings(current, record, desired);
  for (const c of merged.conflicts) {
    problems.push({
      code: 'MAPPING_CONFLICT',
      resource: `ProviderNetwork/${c.network}`,
      field: 'metadata.name',
      message: `${BRIDGE_MAPPINGS_KEY} maps ${c.network} to ${c.existing} (not managed by this agent), not to ${c.wanted}`,
    });
  }
  const del: string[] = [];
  const ins: Record<string, string> = {};
  const set = (key: string, now: string | undefined, next: string) => {
    if ((now ?? '') === next) return;
    del.push(key);
    if (next !== '') ins[key] = next;
  };
  set(BRIDGE_MAPPINGS_KEY, current, merged.value);
  set(OWNED_MAPPINGS_KEY, record, merged.owned);
  if (del.length === 0) return;
  // Read-modify-write of a shared key: fail (and rebuild) if anyone changed external_ids meanwhile.
  b.ops.push(verify('Open_vSwitch', [['_uuid', '==', root._uuid]], { external_ids: ids }));
  const mutations: Mutation[] = [['external_ids', 'delete', del]];
  if (Object.keys(ins).length > 0) mutations.push(['external_ids', 'insert', ins]);
  b.ops.push(mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], mutations));
  b.changes.push(`${BRIDGE_MAPPINGS_KEY}: '${current ?? ''}' -> '${merged.value}'`);
}
