/**
 * The status writer: writes what the agent knows of each object back to the API server, where
 * Kube-OVN users look (`kubectl get subnet`, `kubectl describe`). What is written is built by
 * ./status-model.ts; this module owns *when* and *how* it is written, never *what*.
 *
 * - A check (debounced after `schedule()`, and every `resyncMs`) builds the intents and compares
 *   each with the object's status as the watch last saw it. Only an object whose status differs
 *   is queued; a converged cluster sends nothing.
 * - Writes are merge patches of the `/status` subresource carrying the resourceVersion they were
 *   computed from (a 409 means someone wrote meanwhile: recomputed from the newer version and
 *   retried). The patch is rebuilt at send time from the freshest view.
 * - A write's answer stands for the object until the watch shows a newer version, so an object
 *   is not written twice because its watch event has not arrived yet.
 * - Rate-limited (a token bucket: `writesPerSecond`, `burst`), at most `maxInFlight` at a time,
 *   retried with exponential backoff on 409, 429 (its `Retry-After`), 5xx and transport errors.
 *   A 404 (object gone) drops the write; another refusal (400, 403, 422) is logged once and not
 *   retried until what is to be written changes.
 * - Validation errors also become Warning Events (core/v1), one per object and field, named by a
 *   hash of what they say: posted once; an error that goes away and comes back bumps `count`.
 * - Nothing here blocks or fails reconciliation: every failure is logged and counted in
 *   `vpc_agent_kube_status_writes_total{kind,result}`.
 */
import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import { KubeApiError } from './api.js';
import { apiVersionOf, type WatchedKind } from './kinds.js';
import type { KubeStatusTarget } from './source.js';
import {
  objectRefKey,
  statusIntents,
  statusPatch,
  validationEvents,
  type EventIntent,
  type ObjectRef,
  type StatusInputs,
  type StatusIntent,
} from './status-model.js';

export interface StatusWriterConfig {
  /** Coalesces a burst of triggers into one check. */
  debounceMs: number;
  /** Periodic check: repairs a status someone else changed, catches what no trigger announced. */
  resyncMs: number;
  writesPerSecond: number;
  burst: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** `source.component` and `reportingComponent` of Events. */
  component: string;
}

/** Defaults, each with its reason. */
export const DEFAULT_STATUS_WRITER_CONFIG: StatusWriterConfig = {
  // A pass's NB echo, IPAM and the NAT pass land within this; one check covers them all, and
  // under constant Northbound churn checks run at most twice a second.
  debounceMs: 500,
  // Cheap when converged (an in-memory compare per object, nothing sent).
  resyncMs: 5_000,
  // Small writes, well inside an API server's mutating budget; 5,000 Subnets' first status in
  // under two minutes (client-go's default of 5/s would take a quarter of an hour).
  writesPerSecond: 50,
  burst: 100,
  // A few at once hide the round trip without crowding the API server.
  maxInFlight: 8,
  requestTimeoutMs: 10_000,
  backoffInitialMs: 500,
  backoffMaxMs: 60_000,
  component: 'vpc-agent',
};

export interface StatusWriterStats {
  /** Writes by `kind/result` (as in the metric). */
  writes: Record<string, number>;
  /** Writes waiting (queued or backing off). */
  pending: number;
  checks: number;
}

export interface StatusWriter {
  start(): void;
  /** Something the status depends on changed: check soon. */
  schedule(reason?: string): void;
  /** Resolves once nothing is queued, in flight or scheduled (tests). */
  settled(): Promise<void>;
  stats(): StatusWriterStats;
  stop(): Promise<void>;
}

export interface StatusWriterDeps {
  target: KubeStatusTarget;
  /** What the agent knows now (read at each check). */
  inputs(): StatusInputs;
  log: Logger;
  registry?: Registry;
}

const WRITES_METRIC = 'vpc_agent_kube_status_writes_total';

type Result = 'ok' | 'conflict' | 'throttled' | 'error' | 'rejected' | 'gone';

interface Task {
  id: string;
  /** The metric's `kind`: the object's kind, or `Event`. */
  label: string;
  attempt: number;
  notBefore: number;
  /** Resolves true when a request was sent (false: nothing to write any more). */
  run(signal: AbortSignal): Promise<boolean>;
}

/** What a successful write left: the object as the server answered, until the watch moves on. */
interface Written {
  /** The version the watch showed when the write was made. */
  fromRv: string | undefined;
  rv: string | undefined;
  status: Record<string, unknown> | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function objectPath(k: WatchedKind, ref: ObjectRef): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  const ns = k.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? 'default')}` : '';
  return `${base}${ns}/${k.plural}/${encodeURIComponent(ref.name)}`;
}

/** Events of a cluster-scoped object go to `default`, as client-go's recorder does. */
const eventNamespace = (ref: ObjectRef) => ref.namespace ?? 'default';

/** A stable Event name: the object's name and a hash of what the Event says. */
export function eventName(e: EventIntent, uid: string | undefined): string {
  const h = createHash('sha256')
    .update([e.ref.kind, e.ref.namespace ?? '', e.ref.name, uid ?? '', e.field, e.message].join('\0'))
    .digest('hex')
    .slice(0, 16);
  return `${e.ref.name.slice(0, 200)}.${h}`;
}

export function createStatusWriter(
  deps: StatusWriterDeps,
  input: Partial<StatusWriterConfig> = {},
): StatusWriter {
  const config: StatusWriterConfig = { ...DEFAULT_STATUS_WRITER_CONFIG, ...input };
  const { target, log } = deps;
  const kinds = new Map(target.kinds.map((k) => [k.kind, k]));
  // One counter per registry (an agent restarted in the same process keeps counting on it).
  const existing = deps.registry?.getSingleMetric(WRITES_METRIC) as Counter<'kind' | 'result'> | undefined;
  const counter = !deps.registry
    ? undefined
    : (existing ??
      new Counter({
        name: WRITES_METRIC,
        help: 'Status and Event writes to the Kubernetes API, by object kind and result (ok, conflict, throttled, error, rejected, gone)',
        labelNames: ['kind', 'result'] as const,
        registers: [deps.registry],
      }));
  const writes: Record<string, number> = {};
  const count = (label: string, result: Result) => {
    writes[`${label}/${result}`] = (writes[`${label}/${result}`] ?? 0) + 1;
    counter?.inc({ kind: label, result });
  };

  const pending = new Map<string, Task>();
  const intents = new Map<string, StatusIntent>();
  const written = new Map<string, Written>();
  /** What a refused write wanted (not retried until that changes). */
  const rejected = new Map<string, string>();
  /** Events posted: name → count, and whether their error is present now. */
  const events = new Map<string, { count: number; active: boolean }>();
  const abort = new AbortController();
  let inFlight = 0;
  let tokens = config.burst;
  let refilledAt = Date.now();
  let started = false;
  let stopped = false;
  let checkTimer: NodeJS.Timeout | undefined;
  let pumpTimer: NodeJS.Timeout | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;
  let checks = 0;
  let idleWaiters: (() => void)[] = [];
  const running = new Set<Promise<void>>();
  const busy = new Set<string>();
  const warned = new Set<string>();
  const eventsRefused = new Set<string>();

  const observed = (ref: ObjectRef) =>
    target.observed(ref.kind, ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name);

  /** The object's status as it stands: the last write's answer while the watch has not moved on. */
  const currentOf = (id: string, ref: ObjectRef) => {
    const obs = observed(ref);
    if (!obs) return undefined;
    const w = written.get(id);
    if (w && w.fromRv === obs.resourceVersion) return { ...obs, resourceVersion: w.rv, status: w.status };
    if (w) written.delete(id);
    return obs;
  };

  const idle = () => pending.size === 0 && inFlight === 0 && checkTimer === undefined;
  const wakeIdle = () => {
    if (!idle()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  const backoff = (attempt: number) =>
    Math.min(config.backoffInitialMs * 2 ** attempt, config.backoffMaxMs) * (0.8 + Math.random() * 0.4);

  /** Classifies a failed request; returns when to retry (undefined: do not). */
  const failed = (t: Task, err: unknown, what: string): number | undefined => {
    const e = err instanceof KubeApiError ? err : undefined;
    const status = e?.status;
    if (status === 409) {
      count(t.label, 'conflict');
      return backoff(t.attempt);
    }
    if (status === 429) {
      count(t.label, 'throttled');
      return e?.retryAfterMs ?? backoff(t.attempt);
    }
    if (status === 404) {
      count(t.label, 'gone');
      log.debug({ what, err: e?.message }, 'status write: object gone');
      return undefined;
    }
    if (status !== undefined && status >= 400 && status < 500) {
      count(t.label, 'rejected');
      // Once per kind and code at warn (missing RBAC refuses every object alike).
      const k = `${t.label}/${status}`;
      if (!warned.has(k)) {
        warned.add(k);
        log.warn({ what, err: e?.message }, 'status write refused by the API server');
      } else log.debug({ what, err: e?.message }, 'status write refused by the API server');
      return undefined;
    }
    count(t.label, 'error');
    const wait = e?.retryAfterMs ?? backoff(t.attempt);
    if (t.attempt === 0 || t.attempt % 5 === 0)
      log.warn(
        { what, err: err instanceof Error ? err.message : String(err), retryInMs: Math.round(wait) },
        'status write failed',
      );
    return wait;
  };

  const statusTask = (id: string, intent: StatusIntent, kind: WatchedKind): Task => ({
    id,
    label: intent.ref.kind,
    attempt: 0,
    notBefore: 0,
    async run(signal) {
      const want = intents.get(id) ?? intent;
      const cur = currentOf(id, want.ref);
      if (!cur) return false;
      const patch = statusPatch(want, cur.status, cur.generation, new Date().toISOString());
      if (!patch) return false;
      const sig = JSON.stringify([want.fields, want.conditions]);
      if (rejected.get(id) === sig) return false; // refused while this task waited
      const answer = await deps.target.api
        .requestJson('PATCH', `${objectPath(kind, want.ref)}/status`, {
          body: {
            metadata: cur.resourceVersion !== undefined ? { resourceVersion: cur.resourceVersion } : {},
            status: patch,
          },
          contentType: 'application/merge-patch+json',
          signal,
          timeoutMs: config.requestTimeoutMs,
        })
        .catch((err: unknown) => {
          // Refused (or no status subresource: 404): not again until what is to be written changes.
          if (
            err instanceof KubeApiError &&
            err.status !== undefined &&
            err.status >= 400 &&
            err.status < 500 &&
            ![409, 429].includes(err.status)
          )
            rejected.set(id, sig);
          throw err;
        });
      const md = isObject(answer) && isObject(answer['metadata']) ? answer['metadata'] : {};
      written.set(id, {
        fromRv: observed(want.ref)?.resourceVersion,
        rv: typeof md['resourceVersion'] === 'string' ? md['resourceVersion'] : undefined,
        status:
          isObject(answer) && isObject(answer['status']) ? answer['status'] : { ...cur.status, ...patch },
      });
      return true;
    },
  });

  const eventTask = (name: string, e: EventIntent, uid: string | undefined, ev: WatchedKind): Task => ({
    id: `event:${name}`,
    label: 'Event',
    attempt: 0,
    notBefore: 0,
    async run(signal) {
      const ns = eventNamespace(e.ref);
      const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/events`;
      const now = new Date().toISOString();
      const opts = { signal, timeoutMs: config.requestTimeoutMs };
      const known = events.get(name);
      if (known?.active) return false; // posted (or bumped) by a task queued before this one ran
      const bump = async (n: number) => {
        await deps.target.api.requestJson('PATCH', `${path}/${name}`, {
          ...opts,
          body: { count: n, lastTimestamp: now },
          contentType: 'application/merge-patch+json',
        });
        events.set(name, { count: n, active: true });
        return true;
      };
      if (known) return bump(known.count + 1);
      try {
        await deps.target.api.requestJson('POST', path, {
          ...opts,
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name, namespace: ns },
            involvedObject: {
              apiVersion: apiVersionOf(ev),
              kind: e.ref.kind,
              name: e.ref.name,
              ...(e.ref.namespace !== undefined ? { namespace: e.ref.namespace } : {}),
              ...(uid !== undefined ? { uid } : {}),
              fieldPath: e.field,
            },
            reason: e.reason,
            message: e.message,
            type: 'Warning',
            source: { component: config.component },
            reportingComponent: config.component,
            reportingInstance: deps.inputs().node,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        });
        events.set(name, { count: 1, active: true });
        return true;
      } catch (err) {
        // Posted before (by an earlier run of this agent, or another writer): it is there.
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
        const old = await deps.target.api.requestJson('GET', `${path}/${name}`, opts);
        const n = isObject(old) && typeof old['count'] === 'number' ? old['count'] : 1;
        events.set(name, { count: n, active: true });
        return true;
      }
    },
  });

  const enqueue = (t: Task) => {
    if (!pending.has(t.id)) pending.set(t.id, t);
  };

  function check() {
    checkTimer = undefined;
    if (stopped) return;
    checks++;
    let inp: StatusInputs;
    try {
      inp = deps.inputs();
    } catch (err) {
      log.warn({ err }, 'status: reading the agent state failed');
      return wakeIdle();
    }
    const now = new Date().toISOString();
    const wanted = new Set<string>();
    const mine = new Set<string>();
    for (const intent of statusIntents(inp)) {
      const kind = kinds.get(intent.ref.kind);
      if (!kind) continue;
      const id = `status:${objectRefKey(intent.ref)}`;
      mine.add(id);
      const cur = currentOf(id, intent.ref);
      if (!cur) continue;
      const sig = JSON.stringify([intent.fields, intent.conditions]);
      if (rejected.get(id) === sig) continue;
      rejected.delete(id);
      if (!statusPatch(intent, cur.status, cur.generation, now)) continue;
      wanted.add(id);
      intents.set(id, intent);
      enqueue(statusTask(id, intent, kind));
    }
    // Events: only the writer reports validation (every agent sees the same errors).
    const present = new Set<string>();
    if (inp.writer) {
      for (const e of validationEvents(inp.snapshot)) {
        const kind = kinds.get(e.ref.kind);
        const obs = observed(e.ref);
        if (!kind || !obs) continue;
        const name = eventName(e, obs.uid);
        present.add(name);
        const st = events.get(name);
        if (st?.active || eventsRefused.has(`event:${name}`)) continue;
        wanted.add(`event:${name}`);
        enqueue(eventTask(name, e, obs.uid, kind));
      }
    }
    for (const [name, st] of events) if (!present.has(name)) st.active = false;
    // Objects this agent no longer writes (deleted, or no longer its own): forget them.
    for (const id of [...written.keys()]) if (!mine.has(id)) written.delete(id);
    for (const id of [...rejected.keys()]) if (!mine.has(id)) rejected.delete(id);
    for (const id of [...pending.keys()]) if (!wanted.has(id)) pending.delete(id);
    for (const id of [...intents.keys()]) if (!pending.has(id)) intents.delete(id);
    pump();
    wakeIdle();
  }

  function pump() {
    if (pumpTimer) clearTimeout(pumpTimer);
    pumpTimer = undefined;
    if (stopped) return;
    const now = Date.now();
    tokens = Math.min(config.burst, tokens + ((now - refilledAt) / 1000) * config.writesPerSecond);
    refilledAt = now;
    let nextAt = Infinity;
    for (const t of [...pending.values()]) {
      if (inFlight >= config.maxInFlight) break;
      if (busy.has(t.id)) continue; // its write in flight: sent (recomputed) after it
      if (t.notBefore > now) {
        nextAt = Math.min(nextAt, t.notBefore);
        continue;
      }
      if (tokens < 1) {
        nextAt = Math.min(nextAt, now + ((1 - tokens) / config.writesPerSecond) * 1000);
        break;
      }
      tokens -= 1;
      pending.delete(t.id);
      busy.add(t.id);
      inFlight++;
      const p = t
        .run(abort.signal)
        .then(
          (sent) => {
            if (sent) count(t.label, 'ok');
          },
          (err: unknown) => {
            if (stopped) return;
            const wait = failed(t, err, t.id);
            // An Event refused (RBAC, a namespace gone) is not posted again by this run.
            if (wait === undefined && t.label === 'Event') eventsRefused.add(t.id);
            if (wait !== undefined && !pending.has(t.id))
              pending.set(t.id, { ...t, attempt: t.attempt + 1, notBefore: Date.now() + wait });
          },
        )
        .finally(() => {
          inFlight--;
          busy.delete(t.id);
          running.delete(p);
          pump();
          wakeIdle();
        });
      running.add(p);
    }
    if (nextAt !== Infinity && !stopped) pumpTimer = setTimeout(pump, Math.max(1, nextAt - Date.now()));
  }

  const writer: StatusWriter = {
    start() {
      if (started) return;
      started = true;
      if (config.resyncMs > 0) {
        resyncTimer = setInterval(() => writer.schedule('resync'), config.resyncMs);
        resyncTimer.unref();
      }
      writer.schedule('start');
    },
    schedule() {
      if (!started || stopped || checkTimer) return;
      checkTimer = setTimeout(check, config.debounceMs);
    },
    settled: () => (idle() ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
    stats: () => ({ writes: { ...writes }, pending: pending.size, checks }),
    async stop() {
      stopped = true;
      if (checkTimer) clearTimeout(checkTimer);
      checkTimer = undefined;
      if (pumpTimer) clearTimeout(pumpTimer);
      if (resyncTimer) clearInterval(resyncTimer);
      abort.abort(new Error('stopped'));
      await Promise.allSettled([...running]);
      pending.clear();
      wakeIdle();
    },
  };
  return writer;
}
