/**
 * Ownership and identity of the OVSDB rows vpc-agent writes, in one place: the `external_ids`
 * keys, who owns a row, and the address a port row holds.
 *
 * - `vpc-agent.io/owner` names the writer of a row. Cluster-wide rows (switches, routers,
 *   ACLs, DHCP, router ports) carry the deployment's owner id (default `vpc-agent`); the ports
 *   a node's agent adds carry `<owner>/node/<node>`. Every reconciler updates and prunes only
 *   the rows carrying exactly its own owner value, so the Northbound writer never deletes a
 *   node's ports and a node never touches another node's.
 * - `vpc-agent.io/key` is a row's identity within its table (stable across restarts).
 * - `vpc-agent.io/resource` is the resource that produced it (`Subnet/vswitch1`).
 * - `vpc-agent.io/subnet`, `…/ip-owner`, `…/ip`, `…/mac`: the address a port row holds (or an
 *   EIP's record, an Address_Set), so every agent's IPAM sees every address in use and two
 *   agents cannot claim one address (the claims are checked inside the writing transaction).
 */
import { normalizeMac, tryParseIp } from '../netlink/inet.js';
import type { Row } from '../ovsdb/index.js';

/** Every key the agent writes in `external_ids` is in this one namespace. */
const key = (name: string) => `vpc-agent.io/${name}`;

export const OWNER_KEY = key('owner');
export const ROW_KEY = key('key');
export const RESOURCE_KEY = key('resource');
/** Default value of {@link OWNER_KEY} (the deployment's owner id). */
export const DEFAULT_OWNER = 'vpc-agent';
/** LSP/LRP: the IPAM owner of the port's address. */
export const IP_OWNER_KEY = key('ip-owner');
/** LSP/LRP/DHCP_Options/ACL: the Subnet the row belongs to. */
export const SUBNET_KEY = key('subnet');
/** Node ports: the address, for the uniqueness claim; EIP records: the address. */
export const IP_KEY = key('ip');
/** Node ports: the MAC, for the uniqueness claim. */
export const MAC_KEY = key('mac');

/** Owner id of the rows the agent of `node` writes itself (its ports). */
export function nodeOwner(owner: string, node: string): string {
  return `${owner}/node/${node}`;
}

/** True when `value` (an owner key) belongs to deployment `owner`: its own or one of its nodes'. */
export function isDeploymentOwner(value: unknown, owner: string): boolean {
  return value === owner || (typeof value === 'string' && value.startsWith(`${owner}/node/`));
}

/** A string-to-string map column of a cached row (empty when absent). */
export function mapColumn(row: Row, column: string): Record<string, string> {
  const v = row[column];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
}

/** `external_ids` of a cached row (an empty record when the column is absent). */
export function externalIds(row: Row): Record<string, unknown> {
  return mapColumn(row, 'external_ids');
}

/**
 * The MAC and the (first) address of an LSP `addresses` or `port_security` entry
 * `"<mac> <ip> [<ip>…]"` (ovn-nb(5): an Ethernet address, then IPv4/IPv6 addresses separated by
 * spaces; any run of white space separates here). Undefined when the entry is not of that form:
 * the column's other values (`router`, `unknown`, `dynamic`, `<mac> dynamic`), a MAC alone, a
 * malformed MAC or an element that is not an address. Values are returned as written.
 */
export function parseLspAddress(entry: unknown): { mac: string; ip: string } | undefined {
  if (typeof entry !== 'string') return undefined;
  const [mac, ...ips] = entry.trim().split(/\s+/);
  const ip = ips[0];
  if (mac === undefined || normalizeMac(mac) === undefined || ip === undefined) return undefined;
  return ips.every((a) => tryParseIp(a) !== undefined) ? { mac, ip } : undefined;
}

/** The entry for `mac` and its addresses, joined by single spaces. */
export const formatLspAddress = (mac: string, ...ips: string[]): string => [mac, ...ips].join(' ');

/** The address a port row of the deployment holds (LSP `addresses[0]`, LRP `networks[0]`). */
export interface HeldAddress {
  subnet: string;
  owner: string;
  ip: string;
  mac?: string;
}

/** Tables whose rows of the deployment hold addresses (LSP, LRP, and the EIP records). */
export const HELD_TABLES: readonly string[] = ['Logical_Switch_Port', 'Logical_Router_Port', 'Address_Set'];

/** What an LSP, LRP or EIP record (Address_Set) of deployment `owner` holds, if anything. */
export function heldAddress(table: string, row: Row, owner: string): HeldAddress | undefined {
  const ids = externalIds(row);
  if (!isDeploymentOwner(ids[OWNER_KEY], owner)) return undefined;
  const ipOwner = ids[IP_OWNER_KEY];
  const subnet = ids[SUBNET_KEY];
  if (typeof ipOwner !== 'string' || typeof subnet !== 'string') return undefined;
  if (table === 'Logical_Switch_Port') {
    const a = parseLspAddress((row['addresses'] as string[] | undefined)?.[0]);
    return a && { subnet, owner: ipOwner, ip: a.ip, mac: a.mac };
  }
  if (table === 'Logical_Router_Port') {
    const ip = String((row['networks'] as string[] | undefined)?.[0] ?? '').split('/')[0];
    return ip ? { subnet, owner: ipOwner, ip, mac: String(row['mac']) } : undefined;
  }
  if (table === 'Address_Set') {
    const ip = ids[IP_KEY];
    return typeof ip === 'string' && tryParseIp(ip) !== undefined
      ? { subnet, owner: ipOwner, ip }
      : undefined;
  }
  return undefined;
}
