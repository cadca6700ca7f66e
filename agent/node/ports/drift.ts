/**
 * Which database changes are drift of this node's ports, for the repair pass (./reconciler.ts).
 *
 * Only what the agent writes counts. Other writers update the same rows all the time: northd
 * sets an LSP's `up`, ovn-controller adds `ovn-installed` to an Interface's `external_ids`, and
 * vswitchd fills in an Interface's `error`. During a burst of VM starts, treating each of those
 * as drift re-plugged every port several times over and starved the adds themselves. A change is
 * drift when a row of ours appears or goes, or a column we write differs; an Interface's `error`
 * counts too (a port vswitchd could not open is re-added).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Row, RowChange } from '../../../ovsdb/index.js';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../../nb/desired.js';
import { IFACE_KEYS } from './ovs.js';

/** What a change means for the repair pass: no drift, one port, or every port. */
export type PortDrift = { kind: 'none' } | { kind: 'port'; lsp: string } | { kind: 'all' };

const NONE: PortDrift = { kind: 'none' };
const ALL: PortDrift = { kind: 'all' };

/** The LSP columns a node writes for its ports (./nb-ports.ts `portColumns`). */
const LSP_COLUMNS = [
  'name',
  'type',
  'addresses',
  'port_security',
  'options',
  'dhcpv4_options',
  'dhcpv6_options',
  'external_ids',
] as const;

/** The `external_ids` keys a node writes on a workload port's Interface (./ovs.ts). */
const IFACE_ID_KEYS = [...Object.values(IFACE_KEYS), OWNER_KEY, ROW_KEY, RESOURCE_KEY];

const ids = (row: Row | undefined) => (row?.['external_ids'] ?? {}) as Record<string, string>;

function columnsDiffer(ch: RowChange, columns: readonly string[]): boolean {
  return columns.some((c) => !isDeepStrictEqual(ch.old?.[c], ch.new?.[c]));
}

/** A Northbound change: one of this node's LSPs, or a switch / DHCP options row (re)created. */
export function nbPortDrift(ch: RowChange, nodeOwnerId: string): PortDrift {
  if (ch.table === 'DHCP_Options') return ALL;
  if (ch.table === 'Logical_Switch') return ch.kind === 'update' ? NONE : ALL;
  if (ch.table !== 'Logical_Switch_Port') return NONE;
  if (ids(ch.old ?? ch.new)[OWNER_KEY] !== nodeOwnerId && ids(ch.new)[OWNER_KEY] !== nodeOwnerId) return NONE;
  if (ch.kind === 'update' && !columnsDiffer(ch, LSP_COLUMNS)) return NONE;
  return { kind: 'port', lsp: String((ch.new ?? ch.old)?.['name']) };
}

/** An Open_vSwitch change: a workload port's Interface or Port row. */
export function ovsPortDrift(ch: RowChange): PortDrift {
  if (ch.table === 'Interface') {
    const lsp = ids(ch.new)[IFACE_KEYS.ifaceId] ?? ids(ch.old)[IFACE_KEYS.ifaceId];
    if (ch.kind === 'update') {
      const ours = IFACE_ID_KEYS.some((k) => ids(ch.old)[k] !== ids(ch.new)[k]);
      if (!ours && !columnsDiffer(ch, ['name', 'type', 'error'])) return NONE;
    }
    return lsp === undefined ? NONE : { kind: 'port', lsp };
  }
  if (ch.table === 'Port') {
    if (ch.kind === 'update' && !columnsDiffer(ch, ['name', 'interfaces', 'external_ids'])) return NONE;
    // A workload port's Port row names its LSP as `Port/<lsp>`; other Ports are not ours.
    const resource = ids(ch.new)[RESOURCE_KEY] ?? ids(ch.old)[RESOURCE_KEY];
    return resource?.startsWith('Port/') ? { kind: 'port', lsp: resource.slice('Port/'.length) } : NONE;
  }
  return NONE;
}
