/**
 * The few libc calls Node does not expose, through koffi (a prebuilt N-API FFI shipped in the npm
 * registry as `koffi` + `@koromix/koffi-<platform>`): setns(2), unshare(2), mount(2), umount2(2),
 * socket(2), ioctl(2), close(2).
 *
 * Thread-safety assumption: every call here is synchronous and runs on the thread that calls it —
 * Node's main JavaScript thread. setns(2)/unshare(2) with CLONE_NEWNET change the network namespace
 * of the *calling thread only* (setns(2), "DESCRIPTION"); libuv's worker threads (fs, dns, crypto)
 * keep the namespace they were started in, so a namespace switch is never visible to them, and no
 * JavaScript can run on the main thread between a switch and its switch back as long as the code in
 * between does not await (see {@link ./setns.ts}). Never call these from a worker_threads Worker that
 * shares a namespace-sensitive resource with the main thread.
 */
import { createRequire } from 'node:module';
import { NetlinkError } from './errors.js';

/** CLONE_NEWNET from <sched.h>: the nstype of setns(2) and the flag of unshare(2). */
export const CLONE_NEWNET = 0x40000000;
/** mount(2) flags from <sys/mount.h>. */
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_SHARED = 1 << 20;
/** umount2(2) flag. */
export const MNT_DETACH = 2;

export interface Libc {
  setns(fd: number, nstype: number): number;
  unshare(flags: number): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: null): number;
  umount2(target: string, flags: number): number;
  socket(domain: number, type: number, protocol: number): number;
  ioctl(fd: number, request: number, arg: Buffer): number;
  close(fd: number): number;
  /** errno of the last call above (koffi saves it right after the call). */
  errno(): number;
  /** Native scratch memory: `alloc(bytes)` → pointer, with its address, read-back and free. */
  alloc(bytes: number): unknown;
  address(ptr: unknown): bigint;
  readU32(ptr: unknown, offset: number): number;
  writeU32(ptr: unknown, offset: number, value: number): void;
  free(ptr: unknown): void;
}

interface KoffiFn {
  (...args: unknown[]): unknown;
}
interface Koffi {
  load(path: string): { func(decl: string): KoffiFn };
  errno(): number;
  alloc(type: string, n: number): unknown;
  address(p: unknown): bigint;
  decode(p: unknown, offset: number, type: string): unknown;
  encode(p: unknown, offset: number, type: string, value: unknown): void;
  free(p: unknown): void;
}

let cached: Libc | undefined;
let loadError: unknown;

/**
 * Loads libc through koffi once. Throws a {@link NetlinkError} with op `ffi.load` (errno ENOSYS) when
 * koffi is not installed or cannot load, so callers see one clear error.
 */
export function libc(): Libc {
  if (cached) return cached;
  if (loadError === undefined) {
    try {
      cached = load();
      return cached;
    } catch (err) {
      loadError = err;
    }
  }
  throw new NetlinkError(
    38,
    { op: 'ffi.load', target: 'libc.so.6', hint: 'npm package koffi is required for namespaces' },
    { cause: loadError },
  );
}

function load(): Libc {
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  const setns = lib.func('int setns(int fd, int nstype)');
  const unshare = lib.func('int unshare(int flags)');
  const mount = lib.func(
    'int mount(const char *src, const char *target, const char *fstype, unsigned long flags, void *data)',
  );
  const umount2 = lib.func('int umount2(const char *target, int flags)');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, void *arg)');
  const close = lib.func('int close(int fd)');
  return {
    setns: (fd, nstype) => setns(fd, nstype) as number,
    unshare: (flags) => unshare(flags) as number,
    mount: (s, t, f, flags, d) => mount(s, t, f, flags, d) as number,
    umount2: (t, flags) => umount2(t, flags) as number,
    socket: (d, t, p) => socket(d, t, p) as number,
    ioctl: (fd, req, arg) => ioctl(fd, req, arg) as number,
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
    alloc: (bytes) => koffi.alloc('uint8', bytes),
    address: (p) => koffi.address(p),
    readU32: (p, off) => koffi.decode(p, off, 'uint32') as number,
    writeU32: (p, off, v) => koffi.encode(p, off, 'uint32', v),
    free: (p) => koffi.free(p),
  };
}

/** Throws a {@link NetlinkError} built from errno when a libc call returned -1. */
export function check(rc: number, ctx: { op: string; target?: string; netns?: string }): number {
  if (rc < 0) throw new NetlinkError(libc().errno(), ctx);
  return rc;
}
