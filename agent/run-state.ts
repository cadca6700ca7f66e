/**
 * Pure helpers of `createAgent` (run.ts): what the agent derives from NB rows and from
 * resource sets, kept apart so the wiring file stays about wiring.
 */
import type { OvsdbClient } from '../ovsdb/index.js';
import type { RebuildEntry } from './ipam/index.js';
import { IP_OWNER_KEY, SUBNET_KEY } from './nb/build/index.js';
import { ownedRows } from './nb/reconcile/index.js';
import { externalIds, OWNER_KEY } from './ownership.js';
import type { LoadError } from './resources/index.js';
import { allResources, DEFAULT_VPC, resourceKey, type ResourceSet } from './resources/types.js';

/** IPAM entries of the rows we own: LSP `addresses[0]` = `"<mac> <ip>"`, LRP `networks[0]` = `ip/len`. */
export function ipamEntriesFromNb(client: OvsdbClient, owner: string): RebuildEntry[] {
  const out: RebuildEntry[] = [];
  for (const table of ['Logical_Switch_Port', 'Logical_Router_Port']) {
    for (const row of ownedRows(client.cache, table, owner)) {
      const ids = row['external_ids'] as Record<string, string>;
      const ipOwner = ids[IP_OWNER_KEY];
      const subnet = ids[SUBNET_KEY];
      if (!ipOwner || !subnet) continue;
      if (table === 'Logical_Switch_Port') {
        const [mac, ip] = String((row['addresses'] as string[])[0] ?? '').split(' ');
        if (mac && ip) out.push({ subnet, owner: ipOwner, ip, mac });
      } else {
        const ip = String((row['networks'] as string[])[0] ?? '').split('/')[0];
        if (ip) out.push({ subnet, owner: ipOwner, ip, mac: row['mac'] as string });
      }
    }
  }
  return out;
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

/** True when a resource of `prev` (other than the implicit default VPC) is not in `next`. */
export function lostAny(prev: ResourceSet, next: ResourceSet): boolean {
  const present = new Set(allResources(next).map((r) => `${r.kind}/${resourceKey(r)}`));
  return allResources(prev).some(
    (r) => !(r.kind === 'Vpc' && r.meta.name === DEFAULT_VPC) && !present.has(`${r.kind}/${resourceKey(r)}`),
  );
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
