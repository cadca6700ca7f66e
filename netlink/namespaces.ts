/**
 * Named network namespaces, created and deleted the way `ip netns add/del` does (iproute2
 * ip/ipnetns.c behaviour, re-implemented): `/run/netns` is made a shared mount point, an empty file
 * `/run/netns/NAME` is created, the calling thread unshare(2)s a fresh network namespace, bind-mounts
 * its `/proc/thread-self/ns/net` onto the file, and setns(2)s back. Deleting detaches the mount and
 * removes the file; processes still inside keep the namespace alive until they exit.
 *
 * Why FFI rather than running `ip netns add`: no fork+exec per namespace, errors carry errno, and
 * the loopback can be brought up through the same cached socket. The `ip` path remains available
 * as the explicit fallback in {@link ./exec.ts} (`{ via: 'exec' }`), used automatically when koffi
 * cannot be loaded.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import { isGone, NetlinkError, NetlinkInputError, toNetlinkError } from './errors.js';
import { execIp } from './exec.js';
import { CLONE_NEWNET, libc, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED } from './ffi.js';
import { setLinkUp } from './links.js';
import { NETNS_RUN_DIR, netnsPath } from './setns.js';
import { closeNftContext } from './libnftables.js';
import { closeRtnl, rtnl } from './socket.js';

/** How namespace-sensitive helpers reach the kernel: libc via koffi, or the `ip`/`ethtool` tools. */
export type Via = 'ffi' | 'exec';

/** `ffi` when koffi loads here, else `exec`. */
export function defaultVia(): Via {
  try {
    libc();
    return 'ffi';
  } catch {
    return 'exec';
  }
}

export interface CreateNetnsOptions {
  /** Bring `lo` up in the new namespace (default true: `ip netns add` leaves it down). */
  loopbackUp?: boolean;
  via?: Via;
}

/**
 * A namespace name is a file name under /run/netns: 1..255 bytes (NAME_MAX), no `/`, no
 * whitespace, not `.`/`..`. Longer than an interface name, so `vpc-nat-gw-<gateway>` fits.
 */
export function checkNetnsName(name: string): string {
  if (
    name.length === 0 ||
    Buffer.byteLength(name) > 255 ||
    /[/\s]/.test(name) ||
    name === '.' ||
    name === '..'
  ) {
    throw new NetlinkInputError(
      `invalid namespace name ${JSON.stringify(name)} (1-255 bytes, no / or space)`,
    );
  }
  return name;
}

/** True when `path` is an nsfs file (a mounted namespace), i.e. on the same device as our own ns. */
function isNsMount(path: string): boolean {
  try {
    return statSync(path).dev === statSync('/proc/thread-self/ns/net').dev;
  } catch {
    return false;
  }
}

/** Names of the namespaces under /run/netns (as `ip netns list`, without ids). */
export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw toNetlinkError(err, { op: 'netns.list' });
  }
}

/**
 * True when `/run/netns/NAME` exists and is a mounted network namespace; for a path
 * (`/proc/PID/ns/net`, a bind mount elsewhere), when it is a network namespace file.
 */
export function netnsExists(name: string): boolean {
  if (!name.startsWith('/')) return isNsMount(netnsPath(name));
  try {
    return readlinkSync(name).startsWith('net:[') || isNsMount(name);
  } catch {
    return isNsMount(name);
  }
}

/** Makes /run/netns a shared mount point (once per process, as iproute2 does on every add). */
function prepareRunDir(): void {
  const c = libc();
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 });
  if (c.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null) === 0) return;
  if (c.errno() !== 22) throw new NetlinkError(c.errno(), { op: 'netns.create', target: NETNS_RUN_DIR });
  // EINVAL: not a mount point yet — bind it onto itself, then mark it shared.
  if (
    c.mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC, null) < 0 ||
    c.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null) < 0
  ) {
    throw new NetlinkError(c.errno(), { op: 'netns.create', target: NETNS_RUN_DIR });
  }
}

/**
 * Creates network namespace NAME. Idempotent: an existing namespace of that name is success (and left
 * as it is). Returns true when it was created now.
 */
export async function createNetns(name: string, opts: CreateNetnsOptions = {}): Promise<boolean> {
  checkNetnsName(name);
  if (netnsExists(name)) return false;
  const via = opts.via ?? defaultVia();
  if (via === 'exec') {
    await execIp(['netns', 'add', name], { op: 'netns.create', target: name, okIfExists: true });
  } else {
    createWithFfi(name);
  }
  if (opts.loopbackUp ?? true) await setLinkUp(rtnl(name), 'lo');
  return true;
}

function createWithFfi(name: string): void {
  const c = libc();
  const path = netnsPath(name);
  prepareRunDir();
  try {
    // `ip` opens with O_EXCL; we also reuse a stale (unmounted) file left by a crashed add.
    closeSync(openSync(path, 'a', 0));
  } catch (err) {
    throw toNetlinkError(err, { op: 'netns.create', target: name });
  }
  const prev = openSync('/proc/thread-self/ns/net', 'r');
  // Nothing below yields: the main thread is in the new namespace only until setns returns.
  let errno = 0;
  if (c.unshare(CLONE_NEWNET) < 0) errno = c.errno();
  else if (c.mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, null) < 0) errno = c.errno();
  const back = c.setns(prev, CLONE_NEWNET);
  const backErrno = c.errno();
  closeSync(prev);
  if (back < 0) {
    throw new NetlinkError(backErrno, { op: 'netns.create', target: name, hint: 'setns back failed' });
  }
  if (errno !== 0) {
    unlinkQuiet(path);
    throw new NetlinkError(errno, { op: 'netns.create', target: name });
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Deletes network namespace NAME and closes its cached socket. Idempotent: a namespace that does not
 * exist is success. Returns true when something was removed.
 */
export async function deleteNetns(name: string, opts: { via?: Via } = {}): Promise<boolean> {
  checkNetnsName(name);
  closeRtnl(name);
  closeNftContext(name);
  const path = netnsPath(name);
  let present = true;
  try {
    statSync(path);
  } catch {
    present = false;
  }
  if (!present) return false;
  const via = opts.via ?? defaultVia();
  if (via === 'exec') {
    try {
      await execIp(['netns', 'delete', name], { op: 'netns.delete', target: name });
    } catch (err) {
      if (!isGone(err)) throw err;
    }
    return true;
  }
  const c = libc();
  if (c.umount2(path, MNT_DETACH) < 0) {
    const errno = c.errno();
    // EINVAL: not mounted (a stale file); ENOENT: raced with another delete.
    if (errno !== 22 && errno !== 2) throw new NetlinkError(errno, { op: 'netns.delete', target: name });
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw toNetlinkError(err, { op: 'netns.delete', target: name });
  }
  return true;
}
