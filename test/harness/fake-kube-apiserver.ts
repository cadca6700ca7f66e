/**
 * A FAKE Kubernetes API server, for tests only: no real API server can run on this machine.
 *
 * It implements the part of the list/watch protocol a watching client depends on, the way the
 * real one behaves:
 * - one global resourceVersion counter (as etcd's revision): every create, update and delete
 *   takes the next one; lists carry it in `metadata.resourceVersion`;
 * - chunked lists: `limit` and `continue` (pages served from the list's own point in time;
 *   a continue token older than the compacted history answers 410 Expired);
 * - watches as JSON lines: `ADDED`/`MODIFIED`/`DELETED` replayed from the history after the
 *   requested resourceVersion, then live; `BOOKMARK`s with `allowWatchBookmarks` (on demand
 *   and every `bookmarkIntervalMs`); a resourceVersion older than the history answers with an
 *   `ERROR` event carrying a 410 `Status` (or HTTP 410, `goneAs: 'http'`); `timeoutSeconds` ends
 *   the stream;
 * - 404 for a resource that is not served (a CRD that is not installed), 401 for a wrong
 *   bearer token, 429 with `Retry-After` when throttling;
 * - faults: server-side disconnects of every open watch, stuck watches (open but silent),
 *   a stop and start on the same port (objects survive, as in etcd; history optionally lost).
 *
 * - the `/status` subresource of every served kind: GET, PUT and merge PATCH
 *   (`application/merge-patch+json`), refused with 409 when `metadata.resourceVersion` is given
 *   and stale; a write that changes the status takes the next resourceVersion and is a
 *   `MODIFIED` watch event (spec and generation untouched); one that changes nothing is not;
 *   a spec written through the helpers keeps the status (as a main-resource update does);
 * - core/v1 Events: POST (409 AlreadyExists for a taken name), GET and merge PATCH by name;
 * - field selectors: `<path>=<value>` terms on any field path (`metadata.name`,
 *   `spec.nodeName`), on lists and watches alike.
 *
 * Not implemented: label selectors, `!=` terms, writes of objects over HTTP (tests change
 * objects through the helpers), JSON and strategic-merge patches, API discovery.
 */
import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string };
};

interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: string;
  object: Obj;
}

interface OpenWatch {
  resource: FakeResource;
  namespace: string | undefined;
  name: string | undefined;
  bookmarks: boolean;
  /** The watch's `fieldSelector`, applied to every event. */
  selector: string | undefined;
  res: http.ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** `Date.now()` when it arrived. */
  at: number;
}

export interface FakeKubeApiServerOptions {
  /** Port to listen on; default a random one. */
  port?: number;
  /**
   * Serve HTTPS with this key and certificate (PEM text); `ca` goes into the kubeconfig, and
   * `serverName` (the certificate's name, when it has none for 127.0.0.1) as `tls-server-name`.
   */
  tls?: { key: string; cert: string; ca: string; serverName?: string };
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
  /** Send a bookmark to every watch that asked for them this often; default never. */
  bookmarkIntervalMs?: number;
  /** How a too-old resourceVersion on a watch is answered; default an ERROR event. */
  goneAs?: 'event' | 'http';
}

const resourceId = (r: { group: string; version: string; plural: string }) =>
  `${r.group}/${r.version}/${r.plural}`;
const keyOf = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const apiVersion = (r: FakeResource) => (r.group ? `${r.group}/${r.version}` : r.version);

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** A status write the fake accepted (it changed the status). */
export interface FakeStatusWrite {
  kind: string;
  name: string;
  namespace: string | undefined;
  method: string;
  status: unknown;
  at: number;
}

export interface FakeKubeApiServer {
  /** Status writes that changed an object's status, in order. */
  readonly statusWrites: FakeStatusWrite[];
  /** Events posted (current state: `count` bumped by patches), in order of creation. */
  events(): Record<string, unknown>[];
  /** The next `n` status writes answer HTTP `code` (500, 409, 429, …) without writing. */
  failStatusWrites(n: number, code: number): void;
  readonly port: number;
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: FakeRequest[];
  /** Called with each request before it is answered (a test's hook to change state mid-list). */
  onRequest: ((r: FakeRequest) => void) | undefined;
  start(): Promise<void>;
  /** Closes the listener and every connection (an API server going down). */
  stop(): Promise<void>;
  /** `stop` then `start` on the same port; `loseHistory` compacts it (old versions answer 410). */
  restart(opts?: { loseHistory?: boolean }): Promise<void>;
  /** Starts serving a resource (its CRD installed). */
  serve(r: FakeResource): void;
  /** Stops serving a resource (its CRD removed): 404, its objects gone. */
  unserve(plural: string): void;
  /** Creates or replaces an object (found by apiVersion/kind); returns its resourceVersion. */
  apply(obj: Record<string, unknown>): string;
  delete(kind: string, name: string, namespace?: string): string;
  /** Current objects of a kind. */
  list(kind: string): Obj[];
  resourceVersion(): number;
  /** Drops the watch history: resuming from any earlier version answers 410. */
  compact(): void;
  /** Sends a bookmark at the current resourceVersion to every watch that asked for them. */
  bookmark(): void;
  /** Server-side disconnect of every open watch (the connection is destroyed mid-stream). */
  dropWatches(): void;
  /** While on, watches stay open but receive nothing (a stuck watch). */
  stallWatches(on: boolean): void;
  /** While on, every new watch is answered and ended at once, with no event (a bad proxy). */
  endWatchesAtOnce(on: boolean): void;
  /** The next `n` requests answer 429 with `Retry-After: retryAfterSeconds`. */
  throttle(n: number, retryAfterSeconds: number): void;
  /** Lists answer only after this long (a slow or stuck API server); 0: at once. */
  delayLists(ms: number): void;
  /** Answers every list (not watch) of `plural` with HTTP `code` until cleared (`undefined`). */
  failLists(plural: string, code: number | undefined): void;
  openWatches(): number;
  /** Writes a kubeconfig pointing at this server. */
  writeKubeconfig(file: string): Promise<void>;
}

export async function startFakeKubeApiServer(
  options: FakeKubeApiServerOptions = {},
): Promise<FakeKubeApiServer> {
  const resources = new Map<string, FakeResource>();
  const stores = new Map<string, Map<string, Obj>>();
  let history: HistoryEvent[] = [];
  let rv = 1;
  /** The oldest resourceVersion a watch may resume from. */
  let compactedRv = 1;
  const watches = new Set<OpenWatch>();
  const sockets = new Set<Socket>();
  const listSnapshots = new Map<string, { rv: number; items: Obj[] }>();
  let stalled = false;
  let endAtOnce = false;
  let listDelayMs = 0;
  let throttled = { n: 0, retryAfter: 1 };
  const failing = new Map<string, number>();
  const requests: FakeRequest[] = [];
  let port = options.port ?? 0;
  let server: http.Server | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;

  const byKind = (kind: string, av?: string) => {
    for (const r of resources.values())
      if (r.kind === kind && (av === undefined || apiVersion(r) === av)) return r;
    return undefined;
  };

  const send = (w: OpenWatch, type: string, object: unknown) => {
    if (!stalled) w.res.write(JSON.stringify({ type, object }) + '\n');
  };
  const matches = (w: OpenWatch, o: Obj) =>
    (w.namespace === undefined || o.metadata.namespace === w.namespace) &&
    (w.name === undefined || o.metadata.name === w.name) &&
    (w.selector === undefined || selects(w.selector, o));
  const bookmarkObject = (r: FakeResource) => ({
    kind: r.kind,
    apiVersion: apiVersion(r),
    metadata: { resourceVersion: String(rv) },
  });

  const record = (type: HistoryEvent['type'], r: FakeResource, object: Obj) => {
    const ev: HistoryEvent = { rv, type, resource: resourceId(r), object }; // stored objects are replaced, never mutated
    history.push(ev);
    for (const w of watches)
      if (resourceId(w.resource) === ev.resource && matches(w, object)) send(w, type, ev.object);
  };

  const endWatch = (w: OpenWatch, destroy: boolean) => {
    if (!watches.delete(w)) return;
    if (w.timer) clearTimeout(w.timer);
    if (destroy) w.res.destroy();
    else w.res.end();
  };

  const reply = (
    res: http.ServerResponse,
    code: number,
    body: unknown,
    headers: http.OutgoingHttpHeaders = {},
  ) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  /** `/apis/g/v[/namespaces/ns]/plural` or `/api/v1[/namespaces/ns]/plural`. */
  const route = (path: string) => {
    const parts = path.split('/').filter(Boolean);
    let group: string;
    let rest: string[];
    if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1]!;
      rest = parts.slice(2);
    } else if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      rest = parts.slice(1);
    } else return undefined;
    const version = rest[0]!;
    let namespace: string | undefined;
    if (rest[1] === 'namespaces' && rest.length === 4) {
      namespace = rest[2];
      rest = [version, rest[3]!];
    }
    if (rest.length !== 2) return undefined;
    return { id: resourceId({ group, version, plural: rest[1]! }), plural: rest[1]!, namespace };
  };

  const handleList = (res: http.ServerResponse, r: FakeResource, q: Record<string, string>, ns?: string) => {
    let snap: { rv: number; items: Obj[] };
    let offset = 0;
    let id: string = randomUUID();
    if (q['continue']) {
      let token: { id: string; offset: number };
      try {
        token = JSON.parse(Buffer.from(q['continue'], 'base64url').toString()) as {
          id: string;
          offset: number;
        };
      } catch {
        return reply(res, 400, status(400, 'BadRequest', 'invalid continue token'));
      }
      const found = listSnapshots.get(token.id);
      if (!found || found.rv < compactedRv)
        return reply(res, 410, status(410, 'Expired', 'The provided continue parameter is too old'));
      snap = found;
      offset = token.offset;
      id = token.id;
    } else {
      const items = [...(stores.get(resourceId(r))?.values() ?? [])]
        .filter((o) => ns === undefined || o.metadata.namespace === ns)
        .filter((o) => q['fieldSelector'] === undefined || selects(q['fieldSelector'], o))
        .sort((a, b) => keyOf(a).localeCompare(keyOf(b))); // stored objects are never mutated
      snap = { rv, items };
    }
    const limit = q['limit'] ? Number(q['limit']) : 0;
    const page = limit > 0 ? snap.items.slice(offset, offset + limit) : snap.items.slice(offset);
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    listSnapshots.delete(id);
    if (limit > 0 && offset + limit < snap.items.length) {
      listSnapshots.set(id, snap);
      metadata['continue'] = Buffer.from(JSON.stringify({ id, offset: offset + limit })).toString(
        'base64url',
      );
      metadata['remainingItemCount'] = snap.items.length - offset - limit;
    }
    reply(res, 200, { apiVersion: apiVersion(r), kind: `${r.kind}List`, metadata, items: page });
  };

  const handleWatch = (
    res: http.ServerResponse,
    r: FakeResource,
    q: Record<string, string>,
    ns: string | undefined,
  ) => {
    const from = q['resourceVersion'] ?? '';
    const name = q['fieldSelector']?.match(/metadata\.name=([^,]+)/)?.[1];
    const nsSel = q['fieldSelector']?.match(/metadata\.namespace=([^,]+)/)?.[1];
    const tooOld = from !== '' && from !== '0' && Number(from) < compactedRv;
    if (tooOld && options.goneAs === 'http')
      return reply(res, 410, status(410, 'Expired', `too old resource version: ${from} (${compactedRv})`));
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the real server: the client sees the watch open before any event
    if (endAtOnce) return void res.end();
    const w: OpenWatch = {
      resource: r,
      namespace: ns ?? nsSel,
      name,
      bookmarks: q['allowWatchBookmarks'] === 'true',
      selector: q['fieldSelector'],
      res,
      timer: undefined,
    };
    if (tooOld) {
      send(w, 'ERROR', status(410, 'Expired', `too old resource version: ${from} (${compactedRv})`));
      res.end();
      return;
    }
    watches.add(w);
    res.on('close', () => endWatch(w, false));
    const secs = q['timeoutSeconds'] ? Number(q['timeoutSeconds']) : 0;
    if (secs > 0) w.timer = setTimeout(() => endWatch(w, false), secs * 1000);
    if (from === '' || from === '0') {
      for (const o of stores.get(resourceId(r))?.values() ?? []) if (matches(w, o)) send(w, 'ADDED', o);
    } else {
      for (const ev of history)
        if (ev.rv > Number(from) && ev.resource === resourceId(r) && matches(w, ev.object))
          send(w, ev.type, ev.object);
    }
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(u.searchParams);
    const request = { method: req.method ?? 'GET', path: u.pathname, query, at: Date.now() };
    requests.push(request);
    fake.onRequest?.(request);
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`)
      return reply(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    if (throttled.n > 0) {
      throttled.n--;
      return reply(res, 429, status(429, 'TooManyRequests', 'too many requests, please try again later'), {
        'retry-after': String(throttled.retryAfter),
      });
    }
    if (handleWrites(req, res, u.pathname)) return;
    const rt = route(u.pathname);
    const r = rt ? resources.get(rt.id) : undefined;
    if (!rt || !r || req.method !== 'GET')
      return reply(res, 404, status(404, 'NotFound', `the server could not find the requested resource`));
    if (query['watch'] === 'true' || query['watch'] === '1') return handleWatch(res, r, query, rt.namespace);
    const code = failing.get(r.plural);
    if (code !== undefined)
      return reply(res, code, status(code, 'InternalError', `injected failure ${code}`));
    if (listDelayMs > 0) {
      const t = setTimeout(() => handleList(res, r, query, rt.namespace), listDelayMs);
      res.on('close', () => clearTimeout(t));
      return;
    }
    handleList(res, r, query, rt.namespace);
  };

  // ---- Writes: the `/status` subresource and core/v1 Events (what a status writer uses). ----
  const statusWrites: FakeStatusWrite[] = [];
  const eventStore = new Map<string, Obj>();
  let statusFaults = { n: 0, code: 500 };
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  /** RFC 7386 JSON merge patch. */
  const mergePatch = (target: unknown, patch: unknown): unknown => {
    if (!isRecord(patch)) return patch;
    const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = mergePatch(out[k], v);
    }
    return out;
  };
  const readJson = (req: http.IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      req.on('error', reject);
    });
  const isMergePatch = (req: http.IncomingMessage) =>
    (req.headers['content-type'] ?? '').startsWith('application/merge-patch+json');

  const handleStatus = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: FakeResource,
    ns: string | undefined,
    name: string,
  ) => {
    const store = stores.get(resourceId(r))!;
    const key = `${r.namespaced ? (ns ?? 'default') : ''}/${name}`;
    const old = store.get(key);
    if (!old) return reply(res, 404, status(404, 'NotFound', `${r.plural} "${name}" not found`));
    if (req.method === 'GET') return reply(res, 200, old);
    if (req.method !== 'PATCH' && req.method !== 'PUT')
      return reply(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed`));
    if (req.method === 'PATCH' && !isMergePatch(req))
      return reply(res, 415, status(415, 'UnsupportedMediaType', 'the fake takes merge patches only'));
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return reply(res, 400, status(400, 'BadRequest', 'the body is not JSON'));
    }
    if (statusFaults.n > 0) {
      statusFaults.n--;
      const c = statusFaults.code;
      return reply(res, c, status(c, c === 429 ? 'TooManyRequests' : 'InternalError', `injected ${c}`), {
        ...(c === 429 ? { 'retry-after': '0' } : {}),
      });
    }
    const b = isRecord(body) ? body : {};
    const md = isRecord(b['metadata']) ? b['metadata'] : {};
    const want = md['resourceVersion'];
    if (typeof want === 'string' && want !== old.metadata.resourceVersion)
      return reply(
        res,
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
      );
    const next = req.method === 'PUT' ? b['status'] : mergePatch(old['status'], b['status'] ?? {});
    if (isDeepStrictEqual(next, old['status'])) return reply(res, 200, old); // a no-op write
    rv++;
    const obj: Obj = { ...old, status: next, metadata: { ...old.metadata, resourceVersion: String(rv) } };
    store.set(key, obj);
    record('MODIFIED', r, obj);
    statusWrites.push({
      kind: r.kind,
      name,
      namespace: obj.metadata.namespace,
      method: req.method,
      status: next,
      at: Date.now(),
    });
    reply(res, 200, obj);
  };

  const handleEvents = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ns: string,
    name: string | undefined,
  ) => {
    let body: unknown;
    try {
      body = req.method === 'GET' ? undefined : await readJson(req);
    } catch {
      return reply(res, 400, status(400, 'BadRequest', 'the body is not JSON'));
    }
    if (name === undefined) {
      if (req.method !== 'POST') return reply(res, 405, status(405, 'MethodNotAllowed', 'POST only'));
      const b = (isRecord(body) ? structuredClone(body) : {}) as Obj;
      const md = isRecord(b.metadata) ? b.metadata : { name: '' };
      const n = typeof md.name === 'string' && md.name !== '' ? md.name : `event.${randomUUID().slice(0, 8)}`;
      if (eventStore.has(`${ns}/${n}`))
        return reply(res, 409, status(409, 'AlreadyExists', `events "${n}" already exists`));
      rv++;
      const ev: Obj = {
        ...b,
        metadata: { ...md, name: n, namespace: ns, uid: randomUUID(), resourceVersion: String(rv) },
      };
      eventStore.set(`${ns}/${n}`, ev);
      return reply(res, 201, ev);
    }
    const ev = eventStore.get(`${ns}/${name}`);
    if (!ev) return reply(res, 404, status(404, 'NotFound', `events "${name}" not found`));
    if (req.method === 'GET') return reply(res, 200, ev);
    if (req.method !== 'PATCH' || !isMergePatch(req))
      return reply(res, 415, status(415, 'UnsupportedMediaType', 'the fake takes merge patches only'));
    rv++;
    const next = mergePatch(ev, body) as Obj;
    next.metadata = { ...next.metadata, resourceVersion: String(rv) };
    eventStore.set(`${ns}/${name}`, next);
    reply(res, 200, next);
  };

  /** Answers a status or Event request; false for anything else. */
  const handleWrites = (req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean => {
    const parts = path.split('/').filter(Boolean);
    const fail = (e: unknown) => reply(res, 500, status(500, 'InternalError', String(e)));
    if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'namespaces' && parts[4] === 'events') {
      if (parts.length > 6) return false;
      handleEvents(req, res, parts[3]!, parts[5]).catch(fail);
      return true;
    }
    if (parts.at(-1) !== 'status') return false;
    const [group, rest] =
      parts[0] === 'apis' ? [parts[1]!, parts.slice(2)] : parts[0] === 'api' ? ['', parts.slice(1)] : [];
    if (group === undefined || !rest) return false;
    let ns: string | undefined;
    let tail = rest.slice(1);
    if (tail[0] === 'namespaces') {
      ns = tail[1];
      tail = tail.slice(2);
    }
    if (tail.length !== 3) return false;
    const r = resources.get(resourceId({ group, version: rest[0]!, plural: tail[0]! }));
    if (!r) return false;
    handleStatus(req, res, r, ns, decodeURIComponent(tail[1]!)).catch(fail);
    return true;
  };

  const fake: FakeKubeApiServer = {
    statusWrites,
    events: () => [...eventStore.values()].map((e) => structuredClone(e)),
    failStatusWrites(n, code) {
      statusFaults = { n, code };
    },
    get port() {
      return port;
    },
    get url() {
      return `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    },
    requests,
    onRequest: undefined,
    async start() {
      const s = options.tls
        ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handle)
        : http.createServer(handle);
      s.on('connection', (sock: Socket) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      port = (s.address() as AddressInfo).port;
      server = s;
      if (options.bookmarkIntervalMs) {
        bookmarkTimer = setInterval(() => fake.bookmark(), options.bookmarkIntervalMs);
        bookmarkTimer.unref();
      }
    },
    async stop() {
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      for (const w of [...watches]) endWatch(w, true);
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
    async restart(opts = {}) {
      await fake.stop();
      if (opts.loseHistory) fake.compact();
      await fake.start();
    },
    serve(r) {
      resources.set(resourceId(r), r);
      if (!stores.has(resourceId(r))) stores.set(resourceId(r), new Map());
    },
    unserve(plural) {
      for (const [id, r] of resources)
        if (r.plural === plural) {
          resources.delete(id);
          stores.delete(id);
          for (const w of [...watches]) if (w.resource === r) endWatch(w, false);
        }
    },
    apply(input) {
      const r = byKind(String(input['kind']), String(input['apiVersion']));
      if (!r)
        throw new Error(
          `fake API server: ${String(input['apiVersion'])} ${String(input['kind'])} is not served`,
        );
      const obj = structuredClone(input) as Obj;
      if (r.namespaced) obj.metadata.namespace ??= 'default';
      else delete obj.metadata.namespace;
      const store = stores.get(resourceId(r))!;
      const old = store.get(keyOf(obj));
      // The status subresource: a write of the object keeps the status it had.
      if (old?.['status'] !== undefined && !('status' in input)) obj['status'] = old['status'];
      rv++;
      obj.metadata = {
        ...obj.metadata,
        uid: old?.metadata['uid'] ?? randomUUID(),
        creationTimestamp: old?.metadata['creationTimestamp'] ?? new Date().toISOString(),
        generation: ((old?.metadata['generation'] as number | undefined) ?? 0) + 1,
        resourceVersion: String(rv),
        managedFields: [{ manager: 'fake', operation: 'Apply' }],
      };
      store.set(keyOf(obj), obj);
      record(old ? 'MODIFIED' : 'ADDED', r, obj);
      return String(rv);
    },
    delete(kind, name, namespace) {
      const r = byKind(kind);
      if (!r) throw new Error(`fake API server: ${kind} is not served`);
      const store = stores.get(resourceId(r))!;
      const key = `${r.namespaced ? (namespace ?? 'default') : ''}/${name}`;
      const old = store.get(key);
      if (!old) throw new Error(`fake API server: ${kind} ${key} not found`);
      store.delete(key);
      rv++;
      const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } };
      record('DELETED', r, gone);
      return String(rv);
    },
    list(kind) {
      const r = byKind(kind);
      return r ? [...stores.get(resourceId(r))!.values()].map((o) => structuredClone(o)) : [];
    },
    resourceVersion: () => rv,
    compact() {
      compactedRv = rv;
      history = [];
      for (const [id, s] of listSnapshots) if (s.rv < compactedRv) listSnapshots.delete(id);
    },
    bookmark() {
      for (const w of watches) if (w.bookmarks) send(w, 'BOOKMARK', bookmarkObject(w.resource));
    },
    dropWatches() {
      for (const w of [...watches]) endWatch(w, true);
    },
    stallWatches(on) {
      stalled = on;
    },
    endWatchesAtOnce(on) {
      endAtOnce = on;
    },
    delayLists(ms) {
      listDelayMs = ms;
    },
    throttle(n, retryAfterSeconds) {
      throttled = { n, retryAfter: retryAfterSeconds };
    },
    failLists(plural, code) {
      if (code === undefined) failing.delete(plural);
      else failing.set(plural, code);
    },
    openWatches: () => watches.size,
    async writeKubeconfig(file) {
      const cluster: Record<string, string | boolean> = { server: fake.url };
      if (options.tls) {
        cluster['certificate-authority-data'] = Buffer.from(options.tls.ca).toString('base64');
        if (options.tls.serverName) cluster['tls-server-name'] = options.tls.serverName;
      } else cluster['insecure-skip-tls-verify'] = true; // the client refuses plain http otherwise
      const user = options.token !== undefined ? { token: options.token } : {};
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster }],
        users: [{ name: 'fake', user }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        'current-context': 'fake',
      };
      await writeFile(file, JSON.stringify(config, null, 2));
    },
  };

  function selects(selector: string, o: Obj): boolean {
    return selector.split(',').every((term) => {
      const [k, v] = term.split('=');
      if (k === undefined || k === '') return true;
      // A field path: `spec.nodeName` → o.spec.nodeName (a missing field is the empty string).
      let at: unknown = o;
      for (const part of k.split('.'))
        at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[part] : undefined;
      return (at === undefined || at === null ? '' : String(at)) === (v ?? '');
    });
  }

  await fake.start();
  return fake;
}

/** The resources of the agent's kinds, as a cluster with Kube-OVN and Multus serves them. */
export const AGENT_RESOURCES: readonly FakeResource[] = [
  ['Vpc', 'vpcs'],
  ['Subnet', 'subnets'],
  ['ProviderNetwork', 'provider-networks'],
  ['Vlan', 'vlans'],
  ['VpcNatGateway', 'vpc-nat-gateways'],
  ['IptablesEIP', 'iptables-eips'],
  ['IptablesSnatRule', 'iptables-snat-rules'],
  ['IptablesDnatRule', 'iptables-dnat-rules'],
  ['IptablesFIPRule', 'iptables-fip-rules'],
]
  .map(([kind, plural]) => ({
    group: 'kubeovn.io',
    version: 'v1',
    plural: plural!,
    kind: kind!,
    namespaced: false,
  }))
  .concat([
    {
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      plural: 'network-attachment-definitions',
      kind: 'NetworkAttachmentDefinition',
      namespaced: true,
    },
  ]);

/** Pods (core v1) and KubeVirt's VirtualMachines: what the agent's workload watch lists. */
export const WORKLOAD_RESOURCES: readonly FakeResource[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  {
    group: 'kubevirt.io',
    version: 'v1',
    plural: 'virtualmachines',
    kind: 'VirtualMachine',
    namespaced: true,
  },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
];
