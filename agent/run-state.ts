/**
 * Pure helpers of `createAgent` (run.ts): what the agent derives from NB rows and from
 * resource sets, kept apart so the wiring file stays about wiring.
 */
import type { OvsdbClient } from '../ovsdb/index.js';
import { heldAddressesFromNb, type RebuildEntry } from './ipam/index.js';
import { externalIds, OWNER_KEY, SUBNET_KEY } from './ownership.js';
import type { LoadError } from './resources/index.js';
import { allResources, type ResourceSet } from './resources/types.js';

/** IPAM entries of every address the deployment's rows hold in NB (LSP `addresses[0]`, LRP `networks[0]`). */
export function ipamEntriesFromNb(client: OvsdbClient, owner: string): RebuildEntry[] {
  return heldAddressesFromNb(client.cache, owner);
}

/** Metric label of a load error: the resource kind, `manifest` for a file/document error. */
export function errorKind(e: LoadError): string {
  return 'kind' in e ? e.kind || 'unknown' : 'manifest';
}

/** Declared resources by kind (the implicit default VPC is not counted). */
export function countByKind(set: ResourceSet): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of allResources(set)) {
    if (r.kind === 'Vpc' && r.implicit) continue;
    out[r.kind] = (out[r.kind] ?? 0) + 1;
  }
  return out;
}

/** Workload ports (node-owned LSPs of deployment `owner`) per subnet, from the NB cache. */
export function portsBySubnet(cache: OvsdbClient['cache'], owner: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of cache.rows('Logical_Switch_Port')) {
    const ids = externalIds(row);
    const o = ids[OWNER_KEY];
    if (typeof o !== 'string' || !o.startsWith(`${owner}/node/`)) continue;
    const subnet = ids[SUBNET_KEY];
    if (typeof subnet === 'string') out.set(subnet, (out.get(subnet) ?? 0) + 1);
  }
  return out;
}
