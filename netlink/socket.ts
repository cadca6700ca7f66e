/**
 * rtnetlink sockets (RFC 3549 §3.1.1, NETLINK_ROUTE) from the npm `netlink` package, one per network
 * namespace, cached.
 *
 * The package opens sockets only in the calling thread's namespace, so {@link rtnl} creates the socket
 * for namespace NAME inside {@link inNetns} (setns in, socket(2), setns out — nothing awaited). The
 * socket stays bound to NAME and is used from the agent's namespace. The cache key is the name plus
 * the namespace's identity (device and inode of `/run/netns/NAME`), so a namespace deleted and
 * re-created behind our back gets a fresh socket. {@link closeRtnl} (called by `deleteNetns`) closes it.
 */
import { statSync } from 'node:fs';
import { createRtNetlink, type RtNetlinkSocket } from 'netlink';
import { NetlinkError, toNetlinkError, type NetlinkErrorContext } from './errors.js';
import { inNetns, netnsPath } from './setns.js';

/** Milliseconds a single request may take before it fails (the kernel answers in well under that). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Single-reply requests in flight on one socket at most: their replies wait in the socket's
 * receive buffer until the event loop reads them, and a full buffer drops replies (ENOBUFS).
 */
export const MAX_IN_FLIGHT = 16;

/** Receive buffer asked for (the kernel caps it at net.core.rmem_max). */
const RECV_BUFFER_BYTES = 1 << 20;

/** A socket of the package with a larger receive buffer. */
function openSocket(): RtNetlinkSocket {
  const socket = createRtNetlink();
  socket.socket.socket.setRecvBufferSize(RECV_BUFFER_BYTES);
  return socket;
}

/** A rtnetlink socket bound to one namespace (`netns` undefined = the agent's own). */
export class Rtnl {
  #closed = false;
  /** Settles when the last dump queued is done: everything after it waits for it. */
  #dumpTail: Promise<unknown> = Promise.resolve();
  /** Requests with a single reply in flight (a dump waits for them all). */
  #inflight = new Set<Promise<unknown>>();
  /** Single-reply requests being answered, and those waiting for a slot ({@link MAX_IN_FLIGHT}). */
  #running = 0;
  #waiting: (() => void)[] = [];
  /** The socket's last error (a reply lost to a full buffer), named by requests that time out. */
  #lastError: Error | undefined;
  constructor(
    readonly socket: RtNetlinkSocket,
    readonly netns: string | undefined,
    readonly nsId: string,
  ) {
    // Without a listener, an error of the socket (ENOBUFS: replies dropped) aborts the process.
    socket.socket.on('error', (err) => {
      this.#lastError = err;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one request and turns whatever the package throws into a {@link NetlinkError} carrying
   * errno, the operation, the target and this socket's namespace. A request not answered within
   * {@link DEFAULT_REQUEST_TIMEOUT_MS} fails with ETIMEDOUT.
   *
   * The package matches replies to requests by sequence number, but it reassembles one multipart
   * (dump) reply at a time per socket: any other reply arriving amid a dump's parts would cut the
   * dump short. So a dump (`opts.dump`) runs alone — after every request before it, and before any
   * after it — while requests with a single reply (gets by name, creates, changes, deletes) run
   * side by side, up to {@link MAX_IN_FLIGHT}. The kernel does their work in the order they were
   * sent; letting them overlap only saves each one waiting a turn of the event loop for the one
   * before it (what a burst of ports on one namespace's socket otherwise queues on).
   */
  call<T>(
    op: string,
    target: string | undefined,
    fn: (s: RtNetlinkSocket) => Promise<T>,
    opts: { dump?: boolean } = {},
  ): Promise<T> {
    const ctx: NetlinkErrorContext = { op, netns: this.netns };
    if (target !== undefined) ctx.target = target;
    const run = async (): Promise<T> => {
      if (this.#closed) throw new NetlinkError(9, { ...ctx, hint: 'socket closed (namespace deleted?)' });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const why = this.#lastError ? `; socket error: ${this.#lastError.message}` : '';
          reject(
            new NetlinkError(110, { ...ctx, hint: `no reply in ${DEFAULT_REQUEST_TIMEOUT_MS} ms${why}` }),
          );
        }, DEFAULT_REQUEST_TIMEOUT_MS);
      });
      try {
        return await Promise.race([fn(this.socket), timeout]);
      } catch (err) {
        throw toNetlinkError(err, ctx);
      } finally {
        clearTimeout(timer);
      }
    };
    if (opts.dump) {
      const before = Promise.allSettled([this.#dumpTail, ...this.#inflight]);
      const result = before.then(run);
      this.#dumpTail = result.catch(() => undefined);
      return result;
    }
    const result = this.#dumpTail
      .then(() => this.#acquire())
      .then(async () => {
        try {
          return await run();
        } finally {
          this.#release();
        }
      });
    const settled = result.catch(() => undefined);
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    return result;
  }

  /** Takes one of the {@link MAX_IN_FLIGHT} slots, waiting for one when all are taken. */
  #acquire(): Promise<void> | void {
    if (this.#running < MAX_IN_FLIGHT) {
      this.#running++;
      return;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the slot to the next waiting request, or frees it. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.socket.close();
  }
}

const HOST_KEY = '';
const sockets = new Map<string, Rtnl>();

function nsIdentity(name: string): string {
  try {
    const st = statSync(netnsPath(name));
    return `${st.dev}:${st.ino}`;
  } catch (err) {
    throw toNetlinkError(err, { op: 'netns.open', target: name });
  }
}

/**
 * The cached rtnetlink socket for namespace `netns` (a name under /run/netns), or for the agent's own
 * namespace when `netns` is undefined. Synchronous: creating the socket does not yield.
 */
export function rtnl(netns?: string): Rtnl {
  if (netns === undefined) {
    let host = sockets.get(HOST_KEY);
    if (!host || host.closed) {
      host = new Rtnl(openSocket(), undefined, 'self');
      sockets.set(HOST_KEY, host);
    }
    return host;
  }
  const id = nsIdentity(netns);
  const cached = sockets.get(netns);
  if (cached && !cached.closed && cached.nsId === id) return cached;
  cached?.close();
  const socket = inNetns(netns, () => openSocket(), 'rtnl.open');
  const fresh = new Rtnl(socket, netns, id);
  sockets.set(netns, fresh);
  return fresh;
}

/** Closes and forgets the cached socket of `netns` (undefined = the agent's own), if any. */
export function closeRtnl(netns?: string): void {
  const key = netns ?? HOST_KEY;
  sockets.get(key)?.close();
  sockets.delete(key);
}

/** Closes every cached socket (agent shutdown, test teardown). */
export function closeAllRtnl(): void {
  for (const s of sockets.values()) s.close();
  sockets.clear();
}

/** Names of namespaces that currently have a cached socket (for metrics/debug). */
export function cachedRtnlNamespaces(): string[] {
  return [...sockets.keys()].filter((k) => k !== HOST_KEY);
}
