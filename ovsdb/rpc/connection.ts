/**
 * One live JSON-RPC session with one OVSDB (or unixctl) server: framing, request/response,
 * ordered notification delivery, `echo` answering and our own inactivity probe
 * (RFC 7047 §4.1.11 "Echo"; probe behaviour as ovsdb-server(1) "inactivity probe" and
 * OVS's reconnect FSM: after an interval of receive silence send `echo`, after another
 * silent interval give up).
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { OvsdbConnectionError } from './errors.js';
import { JsonStreamDecoder, type JsonStreamOptions } from './json-stream.js';
import {
  JsonRpcEndpoint,
  MessageKind,
  encodeRequest,
  encodeResult,
  messageKind,
  type RequestHandler,
  type RequestMapping,
  type WireMessage,
} from './jsonrpc.js';
import { connectRemote, parseRemote, type Remote, type TransportOptions } from './transport.js';

/** Options of {@link RpcConnection}. */
export interface RpcConnectionOptions extends TransportOptions, JsonStreamOptions {
  /**
   * Send an `echo` after this much receive silence and close the connection if nothing
   * arrives within another interval. Default 5000 ms (ovsdb-server's default probe);
   * 0 disables (as OVS does for unix sockets, e.g. unixctl).
   */
  probeIntervalMs?: number;
}

/** Options of {@link RpcConnection.request}: a timeout, and result/error transforms applied on arrival. */
export interface RequestOptions<T> extends RequestMapping<T> {
  /** Fail with `OvsdbTimeoutError` when no reply arrives within this many ms. */
  timeoutMs?: number;
}

/** Handler of a notification; a returned promise is awaited before the next message is handed out. */
export type NotificationHandler = (params: unknown[]) => void | Promise<void>;

/** Counters for metrics and tests. */
export interface RpcConnectionStats {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  /** `echo` requests from the peer that we answered. */
  echoesAnswered: number;
  /** Inactivity probes we sent. */
  probesSent: number;
}

/** Events: `close(reason)` — `reason` is undefined after a local {@link RpcConnection.close}. */
export interface RpcConnectionEvents {
  close: [reason: Error | undefined];
  /** A notification or request handler threw or rejected. */
  handlerError: [err: unknown, method: string];
}

/**
 * Queued output (in UTF-16 code units, ≈ bytes for OVSDB's mostly ASCII JSON) that is written
 * at once instead of at the end of the tick: 64 KiB, a few socket buffers' worth, amortises the
 * write syscall over ~20 typical transactions.
 */
const FLUSH_AT = 64 * 1024;

/** Request id of our inactivity probes; replies carrying it are dropped (as OVS's jsonrpc does). */
const PROBE_ID = 'echo';

/**
 * A JSON-RPC 1.0 session over one stream. Replies and notifications are handed out in wire
 * order: notifications go through a queue drained on `setImmediate`, handlers awaited one at a
 * time, and a reply that arrives behind queued notifications waits for them (so after
 * `await transact(...)` every update sent before its reply has been applied; notifications
 * after the reply may already be in their handlers when the awaiting code resumes). The peer's
 * `echo` requests bypass the queue and are answered synchronously while decoding.
 */
export class RpcConnection extends EventEmitter<RpcConnectionEvents> {
  /** Canonical text of the remote (e.g. `unix:/run/nb.sock`). */
  readonly remote: string;
  private readonly decoder: JsonStreamDecoder;
  private readonly endpoint: JsonRpcEndpoint;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly counters: RpcConnectionStats = {
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    echoesAnswered: 0,
    probesSent: 0,
  };
  private queue: (WireMessage | undefined)[] = [];
  private queueHead = 0;
  private drainScheduled = false;
  private draining = false;
  private out = '';
  /** A write went out in this tick; later ones are queued in {@link out} until its end. */
  private inBurst = false;
  private closed = false;
  private closeReason: Error | undefined;
  private readonly probeIntervalMs: number;
  private probeTimer: NodeJS.Timeout | undefined;
  private lastReceive = 0;
  private probeSentAt = 0;

  /** Wraps an already connected stream (e.g. a unix socket accepted in a test). */
  constructor(
    private readonly socket: net.Socket,
    remote: string,
    options: RpcConnectionOptions = {},
  ) {
    super();
    this.remote = remote;
    this.decoder = new JsonStreamDecoder(options);
    this.endpoint = new JsonRpcEndpoint((text) => this.write(text), {
      onHandlerError: (err, method) => this.emit('handlerError', err, method),
    });
    this.probeIntervalMs = options.probeIntervalMs ?? 5000;
    socket.on('data', this.onData);
    socket.on('error', (err) => {
      this.closeReason ??= new OvsdbConnectionError('OVSDB_DISCONNECTED', `${remote}: ${err.message}`, {
        cause: err,
      });
    });
    socket.on('close', () => this.finish());
    this.lastReceive = performance.now();
    if (this.probeIntervalMs > 0) this.armProbe(this.probeIntervalMs);
  }

  /**
   * Connects to `remote` (`unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`).
   * @throws OvsdbConnectionError (`OVSDB_CONNECT_FAILED` / `OVSDB_BAD_REMOTE`).
   */
  static async connect(remote: string | Remote, options: RpcConnectionOptions = {}): Promise<RpcConnection> {
    const r = typeof remote === 'string' ? parseRemote(remote) : remote;
    const socket = (await connectRemote(r, options)) as net.Socket;
    return new RpcConnection(socket, r.text, options);
  }

  /** `request` applies `map`/`mapError` itself, on arrival (see `transact`). */
  readonly mapsResults = true;

  /** Whether the session has ended; every request then fails with `OVSDB_DISCONNECTED`. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Snapshot of the traffic counters. */
  stats(): RpcConnectionStats {
    return { ...this.counters };
  }

  /**
   * Sends a request and resolves with its `result` (RFC 7047 §4.1).
   * @throws OvsdbRpcError on an error reply, OvsdbTimeoutError after `timeoutMs`,
   *   OvsdbConnectionError (`OVSDB_DISCONNECTED`) if the session is or becomes closed.
   */
  request<T = unknown>(method: string, params: readonly unknown[], opts?: RequestOptions<T>): Promise<T> {
    return this.endpoint.request<T>(method, params, opts?.timeoutMs, opts);
  }

  /** Sends a notification (RFC 7047 §4.1: `"id": null`), e.g. `monitor_cancel`-free fire-and-forget calls. */
  notify(method: string, params: readonly unknown[]): void {
    this.endpoint.notify(method, params);
  }

  /**
   * Adds a handler for notifications named `method` (`update`, `update2`, `update3`, `locked`,
   * `stolen`, `monitor_canceled`, …). Returns a function that removes it.
   */
  onNotification(method: string, handler: NotificationHandler): () => void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Sets the handler for server→client requests named `method` (`echo` is answered built-in). */
  onRequest(method: string, handler: RequestHandler): () => void {
    return this.endpoint.onRequest(method, handler);
  }

  /** Flushes pending writes and closes; pending requests fail with `OVSDB_DISCONNECTED`. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = this.socket.closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.flush();
    this.socket.end(() => this.socket.destroy());
    // Local close: pending requests fail now rather than when the peer's FIN arrives.
    this.finish(undefined, true);
    return done;
  }

  /**
   * Sends `text`. The first write of a tick goes to the socket at once, so a lone request (the
   * sequential case) costs no scheduling at all and the server starts on the first request of
   * a burst right away. Later writes of the same tick are joined into one string and written
   * on `process.nextTick` (one syscall for a burst of pipelined requests; joining strings is
   * cheaper than corking many small Buffers), or as soon as {@link FLUSH_AT} characters are
   * queued, so the server works on the first requests while we encode the rest (and a long
   * burst is not held as one string that outlives young-generation GC).
   */
  private write(text: string): void {
    if (this.closed) return;
    if (!this.inBurst) {
      this.inBurst = true;
      process.nextTick(this.endBurst);
      this.counters.bytesOut += text.length;
      this.socket.write(text);
      return;
    }
    this.out = this.out === '' ? text : this.out + text;
    if (this.out.length >= FLUSH_AT) this.flush();
  }

  /** End of the tick in which something was written: flush what was queued behind the first write. */
  private readonly endBurst = (): void => {
    this.inBurst = false;
    this.flush();
  };

  private readonly flush = (): void => {
    if (this.out === '' || this.closed) return;
    const text = this.out;
    this.out = '';
    this.counters.bytesOut += text.length;
    this.socket.write(text);
  };

  private readonly onData = (chunk: Buffer): void => {
    this.lastReceive = performance.now();
    this.counters.bytesIn += chunk.length;
    try {
      this.decoder.push(chunk, this.onMessage);
    } catch (err) {
      this.closeReason ??= err as Error;
      this.socket.destroy();
    }
  };

  private readonly onMessage = (value: unknown): void => {
    if (this.closed) return;
    this.counters.messagesIn++;
    const kind = messageKind(value);
    const msg = value as WireMessage;
    if (kind === MessageKind.Request && msg.method === 'echo') {
      // RFC 7047 §4.1.11: reply with the request's params, right now, ahead of anything queued.
      this.counters.echoesAnswered++;
      this.write(encodeResult(msg.id as string | number, msg.params ?? []));
      this.flush();
      return;
    }
    if (kind === MessageKind.Response) {
      if (msg.id === PROBE_ID) return;
      if (this.queueHead === this.queue.length && !this.draining) {
        this.endpoint.handleResponse(msg); // nothing queued ahead of it: order is kept
        return;
      }
    }
    this.queue.push(msg);
    if (!this.drainScheduled && !this.draining) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  };

  private readonly drain = async (): Promise<void> => {
    this.drainScheduled = false;
    this.draining = true;
    try {
      while (this.queueHead < this.queue.length && !this.closed) {
        const msg = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined;
        if (msg.method === undefined) {
          this.endpoint.handleResponse(msg);
        } else if (msg.id === undefined || msg.id === null) {
          const set = this.handlers.get(msg.method);
          if (set) {
            for (const h of set) {
              const pending = this.runHandler(h, msg.method, msg.params ?? []);
              if (pending) await pending; // no microtask hop for synchronous handlers
            }
          }
        } else {
          this.endpoint
            .handleRequest(msg)
            .catch((err: unknown) => this.emit('handlerError', err, msg.method!));
        }
      }
    } finally {
      this.queue = [];
      this.queueHead = 0;
      this.draining = false;
    }
  };

  private runHandler(h: NotificationHandler, method: string, params: unknown[]): void | Promise<void> {
    try {
      const r = h(params);
      if (r && typeof r.then === 'function') {
        return r.catch((err: unknown) => {
          this.emit('handlerError', err, method);
        });
      }
    } catch (err) {
      this.emit('handlerError', err, method);
    }
  }

  /** Inactivity probe: OVS reconnect FSM semantics, driven by one timer. */
  private armProbe(delayMs: number): void {
    this.probeTimer = setTimeout(this.onProbeTimer, delayMs);
    this.probeTimer.unref();
  }

  private readonly onProbeTimer = (): void => {
    if (this.closed) return;
    const now = performance.now();
    const interval = this.probeIntervalMs;
    if (this.probeSentAt !== 0) {
      if (this.lastReceive <= this.probeSentAt) {
        this.closeReason ??= new OvsdbConnectionError(
          'OVSDB_PROBE_TIMEOUT',
          `${this.remote}: no response to inactivity probe after ${interval} ms`,
        );
        this.socket.destroy();
        return;
      }
      this.probeSentAt = 0;
    }
    const idle = now - this.lastReceive;
    if (idle >= interval) {
      this.probeSentAt = now;
      this.counters.probesSent++;
      this.write(encodeRequest(PROBE_ID, 'echo', []));
      this.armProbe(interval);
    } else {
      this.armProbe(interval - idle);
    }
  };

  private finish(reason?: Error, local = false): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    const why = local
      ? new OvsdbConnectionError('OVSDB_DISCONNECTED', `${this.remote}: closed by client`)
      : (reason ??
        this.closeReason ??
        new OvsdbConnectionError('OVSDB_DISCONNECTED', `${this.remote}: connection closed by peer`));
    this.endpoint.close(why);
    this.queue = [];
    this.queueHead = 0;
    this.emit('close', local ? undefined : why);
  }
}
