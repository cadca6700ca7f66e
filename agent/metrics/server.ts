/**
 * The agent's HTTP endpoints on `--listen host:port`:
 * - `GET /healthz` — liveness: 200 whenever the server answers (`{ok: true}`);
 * - `GET /readyz` — readiness (agent/readiness.ts): 200 `{ready: true, …}`, else 503 with
 *   `{ready: false, reasons: [...]}`;
 * - `GET /debug` — desired vs actual, last errors, blocked deletes (JSON);
 * - `GET /metrics` — the Prometheus text exposition format 0.0.4 of the agent's registry
 *   (`Content-Type: text/plain; version=0.0.4; charset=utf-8`, docs/metrics.md).
 * Anything else is 404; methods other than GET (and HEAD) are 405.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseListenAddress } from '../config/values.js';
import type { Readiness } from '../readiness.js';

export interface HttpHandlers {
  /** Computed per `/readyz` request. */
  ready: () => Readiness;
  debug: () => unknown;
  /** Served at `/metrics` when given. */
  registry?: Registry;
}

export interface DebugServer {
  /** The address actually bound (`host:port`, port 0 resolved; IPv6 in brackets). */
  address: string;
  close(): Promise<void>;
}

/** JSON with bigints as strings (IPAM sizes). */
const toJson = (body: unknown) =>
  JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v), 2) + '\n';

/** Starts the HTTP server on `listen`. */
export async function createDebugServer(handlers: HttpHandlers, listen: string): Promise<DebugServer> {
  const { host, port } = parseListenAddress(listen);
  const paths = ['/healthz', '/readyz', '/debug', ...(handlers.registry ? ['/metrics'] : [])];
  const server = createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(toJson(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') send(405, { error: 'GET only' });
    else if (path === '/healthz') send(200, { ok: true });
    else if (path === '/readyz') {
      const r = handlers.ready();
      send(r.ready ? 200 : 503, r);
    } else if (path === '/debug') send(200, handlers.debug());
    else if (path === '/metrics' && handlers.registry) {
      const registry = handlers.registry;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => send(500, { error: err instanceof Error ? err.message : String(err) }),
      );
    } else send(404, { error: 'not found', paths });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
