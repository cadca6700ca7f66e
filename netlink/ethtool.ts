/**
 * TX checksum offload on a link, through the SIOCETHTOOL ioctl (<linux/ethtool.h>: ETHTOOL_GTXCSUM /
 * ETHTOOL_STXCSUM with a `struct ethtool_value`, reached through `struct ifreq.ifr_data`).
 *
 * Why: a veth that sends into OVS's userspace datapath must not leave checksums to "hardware" — the
 * netdev datapath does not fill them in, so TCP/UDP break while ping works. On the kernel datapath
 * offload should stay on (off also drops TSO/GSO): whether to turn it off is the caller's call.
 * `ethtool -K <dev> tx off` is the shell equivalent.
 *
 * Why the ioctl via FFI rather than `ethtool -K` via execa: one AF_INET socket created inside the
 * namespace (setns around socket(2), as for netlink) and two ioctls — no fork+exec of
 * `ip netns exec … ethtool` per veth on the port-add path. `{ via: 'exec' }` runs the tool instead.
 */
import { NetlinkError } from './errors.js';
import { execIn } from './exec.js';
import { libc } from './ffi.js';
import { checkIfname } from './inet.js';
import { defaultVia, type Via } from './namespaces.js';
import { inNetns } from './setns.js';

const SIOCETHTOOL = 0x8946;
const ETHTOOL_GTXCSUM = 0x16;
const ETHTOOL_STXCSUM = 0x17;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** sizeof(struct ifreq) on LP64; ifr_data (a pointer) sits at offset IFNAMSIZ = 16. */
const IFREQ_SIZE = 40;

export interface EthtoolTarget {
  /** Namespace of the link (undefined = the agent's own). */
  netns?: string;
  link: string;
}

/** Runs one ETHTOOL_* command carrying an ethtool_value; returns the value's `data` afterwards. */
function ethtoolValue(t: EthtoolTarget, cmd: number, data: number, op: string): number {
  const c = libc();
  const ctx = { op, target: t.link, ...(t.netns === undefined ? {} : { netns: t.netns }) };
  const open = () => c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const fd = t.netns === undefined ? open() : inNetns(t.netns, open, op);
  if (fd < 0) throw new NetlinkError(c.errno(), ctx);
  const value = c.alloc(8);
  try {
    c.writeU32(value, 0, cmd);
    c.writeU32(value, 4, data);
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(t.link, 0, 15, 'latin1');
    ifr.writeBigUInt64LE(c.address(value), 16);
    if (c.ioctl(fd, SIOCETHTOOL, ifr) < 0) throw new NetlinkError(c.errno(), ctx);
    return c.readU32(value, 4);
  } finally {
    c.free(value);
    c.close(fd);
  }
}

/** Whether TX checksum offload is on for `link`. */
export async function getTxChecksumOffload(t: EthtoolTarget, opts: { via?: Via } = {}): Promise<boolean> {
  checkIfname(t.link);
  if ((opts.via ?? defaultVia()) === 'exec') {
    const out = await execIn('ethtool', ['-k', t.link], { op: 'ethtool.get', target: t.link, ...nsOf(t) });
    return /^tx-checksumming:\s*on/m.test(out);
  }
  return ethtoolValue(t, ETHTOOL_GTXCSUM, 0, 'ethtool.get') !== 0;
}

/**
 * Turns TX checksum offload on `link` off (or on with `on: true`). Idempotent. The kernel also drops
 * the features that depend on it (TSO, ...), exactly as `ethtool -K dev tx off` does.
 */
export async function setTxChecksumOffload(
  t: EthtoolTarget,
  opts: { on?: boolean; via?: Via } = {},
): Promise<void> {
  checkIfname(t.link);
  const on = opts.on ?? false;
  if ((opts.via ?? defaultVia()) === 'exec') {
    await execIn('ethtool', ['-K', t.link, 'tx', on ? 'on' : 'off'], {
      op: 'ethtool.set',
      target: t.link,
      ...nsOf(t),
    });
    return;
  }
  ethtoolValue(t, ETHTOOL_STXCSUM, on ? 1 : 0, 'ethtool.set');
}

/** Shorthand for `setTxChecksumOffload(t, { on: false })`, for a veth into the userspace datapath. */
export function disableTxChecksumOffload(t: EthtoolTarget, opts: { via?: Via } = {}): Promise<void> {
  return setTxChecksumOffload(t, { ...opts, on: false });
}

const nsOf = (t: EthtoolTarget) => (t.netns === undefined ? {} : { netns: t.netns });
