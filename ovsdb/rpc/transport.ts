/**
 * Active OVSDB remotes (ovsdb-server(1) "--remote", ovsdb(7) "Connection Methods";
 * RFC 7047 §1 leaves the transport open): `unix:PATH`, `tcp:HOST[:PORT]`, `ssl:HOST[:PORT]`,
 * IPv6 hosts in brackets (`tcp:[::1]:6641`). A comma-separated list names several remotes,
 * as in `--db=tcp:10.0.0.1:6641,tcp:10.0.0.2:6641` for the members of a cluster.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { OvsdbConnectionError } from './errors.js';

/** Default port of `tcp:`/`ssl:` remotes given without one (IANA-assigned to OVSDB). */
export const DEFAULT_OVSDB_PORT = 6640;

/** One parsed remote. `text` is the canonical string form, used in logs and events. */
export type Remote =
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'tcp' | 'ssl'; host: string; port: number; text: string };

/** TLS material for `ssl:` remotes: PEM file paths (or contents), as ovsdb-server's `-p/-c/-C`. */
export interface TlsOptions {
  /** Our private key (`--private-key`). */
  privateKey: string | Buffer;
  /** Our certificate (`--certificate`). */
  certificate: string | Buffer;
  /** CA certificate that must have signed the server's certificate (`--ca-cert`). */
  caCert: string | Buffer;
  /**
   * Also check that the server certificate names the host we dialled. Default false: OVS
   * verifies only the CA signature (certificates made by ovs-pki carry no host names).
   */
  verifyHostname?: boolean;
}

/** Options of {@link connectRemote}. */
export interface TransportOptions {
  /** Required for `ssl:` remotes. */
  tls?: TlsOptions;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Parses one remote.
 * @throws OvsdbConnectionError (`OVSDB_BAD_REMOTE`) on an unknown method or malformed address.
 */
export function parseRemote(spec: string): Remote {
  const s = spec.trim();
  const colon = s.indexOf(':');
  const method = colon < 0 ? '' : s.slice(0, colon);
  const rest = s.slice(colon + 1);
  if (method === 'unix') {
    if (rest === '') throw badRemote(spec, 'empty path');
    return { kind: 'unix', path: rest, text: `unix:${rest}` };
  }
  if (method !== 'tcp' && method !== 'ssl') throw badRemote(spec, 'expected unix:, tcp: or ssl:');
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw badRemote(spec, "unterminated '['");
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw badRemote(spec, "expected ':' after ']'");
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) throw badRemote(spec, 'IPv6 addresses must be in brackets');
    host = parts[0]!;
    portText = parts[1];
  }
  if (host === '') throw badRemote(spec, 'empty host');
  const port = portText === undefined || portText === '' ? DEFAULT_OVSDB_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badRemote(spec, `bad port "${portText}"`);
  const hostText = host.includes(':') ? `[${host}]` : host;
  return { kind: method, host, port, text: `${method}:${hostText}:${port}` };
}

/** Parses a comma-separated list of remotes (empty entries are ignored). */
export function parseRemotes(spec: string | readonly string[]): Remote[] {
  const items = typeof spec === 'string' ? spec.split(',') : spec.flatMap((s) => s.split(','));
  const remotes = items.filter((s) => s.trim() !== '').map(parseRemote);
  if (remotes.length === 0) throw badRemote(String(spec), 'no remote given');
  return remotes;
}

/**
 * Opens a byte stream to `remote`. TCP sockets get `TCP_NODELAY` (requests are small and
 * latency-bound); for `ssl:` the promise resolves after the TLS handshake.
 * @throws OvsdbConnectionError (`OVSDB_CONNECT_FAILED`, cause: the socket error).
 */
export async function connectRemote(remote: Remote, options: TransportOptions = {}): Promise<Duplex> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let socket: net.Socket;
  let ready: string;
  if (remote.kind === 'unix') {
    socket = net.connect({ path: remote.path });
    ready = 'connect';
  } else if (remote.kind === 'tcp') {
    socket = net.connect({ host: remote.host, port: remote.port, noDelay: true });
    ready = 'connect';
  } else {
    const t = options.tls;
    if (!t)
      throw new OvsdbConnectionError('OVSDB_CONNECT_FAILED', `${remote.text}: ssl remote needs tls options`);
    const [key, cert, ca] = await Promise.all([pem(t.privateKey), pem(t.certificate), pem(t.caCert)]);
    socket = tls.connect({
      host: remote.host,
      port: remote.port,
      key,
      cert,
      ca,
      servername: net.isIP(remote.host) ? undefined : remote.host,
      checkServerIdentity: t.verifyHostname ? tls.checkServerIdentity : () => undefined,
    });
    socket.setNoDelay(true);
    ready = 'secureConnect';
  }
  return await new Promise<Duplex>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve(socket);
    };
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(
        new OvsdbConnectionError('OVSDB_CONNECT_FAILED', `${remote.text}: ${err.message}`, { cause: err }),
      );
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(ready, onReady);
      socket.off('error', fail);
    };
    socket.once(ready, onReady);
    socket.once('error', fail);
  });
}

async function pem(value: string | Buffer): Promise<Buffer | string> {
  if (Buffer.isBuffer(value) || value.includes('-----BEGIN')) return value;
  return await readFile(value);
}

function badRemote(spec: string, why: string): OvsdbConnectionError {
  return new OvsdbConnectionError('OVSDB_BAD_REMOTE', `bad remote "${spec}": ${why}`);
}
