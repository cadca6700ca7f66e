/** Helpers for the Northbound builder tests: seeds, ports through IPAM, row lookups. */
import { join } from 'node:path';
import { expect } from 'vitest';
import { Ipam } from '../../../../../agent/ipam/index.js';
import type { DesiredRow, DesiredState } from '../../../../../agent/nb/desired.js';
import type { PortAllocation } from '../../../../../agent/nb/build/index.js';
import { loadAndValidate } from '../../../../../agent/resources/loader.js';
import type { ResourceSet } from '../../../../../agent/resources/types.js';
import { check, ovnNad, type Doc } from '../../resources/helpers.js';

const root = new URL('../../../../../', import.meta.url).pathname;

/** Loads one `examples/<name>` seed (or all of them with no name); fails on any error. */
export async function seed(name?: string): Promise<ResourceSet> {
  const r = await loadAndValidate(name ? join(root, 'examples', name) : join(root, 'examples'));
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.valid;
}

/** Allocates `vm<i>` ports through IPAM: `perSubnet[subnet] = count`. */
export function allocatePorts(resources: ResourceSet, perSubnet: Record<string, number>): PortAllocation[] {
  const ipam = new Ipam();
  ipam.setSubnets([...resources.subnets.values()]);
  const ports: PortAllocation[] = [];
  for (const [subnet, count] of Object.entries(perSubnet)) {
    for (let i = 1; i <= count; i++) {
      const name = `${subnet}.vm${i}`;
      const a = ipam.allocate(subnet, name);
      ports.push({ subnet, name, ip: a.ip, mac: a.mac, owner: name });
    }
  }
  return ports;
}

/** The row `table`/`key`; fails the test when it is missing. */
export function row(state: DesiredState, table: string, key: string): DesiredRow {
  const r = state.get(table)?.get(key);
  if (!r) throw new Error(`no desired row ${table}/${key}; have ${keysOf(state, table).join(', ')}`);
  return r;
}

/** Sorted keys of `table`. */
export function keysOf(state: DesiredState, table: string): string[] {
  return [...(state.get(table)?.keys() ?? [])].sort();
}

/** Keys a row refers to in `column`. */
export function refKeys(r: DesiredRow, column: string): string[] {
  return (r.refs?.[column] ?? []).map((x) => x.key);
}

/** Every row as `table|key`, sorted. */
export function allKeys(state: DesiredState): string[] {
  const out: string[] = [];
  for (const [table, rows] of state) for (const key of rows.keys()) out.push(`${table}|${key}`);
  return out.sort();
}

/** The same set with its maps re-inserted in reverse order (an order-independence check). */
export function reversed(set: ResourceSet): ResourceSet {
  const rev = <K, V>(m: Map<K, V>): Map<K, V> => new Map([...m].reverse());
  return {
    vpcs: rev(set.vpcs),
    subnets: rev(set.subnets),
    nads: rev(set.nads),
    providerNetworks: rev(set.providerNetworks),
    vlans: rev(set.vlans),
    natGateways: rev(set.natGateways),
    eips: rev(set.eips),
    snatRules: rev(set.snatRules),
    dnatRules: rev(set.dnatRules),
    fipRules: rev(set.fipRules),
  };
}

/** Rows of `table` (unsorted). */
export function rowsOf(state: DesiredState, table: string): DesiredRow[] {
  return [...(state.get(table)?.values() ?? [])];
}

/** Every row is internally consistent: resources set, refs resolve to desired rows. */
export function expectRefsResolve(state: DesiredState): void {
  for (const rows of state.values()) {
    for (const r of rows.values()) {
      expect(r.resource).toMatch(/^[A-Za-z]+\/.+/);
      for (const [column, refs] of Object.entries(r.refs ?? {})) {
        for (const ref of refs) {
          expect(
            state.get(ref.table)?.has(ref.key),
            `${r.table}/${r.key}.${column} -> ${ref.table}/${ref.key}`,
          ).toBe(true);
        }
      }
    }
  }
}

/** Rows added, removed and changed (columns or refs) from `a` to `b`, as `table|key`, sorted. */
export function diffStates(
  a: DesiredState,
  b: DesiredState,
): { added: string[]; removed: string[]; changed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  const tables = new Set([...a.keys(), ...b.keys()]);
  for (const t of tables) {
    const ra = a.get(t) ?? new Map<string, DesiredRow>();
    const rb = b.get(t) ?? new Map<string, DesiredRow>();
    for (const [k, r] of ra) {
      const other = rb.get(k);
      if (!other) removed.push(`${t}|${k}`);
      else if (JSON.stringify(r) !== JSON.stringify(other)) changed.push(`${t}|${k}`);
    }
    for (const k of rb.keys()) if (!ra.has(k)) added.push(`${t}|${k}`);
  }
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

/** Validated resources from raw docs; each subnet gets its own NAD/provider. Fails on errors. */
export function topology(docs: Doc[]): ResourceSet {
  const all: Doc[] = [];
  for (const d of docs) {
    if (d['kind'] === 'Subnet') {
      const name = (d['metadata'] as { name: string }).name;
      const spec = d['spec'] as Record<string, unknown>;
      all.push({ ...d, spec: { provider: `${name}.default.ovn`, ...spec } }, ovnNad(name));
    } else all.push(d);
  }
  const r = check(all);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.valid;
}
