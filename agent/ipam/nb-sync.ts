/**
 * Keeps IPAM's holds equal to what Northbound holds: every address of an LSP, router port or
 * EIP record of the deployment (the writer's and every node's), from the first sync on and after every
 * change. Standby agents, node agents and a writer that just took over therefore all allocate
 * against the current Northbound, never against what it was when they started.
 */
import type { DatabaseCache, Row } from '../../ovsdb/index.js';
import { HELD_TABLES, heldAddress, type HeldAddress } from '../ownership.js';
import type { Ipam } from './ipam.js';

const same = (a: HeldAddress | undefined, b: HeldAddress | undefined) =>
  a?.subnet === b?.subnet && a?.owner === b?.owner && a?.ip === b?.ip && a?.mac === b?.mac;

export interface IpamSync {
  close(): void;
}

/** Every address the rows of deployment `owner` hold in `cache` now. */
export function heldAddressesFromNb(cache: DatabaseCache, owner: string): HeldAddress[] {
  const out: HeldAddress[] = [];
  for (const table of HELD_TABLES) {
    if (!cache.tableNames().includes(table)) continue;
    for (const row of cache.rows(table)) {
      const h = heldAddress(table, row, owner);
      if (h) out.push(h);
    }
  }
  return out;
}

/** Holds every address `cache` shows now, then follows its changes. */
export function syncIpamWithNb(ipam: Ipam, cache: DatabaseCache, owner: string): IpamSync {
  const of = (table: string, row: Row | undefined) => (row ? heldAddress(table, row, owner) : undefined);
  for (const h of heldAddressesFromNb(cache, owner)) ipam.hold(h);
  const off = cache.onChange((batch) => {
    // Releases first: one message may move an address from one row to another.
    const added: HeldAddress[] = [];
    for (const ch of batch.changes) {
      if (!HELD_TABLES.includes(ch.table)) continue;
      const before = of(ch.table, ch.old);
      const after = of(ch.table, ch.new);
      if (same(before, after)) continue;
      if (before) ipam.unhold(before.subnet, before.owner);
      if (after) added.push(after);
    }
    for (const h of added) ipam.hold(h);
  });
  return { close: off };
}
