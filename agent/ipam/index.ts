/** Public API of agent/ipam. */
export {
  Ipam,
  toIpamSubnet,
  type Allocation,
  type AllocateOptions,
  type RebuildEntry,
  type RebuildResult,
  type SubnetStats,
} from './ipam.js';
export { SubnetPool, type IpamSubnet } from './pool.js';
export { deriveMac } from './mac.js';
export {
  IpamError,
  IpamExhaustedError,
  IpamRejectedError,
  IpamUnknownSubnetError,
  type RejectReason,
} from './errors.js';
export { heldAddressesFromNb, syncIpamWithNb, type IpamSync } from './nb-sync.js';
