/**
 * The few API-server requests the agent makes — a list page, a watch stream, and the writes of
 * status write-back (a merge patch of `/status`, an Event) — over node's
 * own http/https. `@kubernetes/client-node`'s `KubeConfig` provides the cluster, the TLS material
 * and the credentials (tokens, client certificates, exec plugins, in-cluster service account);
 * the requests themselves are made here because the source needs what that package's `Watch`
 * hides: the HTTP status with `Retry-After` on 429, the `Status` body of an error, an idle timer
 * on the stream (a stuck watch), and aborting a request at any time.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { AgentError } from '../../errors.js';

/** A failed API request: an HTTP error with the server's `Status`, or a transport problem. */
export class KubeApiError extends AgentError {
  /** HTTP status, or the `code` of an `ERROR` watch event; undefined for transport errors. */
  readonly status: number | undefined;
  /** The `Status` reason, e.g. `Expired`, `NotFound`, `TooManyRequests`. */
  readonly reason: string | undefined;
  /** From `Retry-After` (429, 503), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    details: { status?: number; reason?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super('ERR_KUBE_API', message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.status = details.status;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The resource version is too old (compacted) or a continue token expired: list again. */
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.status === 410;
export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;

/** The `reason` of a watch dropped as stuck (nothing received, or open past its timeout). */
export const STUCK = 'WatchStuck';

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeApi {
  /** The cluster's server URL. */
  readonly server: string;
  /** GET and parse JSON; rejects with {@link KubeApiError} on a non-2xx answer or `timeoutMs`. */
  getJson(path: string, query: Query, opts: { signal: AbortSignal; timeoutMs: number }): Promise<unknown>;
  /**
   * A write (or a read of one object): `method` with a JSON `body` sent as `contentType`
   * (default `application/json`); resolves with the parsed answer, rejects with
   * {@link KubeApiError} (its `status`, `reason` and `Retry-After`) on a non-2xx answer or
   * `timeoutMs`.
   */
  requestJson(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    path: string,
    opts: { body?: unknown; contentType?: string; signal: AbortSignal; timeoutMs: number },
  ): Promise<unknown>;
  /**
   * A watch request: calls `onEvent` for every JSON line. Resolves when the server ends the
   * stream (its `timeoutSeconds`), rejects on an HTTP error, a broken connection, a line that
   * is not JSON, or when nothing arrived for `idleTimeoutMs` (a stuck watch).
   */
  watch(
    path: string,
    query: Query,
    opts: { signal: AbortSignal; idleTimeoutMs: number; onEvent: (e: unknown) => void },
  ): Promise<void>;
}

function url(server: string, path: string, query: Query): URL {
  const u = new URL(server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u;
}

function retryAfter(res: http.IncomingMessage): number | undefined {
  const h = res.headers['retry-after'];
  if (h === undefined) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** A `Status` object (error body or `ERROR` watch event) → {@link KubeApiError}. */
export function statusError(status: unknown, httpStatus?: number, retryAfterMs?: number): KubeApiError {
  const s = (typeof status === 'object' && status !== null ? status : {}) as Record<string, unknown>;
  const code = typeof s['code'] === 'number' ? s['code'] : httpStatus;
  const reason = typeof s['reason'] === 'string' ? s['reason'] : undefined;
  const message = typeof s['message'] === 'string' ? s['message'] : `HTTP ${code ?? '?'}`;
  return new KubeApiError(`${code ?? ''} ${reason ?? ''}: ${message}`.replace(/^ +/, ''), {
    ...(code !== undefined ? { status: code } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

async function errorOf(res: http.IncomingMessage): Promise<KubeApiError> {
  const text = await readBody(res).catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text.trim().slice(0, 200) || res.statusMessage };
  }
  return statusError(body, res.statusCode, retryAfter(res));
}

export function createKubeApi(kc: KubeConfig): KubeApi {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new AgentError('ERR_KUBECONFIG', 'kubeconfig: no current cluster');
  const server = cluster.server;

  const open = async (
    u: URL,
    signal: AbortSignal,
    write?: { method: string; body: string | undefined; contentType: string },
  ): Promise<http.IncomingMessage> => {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts); // credentials are applied per request (tokens rotate)
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(u, {
        ...opts,
        method: write?.method ?? 'GET',
        headers: {
          ...opts.headers,
          Accept: 'application/json',
          ...(write?.body !== undefined
            ? { 'Content-Type': write.contentType, 'Content-Length': Buffer.byteLength(write.body) }
            : {}),
        },
        signal,
      });
      req.on('response', resolve);
      req.on('error', (e) =>
        reject(
          signal.aborted
            ? (signal.reason as Error)
            : new KubeApiError(`${u.host}: ${e.message}`, { cause: e }),
        ),
      );
      req.end(write?.body);
    });
  };

  return {
    server,
    async getJson(path, query, { signal, timeoutMs }) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const both = AbortSignal.any([signal, timeout]);
      try {
        const res = await open(url(server, path, query), both);
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) throw await errorOf(res);
        const text = await readBody(res);
        try {
          return JSON.parse(text) as unknown;
        } catch (e) {
          throw new KubeApiError(`${path}: the answer is not JSON`, { cause: e });
        }
      } catch (e) {
        if (timeout.aborted && !signal.aborted)
          throw new KubeApiError(`${path}: no answer within ${timeoutMs} ms`, { cause: e });
        throw e;
      }
    },
    async requestJson(method, path, { body, contentType, signal, timeoutMs }) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const both = AbortSignal.any([signal, timeout]);
      try {
        const res = await open(url(server, path, {}), both, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
          contentType: contentType ?? 'application/json',
        });
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) throw await errorOf(res);
        const text = await readBody(res);
        try {
          return text === '' ? undefined : (JSON.parse(text) as unknown);
        } catch (e) {
          throw new KubeApiError(`${method} ${path}: the answer is not JSON`, { cause: e });
        }
      } catch (e) {
        if (timeout.aborted && !signal.aborted)
          throw new KubeApiError(`${method} ${path}: no answer within ${timeoutMs} ms`, { cause: e });
        throw e;
      }
    },
    async watch(path, query, { signal, idleTimeoutMs, onEvent }) {
      const idle = new AbortController();
      const both = AbortSignal.any([signal, idle.signal]);
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(
          () =>
            idle.abort(
              new KubeApiError(`watch ${path}: nothing received for ${idleTimeoutMs} ms`, { reason: STUCK }),
            ),
          idleTimeoutMs,
        );
      };
      arm();
      try {
        const res = await open(url(server, path, { ...query, watch: true }), both);
        if (res.statusCode !== 200) throw await errorOf(res);
        await new Promise<void>((resolve, reject) => {
          let buf = '';
          const fail = (e: unknown) => {
            res.destroy();
            reject(e instanceof Error ? e : new Error(String(e)));
          };
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            arm();
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line === '') continue;
              let event: unknown;
              try {
                event = JSON.parse(line);
              } catch (e) {
                fail(new KubeApiError(`watch ${path}: a line is not JSON`, { cause: e }));
                return;
              }
              try {
                onEvent(event);
              } catch (e) {
                fail(e);
                return;
              }
            }
          });
          res.on('end', () => resolve());
          res.on('error', (e) =>
            reject(both.aborted ? (both.reason as Error) : new KubeApiError(`watch ${path}: ${e.message}`)),
          );
          res.on('close', () => {
            if (!res.complete)
              reject(
                both.aborted
                  ? (both.reason as Error)
                  : new KubeApiError(`watch ${path}: the connection closed mid-stream`),
              );
          });
        });
      } catch (e) {
        if (idle.signal.aborted && !signal.aborted) throw idle.signal.reason as Error;
        throw e;
      } finally {
        if (timer) clearTimeout(timer);
      }
    },
  };
}
