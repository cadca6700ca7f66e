/**
 * The agent's HTTP endpoints on `--listen host:port`:
 * - `GET /healthz` — liveness: 200 whenever the server answers (`{ok: true}`);
 * - `GET /readyz` — readiness (agent/readiness.ts): 200 `{ready: true, …}`, else 503 with
 *   `{ready: false, reasons: [...]}`;
 * - `GET /debug` — desired vs actual, last errors, blocked deletes (JSON);
 * - `GET /debug/<page>` — the pages given in `pages` (state, errors, trace): JSON, or readable
 *   text with `?format=text`; a page's own status code (400 for a bad query) is kept;
 * - `GET /metrics` — the Prometheus text exposition format 0.0.4 of the agent's registry
 *   (`Content-Type: text/plain; version=0.0.4; charset=utf-8`, docs/metrics.md).
 * Anything else is 404; methods other than GET (and HEAD) are 405. Read-only: no endpoint
 * changes anything.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseListenAddress } from '../config/values.js';
import { plainText } from '../debug/text.js';
import type { Readiness } from '../readiness.js';

/** One answer of a debug page. */
export interface DebugReply {
  /** Default 200. */
  code?: number;
  body: unknown;
  /** The page as readable text (`?format=text`); default: the body as indented lines. */
  text?: () => string;
}

/** A debug page: its query in, its reply out. */
export type DebugPage = (query: URLSearchParams) => DebugReply | Promise<DebugReply>;

export interface HttpHandlers {
  /** Computed per `/readyz` request. */
  ready: () => Readiness;
  debug: () => unknown;
  /** Served at `/metrics` when given. */
  registry?: Registry;
  /** `/debug/<name>` pages by name. */
  pages?: Record<string, DebugPage>;
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
  const pages = handlers.pages ?? {};
  const paths = [
    '/healthz',
    '/readyz',
    '/debug',
    ...Object.keys(pages).map((p) => `/debug/${p}`),
    ...(handlers.registry ? ['/metrics'] : []),
  ];
  const server = createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(toJson(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const page = path.startsWith('/debug/') ? pages[path.slice('/debug/'.length)] : undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') send(405, { error: 'GET only' });
    else if (page) {
      const text = url.searchParams.get('format') === 'text';
      Promise.resolve()
        .then(() => page(url.searchParams))
        .then(
          (reply) => {
            const code = reply.code ?? 200;
            if (!text) return send(code, reply.body);
            res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
            res.end(reply.text ? reply.text() : plainText(reply.body));
          },
          (err: unknown) => send(500, { error: err instanceof Error ? err.message : String(err) }),
        );
    } else if (path === '/healthz') send(200, { ok: true });
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
