/**
 * JSON-RPC 1.0 as ovsdb-server speaks it (RFC 7047 §4.1), adapted onto the `json-rpc-2.0`
 * package, whose `JSONRPCServer` does method dispatch and error replies for server→client
 * requests.
 *
 * The wire dialect differs from JSON-RPC 2.0 in ways the package cannot be configured for,
 * so this module translates both ways:
 * - outgoing messages carry no `jsonrpc` member (ovsdb-server rejects unknown members);
 *   `params` is always an array; notifications carry `"id": null` (§4.1.3), replies carry
 *   both `result` and `error`, one of them `null` (§4.1.2);
 * - incoming replies carry `"error": null` next to `result`, error replies carry a string or
 *   an `{error, details}` object instead of `{code, message}`, and notifications carry
 *   `"id": null` (the package would treat them as requests and answer).
 *
 * Replies to OUR requests are correlated here, not by the package's `JSONRPCClient`: that
 * client wraps each request in a one-element batch (`filter`, `map`, `Promise.all`), sends
 * through a down-levelled async generator and settles the caller only after about five
 * promise hops, which made it the largest client-side cost per `transact` (profiled with the
 * OVSDB benchmark, bench/README.md). Correlation is a map from id to the caller's
 * resolve/reject, settled synchronously when the reply is decoded, so the caller's
 * continuation runs one microtask later, still before the next socket chunk is read. This
 * keeps the reply/notification order guarantees of `connection.ts` intact: a reply is handed
 * to this endpoint only once every notification before it on the wire has been handled.
 *
 * Incoming notifications and `echo` requests do not go through the package either (see
 * `connection.ts`): notifications must be handed out strictly in order with handlers awaited
 * one after another, which the package's concurrent promise dispatch does not do; `echo` must
 * be answered synchronously at decode time, and the package answers only after several
 * promise hops through its middleware chain.
 */
import { JSONRPCServer } from 'json-rpc-2.0';
import { OvsdbConnectionError, OvsdbProtocolError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';

/** JSON-RPC 1.0 request id: any JSON value except null (ovsdb-server echoes it back verbatim). */
export type JsonRpcId = string | number;

/** Kind of an incoming message, see {@link messageKind}. */
export const MessageKind = { Request: 1, Notification: 2, Response: 3 } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** An incoming message after {@link messageKind} accepted it. */
export interface WireMessage {
  id?: JsonRpcId | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: unknown;
}

/**
 * Classifies a decoded value as request, notification or response (RFC 7047 §4.1: a request
 * has `method` and a non-null `id`, a notification has `method` and `"id": null`, a response
 * has `result`/`error` and the request's `id`). Cheap: no allocation.
 * @throws OvsdbProtocolError when the value is none of these.
 */
export function messageKind(value: unknown): MessageKind {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const m = value as WireMessage;
    if (typeof m.method === 'string') {
      if (m.params !== undefined && !Array.isArray(m.params)) {
        throw new OvsdbProtocolError('OVSDB_PROTOCOL_ERROR', `"${m.method}": params is not an array`);
      }
      return m.id === undefined || m.id === null ? MessageKind.Notification : MessageKind.Request;
    }
    if (m.id !== undefined && m.id !== null && ('result' in m || 'error' in m)) return MessageKind.Response;
  }
  const text = JSON.stringify(value) ?? String(value);
  throw new OvsdbProtocolError(
    'OVSDB_PROTOCOL_ERROR',
    `not a JSON-RPC message: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`,
  );
}

/** `{"id":…,"method":…,"params":[…]}` (RFC 7047 §4.1.1). */
export function encodeRequest(id: JsonRpcId, method: string, params: readonly unknown[]): string {
  return `{"id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/** `{"id":null,"method":…,"params":[…]}` (RFC 7047 §4.1.3). */
export function encodeNotification(method: string, params: readonly unknown[]): string {
  return `{"id":null,"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/** `{"id":…,"result":…,"error":null}` (RFC 7047 §4.1.2). */
export function encodeResult(id: JsonRpcId, result: unknown): string {
  return `{"id":${JSON.stringify(id)},"result":${JSON.stringify(result ?? null)},"error":null}`;
}

/** `{"id":…,"result":null,"error":…}` (RFC 7047 §4.1.2). */
export function encodeError(id: JsonRpcId, error: unknown): string {
  return `{"id":${JSON.stringify(id)},"result":null,"error":${JSON.stringify(error)}}`;
}

/** `err` through `mapError`, when given. */
function mapErr(mapError: ((err: Error) => unknown) | undefined, err: Error): Error {
  return (mapError === undefined ? err : mapError(err)) as Error;
}

/** Handler for a server→client request; its return value (or promise) is the `result`. */
export type RequestHandler = (params: unknown[]) => unknown;

/** Options of {@link JsonRpcEndpoint}. */
export interface JsonRpcEndpointOptions {
  /** Called with an error thrown by a request handler (the peer gets an error reply). */
  onHandlerError?: (err: unknown, method: string) => void;
}

/** A request of ours waiting for its reply. */
interface PendingRequest {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  method: string;
  timer: NodeJS.Timeout | undefined;
  /** Applied to the result before the caller sees it; a throw rejects instead. */
  map: ((result: unknown) => unknown) | undefined;
}

/** Result and error transforms of {@link JsonRpcEndpoint.request}. */
export interface RequestMapping<T> {
  /** Turns the raw `result` into the caller's value (e.g. decodes it); a throw becomes the rejection. */
  map?: (result: unknown) => T;
  /** Replaces any error (error reply, timeout, disconnect, a throw of `map`) before the caller sees it. */
  mapError?: (err: Error) => unknown;
}

/**
 * One JSON-RPC 1.0 peer: issues requests and correlates replies, answers server→client
 * requests through registered handlers. Transport-agnostic: `send` gets complete wire texts.
 */
export class JsonRpcEndpoint {
  private readonly server: JSONRPCServer;
  /** Our requests awaiting their reply, by id. */
  private readonly pending = new Map<JsonRpcId, PendingRequest>();
  private nextId = 0;
  private closedWith: Error | undefined;

  constructor(
    private readonly send: (text: string) => void,
    options: JsonRpcEndpointOptions = {},
  ) {
    const onHandlerError = options.onHandlerError;
    this.server = new JSONRPCServer({
      errorListener: (_message: string, data: unknown) => onHandlerError?.(data, 'request'),
    });
  }

  /** Number of requests still waiting for their reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sends a request and resolves with its `result`.
   * @throws OvsdbRpcError when the peer replies with an error; OvsdbTimeoutError after
   *   `timeoutMs`; OvsdbConnectionError (`OVSDB_DISCONNECTED`) if the endpoint is or becomes closed.
   */
  request<T = unknown>(
    method: string,
    params: readonly unknown[],
    timeoutMs?: number,
    mapping?: RequestMapping<T>,
  ): Promise<T> {
    const mapError = mapping?.mapError;
    if (this.closedWith) return Promise.reject(mapErr(mapError, this.disconnected()));
    const id = ++this.nextId;
    let text: string;
    try {
      text = encodeRequest(id, method, params);
    } catch (err) {
      // e.g. a cycle or a BigInt in params: nothing was sent
      return Promise.reject(mapErr(mapError, err as Error));
    }
    return new Promise<T>((resolve, reject) => {
      const entry: PendingRequest = {
        resolve: resolve as (v: unknown) => void,
        // Every failure (error reply, timeout, disconnect, a throw of `map`) goes through here.
        reject: mapError === undefined ? reject : (err) => reject(mapErr(mapError, err)),
        method,
        timer: undefined,
        map: mapping?.map,
      };
      if (timeoutMs !== undefined && timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          if (this.pending.get(id) !== entry) return;
          this.pending.delete(id);
          entry.reject(new OvsdbTimeoutError(method, timeoutMs));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.send(text);
    });
  }

  /** Sends a notification (no reply expected). */
  notify(method: string, params: readonly unknown[]): void {
    if (this.closedWith) throw this.disconnected();
    this.send(encodeNotification(method, params));
  }

  /** Registers the handler for server→client requests named `method` (replacing any earlier one). */
  onRequest(method: string, handler: RequestHandler): () => void {
    this.server.addMethod(method, (params) => handler((params as unknown[] | undefined) ?? []));
    return () => this.server.removeMethod(method);
  }

  /** Whether a handler is registered for `method`. */
  hasRequestHandler(method: string): boolean {
    return this.server.hasMethod(method);
  }

  /**
   * Feeds a message classified as {@link MessageKind.Response}: settles the request with its
   * id right away (RFC 7047 §4.1.2: `error` null → `result`, else the error). Unknown ids
   * (late replies after a timeout, replies to someone else's probe) are ignored.
   */
  handleResponse(msg: WireMessage): void {
    const id = msg.id as JsonRpcId;
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (msg.error !== undefined && msg.error !== null) {
      entry.reject(new OvsdbRpcError(entry.method, msg.error));
    } else if (entry.map === undefined) {
      entry.resolve(msg.result ?? null);
    } else {
      // Mapped here rather than in a `.then` of the caller: one promise and one microtask
      // less per request, which shows when thousands of transactions are in flight.
      let value: unknown;
      try {
        value = entry.map(msg.result ?? null);
      } catch (err) {
        entry.reject(err as Error);
        return;
      }
      entry.resolve(value);
    }
  }

  /**
   * Feeds a message classified as {@link MessageKind.Request}; the reply is sent when the
   * handler settles. A method without handler gets a `{"error":"unknown method"}` reply.
   */
  async handleRequest(msg: WireMessage): Promise<void> {
    const id = msg.id as JsonRpcId;
    const method = msg.method as string;
    const response = await this.server.receive({ jsonrpc: '2.0', id, method, params: msg.params ?? [] });
    if (!response || this.closedWith) return;
    if (response.error === undefined || response.error === null) {
      this.send(encodeResult(id, response.result));
    } else if (response.error.code === -32601) {
      this.send(encodeError(id, { error: 'unknown method', details: method }));
    } else {
      this.send(encodeError(id, { error: response.error.message }));
    }
  }

  /** Rejects every pending request with `OVSDB_DISCONNECTED` (cause: `reason`); later calls fail too. */
  close(reason: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(this.disconnected());
    }
  }

  private disconnected(): OvsdbConnectionError {
    return new OvsdbConnectionError('OVSDB_DISCONNECTED', `connection closed: ${this.closedWith?.message}`, {
      cause: this.closedWith,
    });
  }
}
