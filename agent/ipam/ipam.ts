/**
 * IPAM for all subnets: addresses (per subnet, see SubnetPool) and MACs (unique across the
 * agent, since subnets of one VPC share a router and VLAN subnets share a wire).
 *
 * Two kinds of allocation, one pool:
 * - **held**: an address a Northbound row holds (any agent's LSP or router port, fed by
 *   `syncIpamWithNb`, `./nb-sync.ts`). Holds are kept per subnet even while the subnet has no
 *   pool, and are put back whenever a pool is (re)created — a subnet removed and re-added, a
 *   CIDR edited back, an invalid edit fixed — so an address an LSP holds is never handed out
 *   again.
 * - **reserved**: handed out here by `allocate` and not released yet (a port being added,
 *   before its LSP reaches Northbound).
 *
 * An address stays taken while it is held or reserved. Allocation is idempotent per
 * (subnet, owner): the same owner gets the same address and MAC back.
 */
import { formatIp, normalizeMac, isMulticastMac, tryParseIp } from '../../netlink/inet.js';
import type { Subnet } from '../resources/types.js';
import { IpamError, IpamRejectedError, IpamUnknownSubnetError } from './errors.js';
import { deriveMac } from './mac.js';
import { SubnetPool, type IpamSubnet } from './pool.js';

export interface Allocation {
  subnet: string;
  /** Opaque owner key, e.g. the logical switch port name. */
  owner: string;
  ip: string;
  mac: string;
}

export interface AllocateOptions {
  /** A static address: honoured, or rejected with a reason. */
  ip?: string;
  /** A static MAC: honoured unless malformed, multicast or held by another owner. */
  mac?: string;
}

export interface RebuildEntry {
  subnet: string;
  owner: string;
  ip: string;
  mac?: string;
}

export interface RebuildResult {
  restored: number;
  rejected: { entry: RebuildEntry; error: IpamError }[];
}

export interface SubnetStats {
  subnet: string;
  cidr: string;
  size: bigint;
  /** Addresses that can ever be handed out (size minus reserved, gateway, excludes). */
  allocatable: bigint;
  used: number;
  available: bigint;
}

/** The IPAM view of a validated Subnet resource. */
export function toIpamSubnet(subnet: Subnet): IpamSubnet {
  return {
    name: subnet.meta.name,
    cidr: subnet.spec.cidr,
    gatewayValue: subnet.spec.gatewayValue,
    excludeRanges: subnet.spec.excludeRanges,
  };
}

const MAX_MAC_ATTEMPTS = 64;

export class Ipam {
  private readonly pools = new Map<string, SubnetPool>();
  /** Northbound holds by subnet, then owner (kept for subnets without a pool too). */
  private readonly holds = new Map<string, Map<string, { ip: string; mac?: string }>>();
  /** `subnet/owner` allocated here and not released. */
  private readonly reserved = new Set<string>();
  /** Holds that could not be applied (clash, outside the CIDR), by `subnet/owner`. */
  private readonly rejectedHolds = new Map<string, IpamError>();
  /** mac → `subnet/owner`. */
  private readonly macs = new Map<string, string>();
  /** `subnet/owner` → mac. */
  private readonly macOf = new Map<string, string>();

  /**
   * Adds or updates a subnet. A changed CIDR drops the allocations outside it (returned);
   * changed excludes apply to new allocations only.
   */
  upsertSubnet(def: IpamSubnet | Subnet): Allocation[] {
    const d = 'kind' in def ? toIpamSubnet(def) : def;
    const pool = this.pools.get(d.name);
    if (pool && pool.cidr.text === d.cidr.text) {
      pool.configure(d);
      return [];
    }
    const fresh = new SubnetPool(d);
    const dropped: Allocation[] = [];
    if (pool) {
      for (const [owner, v] of [...pool.owners()]) {
        if (fresh.restore(owner, v)) dropped.push(this.forget(pool, owner));
      }
    }
    this.pools.set(d.name, fresh);
    for (const [owner, h] of this.holds.get(d.name) ?? []) this.applyHold(d.name, owner, h);
    return dropped;
  }

  /** Removes a subnet and all its allocations (returned). */
  removeSubnet(name: string): Allocation[] {
    const pool = this.pools.get(name);
    if (!pool) return [];
    const out = [...pool.owners()].map(([owner]) => this.forget(pool, owner));
    this.pools.delete(name);
    for (const owner of this.holds.get(name)?.keys() ?? []) this.rejectedHolds.delete(`${name}/${owner}`);
    for (const key of [...this.reserved]) if (key.startsWith(`${name}/`)) this.reserved.delete(key);
    return out;
  }

  /** Makes the subnets exactly `defs`; returns allocations dropped by removals or CIDR changes. */
  setSubnets(defs: readonly (IpamSubnet | Subnet)[]): Allocation[] {
    const names = new Set(defs.map((d) => ('kind' in d ? d.meta.name : d.name)));
    const dropped: Allocation[] = [];
    for (const name of [...this.pools.keys()]) if (!names.has(name)) dropped.push(...this.removeSubnet(name));
    for (const d of defs) dropped.push(...this.upsertSubnet(d));
    return dropped;
  }

  private pool(subnet: string): SubnetPool {
    const p = this.pools.get(subnet);
    if (!p) throw new IpamUnknownSubnetError(subnet);
    return p;
  }

  /** Drops owner's allocation from `pool` and its MAC; returns what it held. */
  private forget(pool: SubnetPool, owner: string): Allocation {
    const v = pool.ipOf(owner);
    pool.release(owner);
    const key = `${pool.name}/${owner}`;
    const mac = this.macOf.get(key) ?? '';
    this.macOf.delete(key);
    if (mac) this.macs.delete(mac);
    return { subnet: pool.name, owner, ip: v === undefined ? '' : formatIp(pool.cidr.family, v), mac };
  }

  private parseRequested(pool: SubnetPool, ip: string): bigint {
    const parsed = tryParseIp(ip);
    if (!parsed)
      throw new IpamRejectedError(pool.name, 'invalid', `${JSON.stringify(ip)} is not an IP address`);
    if (parsed.family !== pool.cidr.family) {
      throw new IpamRejectedError(
        pool.name,
        'outside-cidr',
        `${ip} is not inside ${pool.name} (${pool.cidr.text})`,
      );
    }
    return parsed.value;
  }

  /** Checks a requested MAC for `key`; returns the canonical form. */
  private checkMac(subnet: string, key: string, mac: string): string {
    const norm = normalizeMac(mac);
    if (!norm || isMulticastMac(norm) || norm === '00:00:00:00:00:00') {
      throw new IpamRejectedError(
        subnet,
        'mac-invalid',
        `${JSON.stringify(mac)} is not a unicast MAC address`,
      );
    }
    const holder = this.macs.get(norm);
    if (holder !== undefined && holder !== key) {
      throw new IpamRejectedError(subnet, 'mac-taken', `MAC ${norm} is already used by ${holder}`, holder);
    }
    return norm;
  }

  private generateMac(subnet: string, owner: string): string {
    const key = `${subnet}/${owner}`;
    for (let attempt = 0; attempt < MAX_MAC_ATTEMPTS; attempt++) {
      const mac = deriveMac(subnet, owner, attempt);
      const holder = this.macs.get(mac);
      if (holder === undefined || holder === key) return mac;
    }
    throw new IpamError('ERR_IPAM_MAC', subnet, `no free MAC for ${key} after ${MAX_MAC_ATTEMPTS} attempts`);
  }

  /**
   * Allocates for `owner` in `subnet`. Idempotent: the same owner gets the same address and MAC
   * back. Throws IpamRejectedError (with `reason`), IpamExhaustedError or IpamUnknownSubnetError.
   * An owner that already holds an address and asks for a different one is rejected
   * (`owner-has-other`): release first.
   */
  allocate(subnet: string, owner: string, options: AllocateOptions = {}): Allocation {
    const pool = this.pool(subnet);
    const key = `${subnet}/${owner}`;
    const requested = options.ip !== undefined ? this.parseRequested(pool, options.ip) : undefined;
    const existingMac = this.macOf.get(key);
    let mac: string;
    if (options.mac !== undefined) {
      mac = this.checkMac(subnet, key, options.mac);
      if (existingMac !== undefined && existingMac !== mac) {
        throw new IpamRejectedError(
          subnet,
          'owner-has-other',
          `${owner} already has MAC ${existingMac} in ${subnet}`,
        );
      }
    } else mac = existingMac ?? this.generateMac(subnet, owner);
    const v = pool.allocate(owner, requested);
    if (existingMac === undefined) {
      this.macs.set(mac, key);
      this.macOf.set(key, mac);
    }
    this.reserved.add(key);
    return { subnet, owner, ip: formatIp(pool.cidr.family, v), mac };
  }

  /**
   * Records that a Northbound row holds `entry`; it is taken now (if the subnet has a pool) and
   * whenever the subnet's pool is created again. Returns the error when it clashes with another
   * owner or does not fit the subnet (the hold is still remembered: the subnet may change).
   */
  hold(entry: RebuildEntry): IpamError | undefined {
    let bySubnet = this.holds.get(entry.subnet);
    if (!bySubnet) this.holds.set(entry.subnet, (bySubnet = new Map()));
    const h = entry.mac !== undefined ? { ip: entry.ip, mac: entry.mac } : { ip: entry.ip };
    bySubnet.set(entry.owner, h);
    if (!this.pools.has(entry.subnet)) return undefined;
    return this.applyHold(entry.subnet, entry.owner, h);
  }

  /** The Northbound row holding `owner`'s address in `subnet` is gone. */
  unhold(subnet: string, owner: string): void {
    const bySubnet = this.holds.get(subnet);
    if (!bySubnet?.delete(owner)) return;
    if (bySubnet.size === 0) this.holds.delete(subnet);
    const key = `${subnet}/${owner}`;
    this.rejectedHolds.delete(key);
    const pool = this.pools.get(subnet);
    if (pool && !this.reserved.has(key) && pool.ipOf(owner) !== undefined) {
      this.forget(pool, owner);
      this.retryRejected(subnet);
    }
  }

  /** Holds of `subnet` refused for a clash may fit once an address was freed. */
  private retryRejected(subnet: string): void {
    for (const [o, h] of this.holds.get(subnet) ?? [])
      if (this.rejectedHolds.has(`${subnet}/${o}`)) this.applyHold(subnet, o, h);
  }

  /** Holds that could not be taken (clashes), for `/debug`. */
  holdProblems(): { subnet: string; owner: string; message: string }[] {
    return [...this.rejectedHolds].map(([key, err]) => {
      const i = key.indexOf('/');
      return { subnet: key.slice(0, i), owner: key.slice(i + 1), message: err.message };
    });
  }

  private applyHold(subnet: string, owner: string, h: { ip: string; mac?: string }): IpamError | undefined {
    const pool = this.pools.get(subnet)!;
    const key = `${subnet}/${owner}`;
    try {
      const v = this.parseRequested(pool, h.ip);
      const current = pool.ipOf(owner);
      if (current !== undefined && current !== v) {
        throw new IpamRejectedError(
          subnet,
          'owner-has-other',
          `${owner} holds ${formatIp(pool.cidr.family, current)} here but ${h.ip} in Northbound`,
        );
      }
      const mac = h.mac !== undefined ? this.checkMac(subnet, key, h.mac) : this.macOf.get(key);
      if (current === undefined) {
        const why = pool.restore(owner, v);
        if (why) throw why;
      }
      const known = this.macOf.get(key);
      if (known !== undefined && mac !== undefined && known !== mac) this.macs.delete(known);
      const m = mac ?? this.generateMac(subnet, owner);
      this.macs.set(m, key);
      this.macOf.set(key, m);
      this.rejectedHolds.delete(key);
      return undefined;
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
      this.rejectedHolds.set(key, e);
      return e;
    }
  }

  /** Frees `owner`'s allocations (in `subnet`, or in every subnet); returns what was freed. */
  release(owner: string, subnet?: string): Allocation[] {
    const pools =
      subnet !== undefined
        ? [this.pools.get(subnet)].filter((p) => p !== undefined)
        : [...this.pools.values()];
    const out: Allocation[] = [];
    for (const p of pools) {
      const key = `${p.name}/${owner}`;
      const wasReserved = this.reserved.delete(key);
      if (p.ipOf(owner) === undefined) continue;
      if (this.holds.get(p.name)?.has(owner)) {
        // Still held by a Northbound row: taken until that row goes.
        if (wasReserved) out.push(this.get(p.name, owner)!);
        continue;
      }
      out.push(this.forget(p, owner));
      this.retryRejected(p.name);
    }
    return out;
  }

  get(subnet: string, owner: string): Allocation | undefined {
    const pool = this.pools.get(subnet);
    const v = pool?.ipOf(owner);
    if (!pool || v === undefined) return undefined;
    return {
      subnet,
      owner,
      ip: formatIp(pool.cidr.family, v),
      mac: this.macOf.get(`${subnet}/${owner}`) ?? '',
    };
  }

  /** Owner of an address in a subnet. */
  ownerOf(subnet: string, ip: string): string | undefined {
    const pool = this.pools.get(subnet);
    const parsed = tryParseIp(ip);
    return pool && parsed ? pool.ownerOf(parsed.value) : undefined;
  }

  /**
   * Replaces all allocations with `entries` (read from Northbound). Entries are restored even
   * inside (new) exclude ranges — an address in use stays in use; entries for unknown subnets,
   * outside the CIDR, on reserved addresses, or clashing with an earlier entry are rejected.
   * Entries without a MAC get the derived one.
   */
  rebuild(entries: readonly RebuildEntry[]): RebuildResult {
    for (const pool of this.pools.values())
      for (const [owner] of [...pool.owners()]) this.forget(pool, owner);
    this.holds.clear();
    this.reserved.clear();
    this.rejectedHolds.clear();
    const rejected: RebuildResult['rejected'] = [];
    let restored = 0;
    for (const entry of entries) {
      if (!this.pools.has(entry.subnet)) {
        this.hold(entry);
        rejected.push({ entry, error: new IpamUnknownSubnetError(entry.subnet) });
        continue;
      }
      const err = this.hold(entry);
      if (err) rejected.push({ entry, error: err });
      else restored++;
    }
    return { restored, rejected };
  }

  /** Every allocation, by subnet. */
  allocations(): Allocation[] {
    const out: Allocation[] = [];
    for (const pool of this.pools.values()) {
      for (const [owner, v] of pool.owners()) {
        out.push({
          subnet: pool.name,
          owner,
          ip: formatIp(pool.cidr.family, v),
          mac: this.macOf.get(`${pool.name}/${owner}`) ?? '',
        });
      }
    }
    return out;
  }

  /** Used/available per subnet, for metrics (`vpc_agent_ipam_*`). */
  stats(): SubnetStats[] {
    return [...this.pools.values()].map((p) => ({
      subnet: p.name,
      cidr: p.cidr.text,
      size: p.cidr.size,
      allocatable: p.allocatableCount,
      used: p.used,
      available: p.allocatableCount - BigInt(p.used),
    }));
  }

  hasSubnet(name: string): boolean {
    return this.pools.has(name);
  }
}
