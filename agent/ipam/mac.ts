/**
 * Stable MAC addresses: derived from a hash of (subnet, owner), so the same port gets the same
 * MAC after a restart or a re-create, without storing anything. The first octet has the
 * locally-administered bit set and the group bit clear (IEEE 802 §8.2: U/L = 1, I/G = 0).
 */
import { createHash } from 'node:crypto';
import { formatMac } from '../../netlink/inet.js';

/** The `attempt`-th candidate MAC for (subnet, owner); attempt > 0 only after a collision. */
export function deriveMac(subnet: string, owner: string, attempt = 0): string {
  const digest = createHash('sha256').update(`${subnet}\0${owner}\0${attempt}`).digest();
  const bytes = digest.subarray(0, 6);
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return formatMac(bytes);
}
