/**
 * Shared state of one build: the DesiredState being filled, warnings, name claims and the
 * indexes that keep the build linear (subnets by VPC, ports by subnet — built once, never
 * scanned per row).
 *
 * Every iteration is in sorted name order, so the same resources in any insertion order give
 * the same rows, and the same winner when two rows would claim one name.
 */
import type { ResourceSet, Subnet, Vpc } from '../../resources/types.js';
import { addRow, type DesiredRow, type DesiredState, type RowRef } from '../desired.js';
import type { BuildOptions, BuildWarning, PortAllocation } from './types.js';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class BuildContext {
  readonly state: DesiredState = new Map();
  readonly warnings: BuildWarning[] = [];
  /** VPCs sorted by name. */
  readonly vpcs: Vpc[];
  /** Subnets that OVN carries (not external networks), sorted by name. */
  readonly subnets: Subnet[];
  private readonly subnetsOfVpc = new Map<string, Subnet[]>();
  private readonly portsOfSubnet = new Map<string, PortAllocation[]>();
  /** `table\0name` → resource that claimed it. */
  private readonly claimed = new Map<string, string>();
  /** Rows whose `refs` lists get sorted at the end. */
  private readonly parents: DesiredRow[] = [];

  constructor(
    readonly resources: ResourceSet,
    ports: readonly PortAllocation[],
    readonly options: BuildOptions,
  ) {
    // An external network (provider `<nad>.<namespace>`) is a physical segment: it only gives
    // out addresses, and nothing of it goes to OVN.
    this.subnets = [...resources.subnets.values()]
      .filter((s) => !s.spec.external)
      .sort((a, b) => byName(a.meta.name, b.meta.name));
    for (const s of this.subnets) {
      let list = this.subnetsOfVpc.get(s.spec.vpc);
      if (!list) this.subnetsOfVpc.set(s.spec.vpc, (list = []));
      list.push(s);
    }
    // The default VPC exists without being declared, but its router is only built while it
    // is declared or has subnets: deleting every resource then leaves no row behind.
    this.vpcs = [...resources.vpcs.values()]
      .filter((v) => !v.implicit || this.subnetsOfVpc.has(v.meta.name))
      .sort((a, b) => byName(a.meta.name, b.meta.name));
    const sortedPorts = [...ports].sort((a, b) => byName(a.name, b.name) || byName(a.subnet, b.subnet));
    for (const p of sortedPorts) {
      let list = this.portsOfSubnet.get(p.subnet);
      if (!list) this.portsOfSubnet.set(p.subnet, (list = []));
      list.push(p);
    }
  }

  /** Subnets of `vpc`, sorted by name. */
  subnetsOf(vpc: string): readonly Subnet[] {
    return this.subnetsOfVpc.get(vpc) ?? [];
  }

  /** Ports on `subnet`, sorted by name. */
  portsOf(subnet: string): readonly PortAllocation[] {
    return this.portsOfSubnet.get(subnet) ?? [];
  }

  /** Subnets named by ports that do not exist (each port warned about once, by the caller). */
  portSubnets(): IterableIterator<string> {
    return this.portsOfSubnet.keys();
  }

  warn(resource: string, message: string): void {
    this.warnings.push({ resource, message });
  }

  /**
   * Claims a unique `name` in `table` (an indexed name column, e.g. Logical_Switch_Port.name)
   * for `resource`. A second claim is refused with a warning; the caller skips its row.
   */
  claim(table: string, name: string, resource: string): boolean {
    const id = `${table}\0${name}`;
    const holder = this.claimed.get(id);
    if (holder === undefined) {
      this.claimed.set(id, resource);
      return true;
    }
    this.warn(resource, `${table} name ${JSON.stringify(name)} is already used by ${holder}; skipped`);
    return false;
  }

  /** Adds a row (duplicate keys are builder bugs and throw, see `addRow`). */
  add(row: DesiredRow): DesiredRow {
    addRow(this.state, row);
    return row;
  }

  /** Adds a row that will hold references; its ref lists are sorted by key at the end. */
  addParent(row: DesiredRow): DesiredRow {
    this.parents.push(row);
    return this.add(row);
  }

  has(table: string, key: string): boolean {
    return this.state.get(table)?.has(key) ?? false;
  }

  get(table: string, key: string): DesiredRow | undefined {
    return this.state.get(table)?.get(key);
  }

  /** Appends a reference to `child` in `parent.refs[column]`. */
  link(parent: DesiredRow, column: string, child: DesiredRow): void {
    const ref: RowRef = { table: child.table, key: child.key };
    const refs = (parent.refs ??= {});
    (refs[column] ??= []).push(ref);
  }

  /** Sorts every parent's ref lists (set columns are unordered; sorted = comparable). */
  finish(): DesiredState {
    for (const row of this.parents) {
      for (const list of Object.values(row.refs ?? {})) list.sort((a, b) => byName(a.key, b.key));
    }
    return this.state;
  }
}
