/**
 * JSON-RPC 1.0 as ovsdb-server speaks it (RFC 7047 §4.1), adapted onto the `json-rpc-2.0`
 * package, which does request/response correlation (client) and method dispatch for
 * server→client requests (server).
 *
 * The wire dialect differs from JSON-RPC 2.0 in ways the package cannot be configured for,
 * so this module translates both ways:
 * - outgoing messages carry no `jsonrpc` member (ovsdb-server rejects unknown members);
 *   `params` is always an array; notifications carry `"id": null` (§4.1.3), replies carry
 *   both `result` and `error`, one of them `null` (§4.1.2);
 * - incoming replies carry `"error": null` next to `result` (the package takes any defined
 *   `error` as a failure, and rejects messages without `"jsonrpc": "2.0"`), error replies
 *   carry a string or an `{error, details}` object instead of `{code, message}`, and
 *   notifications carry `"id": null` (the package would treat them as requests and answer).
 *
 * Incoming notifications and `echo` requests do not go through the package at all (see
 * `connection.ts`): notifications must be handed out strictly in order with handlers awaited
 * one after another, which the package's concurrent promise dispatch does not do; `echo` must
 * be answered synchronously at decode time, and the package answers only after several
 * promise hops through its middleware chain.
 */
import { JSONRPCClient, JSONRPCServer, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
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

// Error codes of the synthetic JSON-RPC 2.0 error responses we feed the package, so that
// the promise it returns can be mapped back to the right typed error.
const WIRE_ERROR = -32000; // the peer sent an error reply; `data` is its `error` member
const LOCAL_TIMEOUT = -32001; // our per-request timer fired
// Anything else comes from the package's rejectAllPendingRequests(): the connection is gone.

/** Handler for a server→client request; its return value (or promise) is the `result`. */
export type RequestHandler = (params: unknown[]) => unknown;

/** Options of {@link JsonRpcEndpoint}. */
export interface JsonRpcEndpointOptions {
  /** Called with an error thrown by a request handler (the peer gets an error reply). */
  onHandlerError?: (err: unknown, method: string) => void;
}

/**
 * One JSON-RPC 1.0 peer: issues requests and correlates replies, answers server→client
 * requests through registered handlers. Transport-agnostic: `send` gets complete wire texts.
 */
export class JsonRpcEndpoint {
  private readonly client: JSONRPCClient;
  private readonly server: JSONRPCServer;
  private nextId = 0;
  private closedWith: Error | undefined;

  constructor(
    private readonly send: (text: string) => void,
    options: JsonRpcEndpointOptions = {},
  ) {
    // The package hands us its 2.0 request object; we write the 1.0 text ourselves.
    this.client = new JSONRPCClient((req: JSONRPCRequest) => {
      this.send(encodeRequest(req.id as JsonRpcId, req.method, req.params as unknown[]));
    });
    const onHandlerError = options.onHandlerError;
    this.server = new JSONRPCServer({
      errorListener: (_message: string, data: unknown) => onHandlerError?.(data, 'request'),
    });
  }

  /**
   * Sends a request and resolves with its `result`.
   * @throws OvsdbRpcError when the peer replies with an error; OvsdbTimeoutError after
   *   `timeoutMs`; OvsdbConnectionError (`OVSDB_DISCONNECTED`) if the endpoint is or becomes closed.
   */
  async request<T = unknown>(method: string, params: readonly unknown[], timeoutMs?: number): Promise<T> {
    if (this.closedWith) throw this.disconnected();
    const id = ++this.nextId;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      timer = setTimeout(
        () => this.client.receive({ jsonrpc: '2.0', id, error: { code: LOCAL_TIMEOUT, message: 'timeout' } }),
        timeoutMs,
      );
    }
    const response = await this.client.requestAdvanced({
      jsonrpc: '2.0',
      id,
      method,
      params: params as unknown[],
    });
    if (timer) clearTimeout(timer);
    if (response.error === undefined || response.error === null) return response.result as T;
    switch (response.error.code) {
      case WIRE_ERROR:
        throw new OvsdbRpcError(method, response.error.data);
      case LOCAL_TIMEOUT:
        throw new OvsdbTimeoutError(method, timeoutMs ?? 0);
      default:
        throw this.disconnected();
    }
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

  /** Feeds a message classified as {@link MessageKind.Response}. Unknown ids are ignored. */
  handleResponse(msg: WireMessage): void {
    const id = msg.id as JsonRpcId;
    const response: JSONRPCResponse =
      msg.error === undefined || msg.error === null
        ? { jsonrpc: '2.0', id, result: msg.result ?? null }
        : { jsonrpc: '2.0', id, error: { code: WIRE_ERROR, message: 'error', data: msg.error } };
    this.client.receive(response);
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
    this.client.rejectAllPendingRequests(reason.message);
  }

  private disconnected(): OvsdbConnectionError {
    return new OvsdbConnectionError('OVSDB_DISCONNECTED', `connection closed: ${this.closedWith?.message}`, {
      cause: this.closedWith,
    });
  }
}
