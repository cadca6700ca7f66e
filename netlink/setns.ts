/**
 * Running synchronous code inside another network namespace: setns(2) into it, run, setns(2) back.
 *
 * This is how a netlink (or any) socket is made to belong to another namespace: a socket keeps the
 * namespace its creating thread was in when socket(2) ran (network_namespaces(7)), so creating it
 * between the two setns calls binds it to the target for good, and it can be used from the agent's
 * own namespace afterwards. `fn` must be synchronous: an `await` would let other callbacks of the
 * event loop run inside the wrong namespace. A thenable result is rejected (after switching back).
 * See {@link ./ffi.ts} for the main-thread assumption.
 */
import { closeSync, openSync } from 'node:fs';
import { HostNetError, NetlinkError } from './errors.js';
import { CLONE_NEWNET, libc } from './ffi.js';

/** Where `ip netns` keeps its bind mounts (iproute2 NETNS_RUN_DIR). */
export const NETNS_RUN_DIR = '/run/netns';

/**
 * `/run/netns/NAME` for a name; a path (`/proc/PID/ns/net`, `/var/run/netns/X`, as CNI passes
 * them) is used as it is.
 */
export function netnsPath(name: string): string {
  return name.startsWith('/') ? name : `${NETNS_RUN_DIR}/${name}`;
}

/** Opens a namespace file read-only (close-on-exec); ENOENT becomes a {@link NetlinkError}. */
export function openNetns(name: string, op = 'netns.open'): number {
  try {
    return openSync(netnsPath(name), 'r');
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).errno ?? 0;
    throw new NetlinkError(errno, { op, target: name }, { cause: err });
  }
}

/** A namespace given by name (`/run/netns/NAME`) or as an already open fd (kept open). */
export type NetnsRef = string | { fd: number };

/**
 * Runs `fn` with the calling thread in network namespace `target`, then returns to the namespace it
 * was in before (so calls nest). Synchronous only. If switching back fails the process is left in
 * the wrong namespace: that error is thrown with code `NETLINK_NS_RESTORE` and should be fatal.
 */
export function inNetns<T>(target: NetnsRef, fn: () => T, op = 'netns.enter'): T {
  const c = libc();
  const prev = openSync('/proc/thread-self/ns/net', 'r');
  const fd = typeof target === 'string' ? openNetns(target, op) : target.fd;
  const label = typeof target === 'string' ? target : `fd ${target.fd}`;
  try {
    if (c.setns(fd, CLONE_NEWNET) < 0) throw new NetlinkError(c.errno(), { op, target: label });
    let result: T | undefined;
    let failure: { err: unknown } | undefined;
    try {
      result = fn();
    } catch (err) {
      failure = { err };
    }
    if (c.setns(prev, CLONE_NEWNET) < 0) {
      throw new HostNetError(
        'NETLINK_NS_RESTORE',
        `setns back from ${label} failed (errno ${c.errno()}): this thread is in the wrong namespace`,
        { cause: failure?.err },
      );
    }
    if (failure) throw failure.err;
    if (typeof (result as { then?: unknown } | null)?.then === 'function') {
      throw new HostNetError(
        'NETLINK_NS_ASYNC',
        `${op}: the function run inside ${label} must be synchronous`,
      );
    }
    return result as T;
  } finally {
    if (typeof target === 'string') closeSync(fd);
    closeSync(prev);
  }
}
