/**
 * Address pool of one subnet: the CIDR minus its reserved addresses (network/broadcast, see
 * `reservedAddresses`), the gateway and `excludeIps`.
 *
 * Allocation is amortized O(1) without a bitmap, so it also works for IPv6 sizes: a cursor
 * walks the CIDR once, jumping over exclude ranges (binary search) and taken addresses;
 * released addresses go on a free stack that is used first. Invariant: every free allocatable
 * address is at or after the cursor or on the free stack.
 */
import { cidrContains, formatIp, type Cidr } from '../../netlink/inet.js';
import { reservedAddresses, type IpRange } from '../resources/net.js';
import { IpamExhaustedError, IpamRejectedError } from './errors.js';

/** What IPAM needs of a subnet (a `SubnetSpec` plus its name fits). */
export interface IpamSubnet {
  name: string;
  cidr: Cidr;
  gatewayValue: bigint;
  /** Merged, sorted; the gateway may or may not be among them. */
  excludeRanges: IpRange[];
}

export class SubnetPool {
  readonly name: string;
  readonly cidr: Cidr;
  private gateway: bigint;
  private excludes: IpRange[];
  private reserved: Set<bigint>;
  /** Addresses that can ever be handed out. */
  private allocatable: bigint;
  private readonly byIp = new Map<bigint, string>();
  private readonly byOwner = new Map<string, bigint>();
  private cursor: bigint;
  private freed: bigint[] = [];
  /** Allocations inside exclude ranges (restored ones): not counted against `allocatable`. */
  private excludedHeld = 0;

  constructor(def: IpamSubnet) {
    this.name = def.name;
    this.cidr = def.cidr;
    this.gateway = def.gatewayValue;
    this.excludes = [];
    this.reserved = new Set();
    this.allocatable = 0n;
    this.cursor = def.cidr.first;
    this.configure(def);
  }

  /** Applies new gateway/excludes (same CIDR). Existing allocations stay, even if now excluded. */
  configure(def: IpamSubnet): void {
    this.gateway = def.gatewayValue;
    this.excludes = def.excludeRanges
      .map((r) => ({
        first: r.first < this.cidr.first ? this.cidr.first : r.first,
        last: r.last > this.cidr.last ? this.cidr.last : r.last,
      }))
      .filter((r) => r.first <= r.last);
    this.reserved = new Set([...reservedAddresses(this.cidr), this.gateway]);
    let excluded = 0n;
    for (const r of this.excludes) excluded += r.last - r.first + 1n;
    let extra = 0n;
    for (const v of this.reserved) if (!this.excludeOf(v)) extra++;
    this.allocatable = this.cidr.size - excluded - extra;
    this.cursor = this.cidr.first;
    this.freed = [];
    this.excludedHeld = 0;
    for (const v of this.byIp.keys()) if (this.excludeOf(v)) this.excludedHeld++;
  }

  /** The exclude range holding `v`, by binary search. */
  private excludeOf(v: bigint): IpRange | undefined {
    let lo = 0;
    let hi = this.excludes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.excludes[mid] as IpRange;
      if (v < r.first) hi = mid - 1;
      else if (v > r.last) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Why `v` cannot be handed out to `owner`, or undefined if it can. */
  check(v: bigint, owner: string): IpamRejectedError | undefined {
    const text = formatIp(this.cidr.family, v);
    if (!cidrContains(this.cidr, v)) {
      return new IpamRejectedError(
        this.name,
        'outside-cidr',
        `${text} is not inside ${this.name} (${this.cidr.text})`,
      );
    }
    if (this.reserved.has(v)) {
      const what =
        v === this.gateway ? 'gateway' : v === this.cidr.first ? 'network address' : 'broadcast address';
      return new IpamRejectedError(this.name, 'reserved', `${text} is the ${what} of ${this.name}`);
    }
    const holder = this.byIp.get(v);
    if (holder !== undefined && holder !== owner) {
      return new IpamRejectedError(
        this.name,
        'taken',
        `${text} in ${this.name} is already allocated to ${holder}`,
        holder,
      );
    }
    if (this.excludeOf(v)) {
      return new IpamRejectedError(this.name, 'excluded', `${text} is in excludeIps of ${this.name}`);
    }
    return undefined;
  }

  ipOf(owner: string): bigint | undefined {
    return this.byOwner.get(owner);
  }

  ownerOf(v: bigint): string | undefined {
    return this.byIp.get(v);
  }

  /**
   * Gives `owner` an address: its current one if it has one (idempotent), else `requested`
   * (checked; inside excludeIps is allowed), else the next free (never inside excludeIps). Throws IpamRejectedError / IpamExhaustedError.
   */
  allocate(owner: string, requested?: bigint): bigint {
    const current = this.byOwner.get(owner);
    if (current !== undefined) {
      if (requested === undefined || requested === current) return current;
      throw new IpamRejectedError(
        this.name,
        'owner-has-other',
        `${owner} already holds ${formatIp(this.cidr.family, current)} in ${this.name}; release it before asking for ${formatIp(this.cidr.family, requested)}`,
      );
    }
    if (requested !== undefined) {
      // excludeIps keep addresses from dynamic allocation only: an address asked for by name is
      // honoured there (the usual way to set addresses aside for static use).
      const why = this.check(requested, owner);
      if (why && why.reason !== 'excluded') throw why;
      this.take(requested, owner);
      return requested;
    }
    if (BigInt(this.used) >= this.allocatable) {
      throw new IpamExhaustedError(this.name, this.cidr.text, this.cidr.size, this.allocatable);
    }
    const v = this.nextFree();
    if (v === undefined)
      throw new IpamExhaustedError(this.name, this.cidr.text, this.cidr.size, this.allocatable);
    this.take(v, owner);
    return v;
  }

  /** Records an existing allocation without the exclude check (used on rebuild). */
  restore(owner: string, v: bigint): IpamRejectedError | undefined {
    const why = this.check(v, owner);
    if (why && why.reason !== 'excluded') return why;
    const current = this.byOwner.get(owner);
    if (current !== undefined && current !== v) {
      return new IpamRejectedError(
        this.name,
        'owner-has-other',
        `${owner} already holds ${formatIp(this.cidr.family, current)} in ${this.name}`,
      );
    }
    this.take(v, owner);
    return undefined;
  }

  private take(v: bigint, owner: string): void {
    this.byIp.set(v, owner);
    this.byOwner.set(owner, v);
    if (this.excludeOf(v)) this.excludedHeld++;
  }

  private nextFree(): bigint | undefined {
    while (this.freed.length > 0) {
      const v = this.freed.pop() as bigint;
      if (!this.byIp.has(v) && !this.reserved.has(v) && !this.excludeOf(v)) return v;
    }
    while (this.cursor <= this.cidr.last) {
      const v = this.cursor;
      const ex = this.excludeOf(v);
      if (ex) {
        this.cursor = ex.last + 1n;
        continue;
      }
      this.cursor++;
      if (!this.reserved.has(v) && !this.byIp.has(v)) return v;
    }
    return undefined;
  }

  /** Frees `owner`'s address; returns it, or undefined if it had none. */
  release(owner: string): bigint | undefined {
    const v = this.byOwner.get(owner);
    if (v === undefined) return undefined;
    this.byOwner.delete(owner);
    this.byIp.delete(v);
    if (this.excludeOf(v)) this.excludedHeld--;
    else if (v < this.cursor) this.freed.push(v);
    return v;
  }

  owners(): IterableIterator<[string, bigint]> {
    return this.byOwner.entries();
  }

  /** Allocations counted against the allocatable addresses. */
  get used(): number {
    return this.byIp.size - this.excludedHeld;
  }

  /** All allocations, including restored ones inside exclude ranges. */
  get held(): number {
    return this.byIp.size;
  }

  get allocatableCount(): bigint {
    return this.allocatable;
  }
}
