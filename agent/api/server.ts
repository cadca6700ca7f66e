/**
 * The agent's local API: HTTP/1.1 + JSON over a unix socket (node:http), for the CNI plugin and
 * `vpc-agent port …` on the same node. Not a network service: the socket is created mode 0660
 * in a directory of its own, made mode 0750 (also when it exists already, with other modes).
 *
 * | method | path        | body                         | answer                          |
 * | ------ | ----------- | ---------------------------- | ------------------------------- |
 * | POST   | /v1/ports   | AddPortRequest               | 200 PortResult                  |
 * | DELETE | /v1/ports   | {netns, network?}            | 200 {deleted: PortResult[]}     |
 * | GET    | /v1/ports   | —                            | 200 {ports: PortResult[]}       |
 * | POST   | /v1/cni     | a CNI call: the network config as the body, CNI_* as `x-cni-*` headers | 200 the plugin's output, or 422 its CNI error |
 * | POST   | /v1/ports/check | {containerId, ifname, netns, network?} | 200 PortResult  |
 *
 * DELETE also takes `{containerId, ifname?, netns?, network?}` (one CNI attachment; the
 * namespace may be gone). The same API is served on a second socket for the CNI plugin
 * (`--cni-socket`, see ./protocol.ts).
 *
 * Errors: `{error: {code, message, field?}}` with 400 (bad input, `field` named), 404 (unknown
 * network/subnet), 405, 409 (IPAM conflict, name clash), 413, 500, 503 (not the NB writer),
 * 504 (LSP or binding not ready in time).
 */
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { runPlugin } from '../cni/plugin.js';
import { ApiClientError } from './client.js';
import { AgentError } from '../errors.js';
import { DEFAULT_API_SOCKET, type ApiErrorBody } from './protocol.js';
import type { Logger } from '../log.js';
import {
  badRequest,
  PortError,
  validateAddRequest,
  validateCheckRequest,
  validateDelRequest,
  type PortService,
} from '../node/ports/index.js';

/** Request bodies are small JSON objects. */
const MAX_BODY = 64 * 1024;

export interface ApiServer {
  readonly socket: string;
  close(): Promise<void>;
}

/** Status and body for an error thrown by a handler. */
export function errorResponse(err: unknown): { status: number; body: ApiErrorBody } {
  if (err instanceof PortError) {
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } },
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown })?.code;
  return {
    status: 500,
    body: { error: { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message } },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('body', 'is not valid JSON');
  }
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY)
      throw new PortError('BAD_REQUEST', 'ERR_BODY_TOO_LARGE', `body: over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The CNI variables a `/v1/cni` call carries as `x-cni-*` headers. */
const CNI_HEADERS = ['COMMAND', 'CONTAINERID', 'NETNS', 'IFNAME', 'ARGS', 'PATH'] as const;

/**
 * One CNI call run by the agent for a thin client (the native or shell form of the plugin): the
 * same commands as the plugin process (../cni/plugin.ts), their API calls routed in process (no
 * second HTTP round trip through this socket: in a burst of VM starts, that doubled the agent's
 * work per ADD), with the answers and errors `apiCall` would give.
 */
async function handleCni(
  req: IncomingMessage,
  ports: PortService,
): Promise<{ status: number; text: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const k of CNI_HEADERS) {
    const v = req.headers[`x-cni-${k.toLowerCase()}`];
    if (typeof v === 'string') env[`CNI_${k}`] = v;
  }
  const out = await runPlugin(
    env,
    await readText(req),
    async <T>(_s: string, method: string, p: string, body?: unknown) => {
      let res: { status: number; body: unknown };
      try {
        res = await handle(ports, method, p, () => Promise.resolve(body ?? {}));
      } catch (err) {
        res = errorResponse(err);
      }
      if (res.status >= 400) throw new ApiClientError(res.status, (res.body as ApiErrorBody).error);
      return res.body as T;
    },
  );
  return { status: out.exitCode === 0 ? 200 : 422, text: out.stdout };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

/** Routes one request to the port service. Exported for tests. */
export async function handle(ports: PortService, method: string, url: string, body: () => Promise<unknown>) {
  const p = url.split('?')[0];
  if (p === '/v1/ports/check') {
    if (method !== 'POST')
      return {
        status: 405,
        body: { error: { code: 'ERR_METHOD', message: `${method} not allowed on ${p}` } },
      };
    return { status: 200, body: await ports.check(validateCheckRequest(await body())) };
  }
  if (p !== '/v1/ports')
    return {
      status: 404,
      body: { error: { code: 'ERR_NOT_FOUND', message: `no route ${p}; use /v1/ports` } },
    };
  switch (method) {
    case 'POST':
      return { status: 200, body: await ports.add(validateAddRequest(await body())) };
    case 'DELETE':
      return { status: 200, body: await ports.del(validateDelRequest(await body())) };
    case 'GET':
      return { status: 200, body: { ports: await ports.list() } };
    default:
      return {
        status: 405,
        body: { error: { code: 'ERR_METHOD', message: `${method} not allowed on ${p}` } },
      };
  }
}

/** True when something accepts connections on unix socket `socket`. */
function socketInUse(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Inode of `file`, undefined when absent. */
function inodeOf(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}

/** `lstat` of `file` (a symlink is not followed), undefined when absent. */
function lstatOf(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** What `st` is, for messages. */
function fileType(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

/**
 * Creates the socket's directory, or takes an existing one, mode 0750: only root and the
 * directory's group reach the socket. A shared directory (sticky and world-writable, like
 * `/tmp`) is refused rather than closed to everyone else. With `keepMode` an existing directory
 * keeps its mode: one the agent shares with others (`/run/openvswitch` for the CNI socket).
 * @throws AgentError `ERR_API_SOCKET_DIR`
 */
function prepareSocketDir(dir: string, keepMode: boolean): void {
  const existed = lstatOf(dir) !== undefined;
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const st = statSync(dir);
  if ((st.mode & 0o1002) === 0o1002)
    throw new AgentError(
      'ERR_API_SOCKET_DIR',
      `${dir} is a shared directory (sticky, world-writable); give the API socket a directory of its own, e.g. ${path.dirname(DEFAULT_API_SOCKET)}`,
    );
  if (!(keepMode && existed)) chmodSync(dir, 0o750);
}

export interface ApiServerOptions {
  /** An existing directory of the socket keeps its mode (it is shared with others). */
  sharedDir?: boolean;
}

/**
 * Listens on unix socket `socket`. A stale socket (nobody accepting) is replaced; a live one
 * (another agent) is an error, and so is anything at that path that is not a socket — a
 * regular file there is somebody's data, never removed. On close the socket is removed only
 * if it is still ours.
 * @throws AgentError `ERR_API_SOCKET_DIR`, `ERR_API_SOCKET_NOT_SOCKET`, `ERR_API_SOCKET_IN_USE`
 */
export async function createApiServer(
  deps: { ports: PortService; log?: Pick<Logger, 'info' | 'warn'> },
  socket: string = DEFAULT_API_SOCKET,
  opts: ApiServerOptions = {},
): Promise<ApiServer> {
  prepareSocketDir(path.dirname(socket), opts.sharedDir ?? false);
  const existing = lstatOf(socket);
  if (existing) {
    if (!existing.isSocket())
      throw new AgentError(
        'ERR_API_SOCKET_NOT_SOCKET',
        `${socket} exists and is ${fileType(existing)}, not a socket; not removing it (move it or choose another --api-socket)`,
      );
    if (await socketInUse(socket))
      throw new AgentError('ERR_API_SOCKET_IN_USE', `another process serves the local API on ${socket}`);
    unlinkSync(socket);
  }
  const server = createServer((req, res) => {
    const t0 = performance.now();
    if ((req.url ?? '').split('?')[0] === '/v1/cni' && req.method === 'POST') {
      handleCni(req, deps.ports)
        .catch((err: unknown) => ({ status: 500, text: JSON.stringify(errorResponse(err).body) }))
        .then(({ status, text }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(text === '' ? '' : text + '\n');
          const ms = Math.round(performance.now() - t0);
          deps.log?.info(
            { method: 'POST', url: '/v1/cni', cni: req.headers['x-cni-command'], status, ms },
            'api request',
          );
        })
        .catch(() => undefined);
      return;
    }
    handle(deps.ports, req.method ?? 'GET', req.url ?? '/', () => readJson(req))
      .catch((err: unknown) => errorResponse(err))
      .then(({ status, body }) => {
        send(res, status, body);
        const ms = Math.round(performance.now() - t0);
        if (status >= 500)
          deps.log?.warn({ method: req.method, url: req.url, status, ms, body }, 'api request failed');
        else deps.log?.info({ method: req.method, url: req.url, status, ms }, 'api request');
      })
      .catch(() => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  chmodSync(socket, 0o660);
  const ino = inodeOf(socket);
  return {
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        try {
          if (inodeOf(socket) === ino) unlinkSync(socket);
        } catch {
          /* gone */
        }
      }),
  };
}
