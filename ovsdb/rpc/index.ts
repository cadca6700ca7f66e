/**
 * Wire layer of the OVSDB client: transports (unix/tcp/ssl), concatenated-JSON framing,
 * JSON-RPC 1.0 (RFC 7047 §4.1) over the `json-rpc-2.0` package, one live connection with
 * echo handling and inactivity probes, and a reconnecting session over several remotes.
 */
export { RpcConnection } from './connection.js';
export type {
  NotificationHandler,
  RpcConnectionEvents,
  RpcConnectionOptions,
  RpcConnectionStats,
  RequestOptions,
} from './connection.js';
export { OvsdbConnectionError, OvsdbProtocolError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';
export { DEFAULT_MAX_MESSAGE_BYTES, JsonStreamDecoder } from './json-stream.js';
export type { JsonStreamOptions } from './json-stream.js';
export type { JsonRpcId, RequestHandler, RequestMapping } from './jsonrpc.js';
export { ReconnectingSession } from './reconnect.js';
export type { ReconnectEvents, ReconnectOptions } from './reconnect.js';
export { DEFAULT_OVSDB_PORT, connectRemote, parseRemote, parseRemotes } from './transport.js';
export type { Remote, TlsOptions, TransportOptions } from './transport.js';
