/**
 * The EIP records the Northbound writer keeps (one Address_Set per IptablesEIP, built in
 * ./build/nat-gateway.ts): read back by the node that runs the EIP's gateway, so an EIP
 * without `v4ip` has the one address the writer allocated, on any node and after any restart.
 */
import type { DatabaseCache } from '../../ovsdb/index.js';
import { externalIds, IP_KEY, OWNER_KEY, RESOURCE_KEY } from '../ownership.js';

const PREFIX = 'IptablesEIP/';

/** EIP name → address, from the records of deployment `owner` in `cache`. */
export function eipAddressesFromNb(cache: DatabaseCache, owner: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!cache.tableNames().includes('Address_Set')) return out;
  for (const row of cache.rows('Address_Set')) {
    const ids = externalIds(row);
    const resource = ids[RESOURCE_KEY];
    const ip = ids[IP_KEY];
    if (ids[OWNER_KEY] !== owner || typeof resource !== 'string' || !resource.startsWith(PREFIX)) continue;
    if (typeof ip === 'string') out.set(resource.slice(PREFIX.length), ip);
  }
  return out;
}
