/**
 * Client of the local API (./server.ts): one HTTP request over the unix socket. Non-2xx answers
 * become {@link ApiClientError} carrying the server's `{code, message, field}` and the status.
 */
import { request } from 'node:http';
import { DEFAULT_API_SOCKET, type ApiErrorBody } from './protocol.js';

export class ApiClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, body: ApiErrorBody['error']) {
    super(body.message);
    this.name = 'ApiClientError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
  }
}

export interface ApiCallOptions {
  socket?: string;
  /** Give up after this long (default 120 s: an add waits for the binding). */
  timeoutMs?: number;
}

/** `method path` with a JSON body; resolves with the parsed answer of a 2xx. */
export function apiCall<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: ApiCallOptions = {},
): Promise<T> {
  const socketPath = opts.socket ?? DEFAULT_API_SOCKET;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: opts.timeoutMs ?? 120_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(
              new Error(`bad answer from ${socketPath} (HTTP ${res.statusCode}): ${text.slice(0, 200)}`),
            );
            return;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else {
            const e = (parsed as Partial<ApiErrorBody>).error;
            reject(new ApiClientError(status, e ?? { code: 'ERR_HTTP', message: `HTTP ${status}` }));
          }
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${socketPath} within ${opts.timeoutMs ?? 120_000} ms`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new Error(
              `cannot reach the agent at ${socketPath} (${err.code}); is 'vpc-agent run' up and serving that socket (--api-socket, --cni-socket)?`,
            )
          : err,
      ),
    );
    if (payload) req.write(payload);
    req.end();
  });
}
