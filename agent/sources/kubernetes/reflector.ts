/**
 * One kind's list+watch loop and its cache: the objects of the kind as of `resourceVersion`.
 *
 * - **List** in pages (`limit`/`continue`); the new cache replaces the old one only when the last
 *   page arrived, so a list that fails half-way changes nothing.
 * - **Watch** from the list's `resourceVersion` with `allowWatchBookmarks`; every event and
 *   bookmark advances the version, so a re-watch resumes where the last one stopped and nothing
 *   is listed twice.
 * - A watch the server ends (its `timeoutSeconds`) is re-opened at once. A broken connection,
 *   an API server that restarts, 5xx and 429 are retried with backoff (429/503 after the
 *   server's `Retry-After`). A watch with nothing received for `idleTimeoutMs`, or open past
 *   its own timeout, is stuck: it is dropped and re-opened.
 * - **410 Gone** (the version was compacted, a continue token expired): list again. Until that
 *   list completes the cache keeps every object it had and the kind is *relisting* — incomplete,
 *   so nothing is pruned on objects the new list has not confirmed yet.
 * - **404** (the kind's CRD is not installed): the kind is *missing*, retried with backoff.
 * - An event that leaves the kept document unchanged (a `status` write, a resourceVersion bump)
 *   advances the version and the object's {@link ObservedObject} but is not a change: nothing
 *   downstream runs for it, so status written back never feeds a reconcile pass.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../log.js';
import { isGone, isNotFound, KubeApiError, STUCK, statusError, type KubeApi } from './api.js';
import { collectionPath, objectKey, type WatchedKind } from './kinds.js';

export interface ReflectorTiming {
  /** Objects per list page. */
  pageSize: number;
  /** `timeoutSeconds` asked of the server for each watch. */
  watchTimeoutSeconds: number;
  /** A watch with nothing (not even a bookmark) for this long is stuck. */
  idleTimeoutMs: number;
  /** One list page must answer within this long. */
  requestTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface ReflectorCounters {
  lists: number;
  pages: number;
  watches: number;
  events: number;
  /** Events that left the kept document as it was (status writes): no change delivered. */
  unchanged: number;
  bookmarks: number;
  /** 410 Gone answers (each leads to a list). */
  gone: number;
  /** Watches dropped as stuck (idle, or open past their timeout). */
  stuck: number;
  /** 429 answers. */
  throttled: number;
  errors: number;
}

/** Every counter at zero. */
export function emptyCounters(): ReflectorCounters {
  return {
    unchanged: 0,
    lists: 0,
    pages: 0,
    watches: 0,
    events: 0,
    bookmarks: 0,
    gone: 0,
    stuck: 0,
    throttled: 0,
    errors: 0,
  };
}

/** What the server says of an object beside its kept document: for writing its status back. */
export interface ObservedObject {
  uid: string | undefined;
  resourceVersion: string | undefined;
  generation: number | undefined;
  /** The object's `status` as last seen (undefined when it has none). */
  status: Record<string, unknown> | undefined;
}

export interface ReflectorState {
  kind: string;
  resourceVersion: string | undefined;
  /** The first list completed. */
  listed: boolean;
  /** A 410 forced a list that has not completed yet. */
  relisting: boolean;
  /** The API server does not serve the kind (404). */
  missing: boolean;
  objects: number;
  lastError: string | undefined;
}

export interface Reflector {
  readonly kind: WatchedKind;
  /** Current objects (as `transform` keeps them), by key; a map handed out is never changed afterwards. */
  objects(): ReadonlyMap<string, Record<string, unknown>>;
  state(): ReflectorState;
  /** The server's view of one object (by key), as of the latest list or event. */
  observed(key: string): ObservedObject | undefined;
  counters(): ReflectorCounters;
  /** Why the kind cannot vouch for its objects now; undefined when it can. */
  incomplete(): string | undefined;
  start(): void;
  /** Resolves once the first list succeeded or failed. */
  readonly firstAttempt: Promise<void>;
  /** Lists again now (the watch is dropped); resolves when that list settled. */
  resync(): Promise<void>;
  stop(): Promise<void>;
}

class Resync extends Error {}

/** A `Retry-After` is honoured up to this long (a wrong header must not stop the source). */
const MAX_RETRY_AFTER_MS = 60_000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

export function createReflector(deps: {
  api: KubeApi;
  kind: WatchedKind;
  timing: ReflectorTiming;
  log: Logger;
  /** Called after every change of objects or state (the caller batches). */
  onChange: () => void;
  fieldSelector?: string;
  /**
   * What the cache keeps of an object (default: all of it). Trimming at the door — dropping
   * managedFields and status — keeps the cache as small as what is used.
   */
  transform?: (obj: Record<string, unknown>) => Record<string, unknown>;
}): Reflector {
  const { api, kind, timing, log, onChange } = deps;
  const transform = deps.transform ?? ((o: Record<string, unknown>) => o);
  const path = collectionPath(kind);
  let objects = new Map<string, Record<string, unknown>>();
  /** `objects` was handed out: the next change copies it first (readers never see a change). */
  let shared = false;
  const writable = () => {
    if (shared) {
      objects = new Map(objects);
      shared = false;
    }
    return objects;
  };
  let rv: string | undefined;
  let listed = false;
  let relisting = false;
  let missing = false;
  let needList = true;
  let lastError: string | undefined;
  let stopped = false;
  const stop = new AbortController();
  let current: AbortController | undefined;
  let loop: Promise<void> | undefined;
  let delay = timing.backoffInitialMs;
  let goneStreak = 0;
  let resyncWaiters: (() => void)[] = [];
  const counters = emptyCounters();
  let settleFirst!: () => void;
  const firstAttempt = new Promise<void>((r) => (settleFirst = r));
  const listSettled = () => {
    settleFirst();
    const w = resyncWaiters;
    resyncWaiters = [];
    for (const f of w) f();
  };
  const fields = deps.fieldSelector ? { fieldSelector: deps.fieldSelector } : {};
  let observed = new Map<string, ObservedObject>();
  const observe = (md: Record<string, unknown>, obj: Record<string, unknown>): ObservedObject => ({
    uid: typeof md['uid'] === 'string' ? md['uid'] : undefined,
    resourceVersion: typeof md['resourceVersion'] === 'string' ? md['resourceVersion'] : undefined,
    generation: typeof md['generation'] === 'number' ? md['generation'] : undefined,
    status: isObject(obj['status']) ? obj['status'] : undefined,
  });

  const list = async (signal: AbortSignal) => {
    counters.lists++;
    const next = new Map<string, Record<string, unknown>>();
    const nextObserved = new Map<string, ObservedObject>();
    let cont: string | undefined;
    let version: string | undefined;
    do {
      const page = await api.getJson(
        path,
        { limit: timing.pageSize, ...(cont ? { continue: cont } : {}), ...fields },
        { signal, timeoutMs: timing.requestTimeoutMs },
      );
      counters.pages++;
      if (!isObject(page) || !Array.isArray(page['items']))
        throw new KubeApiError(`list ${path}: the answer is not a list`);
      for (const item of page['items'] as unknown[]) {
        if (isObject(item) && isObject(item['metadata'])) {
          const key = objectKey(kind, item['metadata']);
          next.set(key, transform(item));
          nextObserved.set(key, observe(item['metadata'], item));
        }
      }
      const md = isObject(page['metadata']) ? page['metadata'] : {};
      version = typeof md['resourceVersion'] === 'string' ? md['resourceVersion'] : undefined;
      cont = typeof md['continue'] === 'string' && md['continue'] !== '' ? md['continue'] : undefined;
    } while (cont);
    objects = next;
    observed = nextObserved;
    shared = false;
    rv = version;
    listed = true;
    relisting = false;
    missing = false;
    needList = false;
    lastError = undefined;
    delay = timing.backoffInitialMs;
    goneStreak = 0;
    log.debug({ kind: kind.kind, objects: next.size, resourceVersion: rv }, 'listed');
    onChange();
  };

  const apply = (event: unknown) => {
    if (!isObject(event)) throw new KubeApiError(`watch ${path}: an event is not an object`);
    const type = event['type'];
    const obj = event['object'];
    if (type === 'ERROR') throw statusError(obj);
    if (!isObject(obj) || !isObject(obj['metadata']))
      throw new KubeApiError(`watch ${path}: a ${String(type)} event without an object`);
    const md = obj['metadata'];
    if (typeof md['resourceVersion'] === 'string') rv = md['resourceVersion'];
    if (type === 'BOOKMARK') {
      counters.bookmarks++;
      return;
    }
    counters.events++;
    const key = objectKey(kind, md);
    if (type === 'ADDED' || type === 'MODIFIED') {
      observed.set(key, observe(md, obj));
      const doc = transform(obj);
      const prev = objects.get(key);
      // A status write or a metadata bump the kept document does not show: not a change.
      if (prev !== undefined && isDeepStrictEqual(prev, doc)) {
        counters.unchanged++;
        return;
      }
      writable().set(key, doc);
    } else if (type === 'DELETED') {
      observed.delete(key);
      if (!objects.has(key)) return;
      writable().delete(key);
    } else {
      throw new KubeApiError(`watch ${path}: unknown event type ${JSON.stringify(type)}`);
    }
    onChange();
  };

  const watchOnce = async (signal: AbortSignal) => {
    counters.watches++;
    // A watch open past its own timeout (plus the idle margin) is stuck, however busy.
    const deadline = setTimeout(
      () =>
        current?.abort(
          new KubeApiError(`watch ${path}: still open past its ${timing.watchTimeoutSeconds} s timeout`, {
            reason: STUCK,
          }),
        ),
      timing.watchTimeoutSeconds * 1000 + timing.idleTimeoutMs,
    );
    const opened = Date.now();
    let received = 0;
    try {
      await api.watch(
        path,
        {
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: timing.watchTimeoutSeconds,
          ...fields,
        },
        {
          signal,
          idleTimeoutMs: timing.idleTimeoutMs,
          onEvent: (e) => {
            received++;
            apply(e);
          },
        },
      );
      // Ended at once with nothing (a proxy closing it, say): back off rather than spin.
      if (received === 0 && Date.now() - opened < Math.min(1000, timing.watchTimeoutSeconds * 500))
        throw new KubeApiError(`watch ${path}: ended at once without a single event`);
      delay = timing.backoffInitialMs;
      lastError = undefined;
    } finally {
      clearTimeout(deadline);
    }
  };

  const failed = (e: unknown): number => {
    counters.errors++;
    const message = e instanceof Error ? e.message : String(e);
    if (isGone(e)) {
      counters.gone++;
      // A second 410 in a row (a continue token expiring again) waits like any failure.
      const wait = goneStreak++ === 0 ? 0 : delay;
      delay = Math.min(delay * 2, timing.backoffMaxMs);
      needList = true;
      if (listed && !relisting) {
        relisting = true;
        onChange();
      }
      log.info({ kind: kind.kind, err: message }, 'resource version gone: listing again');
      return wait;
    }
    if (e instanceof KubeApiError && e.reason === STUCK) {
      counters.stuck++;
      log.warn({ kind: kind.kind, err: message }, 'watch stuck: re-opening it');
      return 0;
    }
    if (isNotFound(e)) {
      needList = true;
      if (!missing) {
        missing = true;
        onChange();
      }
    }
    if (e instanceof KubeApiError && e.status === 429) counters.throttled++;
    const wait =
      e instanceof KubeApiError && e.retryAfterMs !== undefined
        ? Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS)
        : delay * (0.8 + Math.random() * 0.4);
    delay = Math.min(delay * 2, timing.backoffMaxMs);
    if (lastError !== message) {
      lastError = message;
      log.warn({ kind: kind.kind, err: message, retryInMs: Math.round(wait) }, 'list/watch failed');
      if (!listed || relisting || missing) onChange();
    }
    return wait;
  };

  const run = async () => {
    while (!stopped) {
      current = new AbortController();
      const signal = AbortSignal.any([stop.signal, current.signal]);
      let wait = 0;
      try {
        if (needList) {
          try {
            await list(signal);
          } finally {
            if (!current.signal.aborted) listSettled();
          }
        }
        await watchOnce(signal);
      } catch (e) {
        if (stopped) break;
        const reason = current.signal.reason as unknown;
        if (current.signal.aborted && reason instanceof Resync) {
          needList = true;
          continue;
        }
        wait = failed(current.signal.aborted ? reason : e);
      }
      if (wait > 0) await sleep(wait, stop.signal);
    }
  };

  return {
    kind,
    objects() {
      shared = true;
      return objects;
    },
    counters: () => ({ ...counters }),
    observed: (key) => observed.get(key),
    state: () => ({
      kind: kind.kind,
      resourceVersion: rv,
      listed,
      relisting,
      missing,
      objects: objects.size,
      lastError,
    }),
    incomplete() {
      const k = kind.kind;
      const api = `${kind.group}/${kind.version} ${kind.plural}`;
      if (missing)
        return `${k}: the API server does not serve ${api} (is its CRD installed?)${listed ? '; its last known objects are kept' : ''}`;
      if (!listed) return `${k}: not listed yet${lastError ? `: ${lastError}` : ''}`;
      if (relisting)
        return `${k}: listing again after 410 Gone; objects are kept until the list completes${lastError ? ` (${lastError})` : ''}`;
      return undefined;
    },
    firstAttempt,
    start() {
      loop ??= run();
    },
    resync() {
      if (stopped) return Promise.resolve();
      const p = new Promise<void>((r) => resyncWaiters.push(r));
      needList = true;
      current?.abort(new Resync('resync'));
      return p;
    },
    async stop() {
      stopped = true;
      stop.abort(new Error('stopped'));
      listSettled();
      await loop;
    },
  };
}
