/** IPAM errors, each with a stable code and the subnet it concerns. */
import { AgentError } from '../errors.js';

export class IpamError extends AgentError {
  readonly subnet: string;
  constructor(code: string, subnet: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.subnet = subnet;
  }
}

/** No address left. `size` is the CIDR size, `allocatable` what excludes and reservations leave. */
export class IpamExhaustedError extends IpamError {
  readonly size: bigint;
  readonly allocatable: bigint;
  constructor(subnet: string, cidr: string, size: bigint, allocatable: bigint) {
    super(
      'ERR_IPAM_EXHAUSTED',
      subnet,
      `subnet ${subnet} (${cidr}) is exhausted: all ${allocatable} allocatable of ${size} addresses are in use`,
    );
    this.size = size;
    this.allocatable = allocatable;
  }
}

export type RejectReason =
  | 'invalid'
  | 'outside-cidr'
  | 'reserved'
  | 'excluded'
  | 'taken'
  | 'owner-has-other'
  | 'mac-invalid'
  | 'mac-taken';

/** A requested address or MAC cannot be given; `reason` says why. */
export class IpamRejectedError extends IpamError {
  readonly reason: RejectReason;
  /** The owner that holds the address or MAC, for `taken`/`mac-taken`. */
  readonly holder: string | undefined;
  constructor(subnet: string, reason: RejectReason, message: string, holder?: string) {
    super('ERR_IPAM_REJECTED', subnet, message);
    this.reason = reason;
    this.holder = holder;
  }
}

export class IpamUnknownSubnetError extends IpamError {
  constructor(subnet: string) {
    super('ERR_IPAM_UNKNOWN_SUBNET', subnet, `unknown subnet ${subnet}`);
  }
}
