/**
 * Keeps a {@link DatabaseCache} in sync with one database over a JSON-RPC session.
 *
 * Protocol (newest first, falling back when the server answers "unknown method"):
 * - `monitor_cond_since` + `update3` (ovsdb-server(7) §4.1.15-16): sends the last
 *   transaction id we have; if the server still has it in its history (`found`), the
 *   reply holds only the changes since, applied incrementally — a fast resync;
 * - `monitor_cond` + `update2` (§4.1.12, §4.1.14);
 * - `monitor` + `update` (RFC 7047 §4.1.5-6).
 * A sync that is not fast replaces the cache contents and emits only the net changes.
 * Also: `monitor_cond_change` (§4.1.13) to change conditions of the live monitor,
 * `monitor_cancel` (RFC 7047 §4.1.7), the `monitor_canceled` notification and
 * `set_db_change_aware` (§4.1.18) so that a schema change cancels our monitors
 * instead of dropping the connection.
 *
 * The monitor does not own the session: after a reconnect, call {@link Monitor.start}
 * again with the new session; it resumes from the cache's last transaction id.
 */
import { DatabaseCache } from '../cache/database-cache.js';
import { ZERO_UUID } from '../cache/codec.js';
import type { DatabaseSchema } from '../schema.js';
import {
  buildMonitorRequests,
  monitoredColumns,
  OvsdbMonitorError,
  encodeConditions,
  type Condition,
  type MonitorSpec,
} from './requests.js';

/** The part of an RPC session the monitor needs (`RpcConnection` satisfies it). */
export interface MonitorRpc {
  request<T = unknown>(method: string, params: unknown[]): Promise<T>;
  onNotification(method: string, handler: (params: unknown[]) => void | Promise<void>): (() => void) | void;
}

export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';
const METHODS: readonly MonitorMethod[] = ['monitor_cond_since', 'monitor_cond', 'monitor'];

export interface MonitorOptions {
  /** Database name, e.g. `OVN_Northbound`. */
  database: string;
  /** Tables (and per table columns / conditions / select) to monitor. */
  tables: MonitorSpec;
  /** The newest method to try (default `monitor_cond_since`); older ones are tried if unknown. */
  method?: MonitorMethod;
  /** Send `set_db_change_aware` before monitoring (default true). */
  dbChangeAware?: boolean;
  /** Use this cache (built for the same tables/columns) instead of creating one. */
  cache?: DatabaseCache;
  /** Prefix of the monitor ids (the <json-value> of RFC 7047 §4.1.5). */
  idPrefix?: string;
}

/** Outcome of one (re)synchronization. */
export interface SyncResult {
  method: MonitorMethod;
  /** True when `monitor_cond_since` resumed from our last transaction id (only changes were sent). */
  fast: boolean;
  /** `monitor_cond_since`'s <found>, when that method was used. */
  found?: boolean;
  /** Number of row changes the sync applied to the cache. */
  changes: number;
  lastTxnId?: string;
}

type Listener<T> = (value: T) => void;

let nextMonitorSeq = 0;

function isUnknownMethod(err: unknown): boolean {
  const e = err as { error?: unknown; message?: unknown };
  return (
    e?.error === 'unknown method' || (typeof e?.message === 'string' && /unknown method/.test(e.message))
  );
}

export class Monitor {
  readonly cache: DatabaseCache;
  readonly database: string;
  private readonly schema: DatabaseSchema;
  private readonly spec: MonitorSpec;
  private readonly opts: MonitorOptions;
  private rpc: MonitorRpc | undefined;
  private unsubscribe: (() => void)[] = [];
  private id: string | undefined;
  /** Ids whose notifications we apply (two while a condition change is in flight). */
  private readonly acceptedIds = new Set<string>();
  /** Resolves when the running sync has applied its reply; notifications wait for it. */
  private syncing: Promise<unknown> | undefined;
  private negotiated: MonitorMethod | undefined;
  private readonly listeners = {
    sync: new Set<Listener<SyncResult>>(),
    canceled: new Set<Listener<void>>(),
    error: new Set<Listener<unknown>>(),
  };
  /** Outcome of the last (re)sync. */
  lastSync: SyncResult | undefined;
  /** False after `monitor_canceled`, {@link Monitor.cancel} or a failed update, until the next start. */
  active = false;

  constructor(schema: DatabaseSchema, opts: MonitorOptions) {
    this.schema = schema;
    this.database = opts.database;
    this.opts = opts;
    this.spec = Object.fromEntries(Object.entries(opts.tables).map(([t, s]) => [t, { ...s }]));
    this.cache = opts.cache ?? new DatabaseCache(schema, { tables: monitoredColumns(schema, this.spec) });
  }

  /** The method the server accepted last time. */
  get method(): MonitorMethod | undefined {
    return this.negotiated;
  }

  on(event: 'sync', l: Listener<SyncResult>): () => void;
  on(event: 'canceled', l: Listener<void>): () => void;
  /** Errors while applying a notification; the monitor then resyncs by itself. */
  on(event: 'error', l: Listener<unknown>): () => void;
  on(event: 'sync' | 'canceled' | 'error', l: Listener<never>): () => void {
    const set = this.listeners[event] as Set<Listener<never>>;
    set.add(l);
    return () => set.delete(l);
  }

  private emit(event: keyof Monitor['listeners'], value: unknown): void {
    for (const l of this.listeners[event] as Set<(v: unknown) => void>) {
      try {
        l(value);
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  /**
   * Starts (or, on a new session after a reconnect, resumes) monitoring over `rpc`
   * and resolves once the reply has been applied to the cache.
   */
  async start(rpc: MonitorRpc): Promise<SyncResult> {
    // Restarting on the same live session: drop the old server-side monitor first.
    const oldId = this.rpc === rpc && this.active ? this.id : undefined;
    this.detach();
    if (oldId) await rpc.request('monitor_cancel', [oldId]).catch(() => undefined);
    this.rpc = rpc;
    const on = (method: string, fn: (p: unknown[]) => Promise<void> | void) => {
      const off = rpc.onNotification(method, (params) => this.deliver(params, fn));
      if (typeof off === 'function') this.unsubscribe.push(off);
    };
    on('update', (p) => this.onUpdate(p[0], () => this.cache.applyUpdate(p[1])));
    on('update2', (p) => this.onUpdate(p[0], () => this.cache.applyUpdate2(p[1])));
    on('update3', (p) => this.onUpdate(p[0], () => this.cache.applyUpdate3(p[1] as string, p[2])));
    on('monitor_canceled', (p) => this.onCanceled(p[0]));
    // `set_db_change_aware` is pipelined with the monitor request rather than awaited first: a
    // server answers a session's requests in order, so the monitor still starts on a change-aware
    // session, and the sync saves a round trip. Its failure (other than "unknown method") is
    // reported once the sync is done.
    let changeAwareFailure: { err: unknown } | undefined;
    const changeAware =
      this.opts.dbChangeAware === false
        ? undefined
        : rpc.request('set_db_change_aware', [true]).then(
            () => undefined,
            (err: unknown) => {
              if (!isUnknownMethod(err)) changeAwareFailure = { err };
            },
          );
    const result = await this.sync(rpc);
    await changeAware;
    if (changeAwareFailure) throw changeAwareFailure.err;
    return result;
  }

  /** Runs the monitor request, newest method first, and applies its reply. */
  private async sync(rpc: MonitorRpc): Promise<SyncResult> {
    let release!: () => void;
    this.syncing = new Promise<void>((r) => (release = r));
    try {
      const first = METHODS.indexOf(this.negotiated ?? this.opts.method ?? 'monitor_cond_since');
      for (const method of METHODS.slice(first)) {
        const id = `${this.opts.idPrefix ?? 'vpc-agent'}-${this.database}-${++nextMonitorSeq}`;
        this.acceptedIds.clear();
        this.acceptedIds.add(id);
        this.id = id;
        try {
          const result = await this.monitorWith(rpc, method, id);
          this.negotiated = method;
          this.active = true;
          this.lastSync = result;
          this.emit('sync', result);
          return result;
        } catch (err) {
          if (!isUnknownMethod(err) || method === 'monitor') throw err;
        }
      }
      throw new OvsdbMonitorError('OVSDB_MONITOR_UNSUPPORTED', 'no monitor method accepted');
    } finally {
      this.syncing = undefined;
      release();
    }
  }

  private async monitorWith(rpc: MonitorRpc, method: MonitorMethod, id: string): Promise<SyncResult> {
    const db = this.database;
    if (method === 'monitor') {
      const reqs = buildMonitorRequests(this.schema, this.spec, false);
      const contents = await rpc.request('monitor', [db, id, reqs]);
      const changes = await this.cache.replace(contents, 'update', undefined);
      return { method, fast: false, changes: changes.length };
    }
    const reqs = buildMonitorRequests(this.schema, this.spec, true);
    if (method === 'monitor_cond') {
      const contents = await rpc.request('monitor_cond', [db, id, reqs]);
      const changes = await this.cache.replace(contents, 'update2', undefined);
      return { method, fast: false, changes: changes.length };
    }
    const since = this.cache.lastTxnId ?? ZERO_UUID;
    const reply = await rpc.request<unknown>('monitor_cond_since', [db, id, reqs, since]);
    if (!Array.isArray(reply) || reply.length !== 3 || typeof reply[0] !== 'boolean') {
      throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REPLY', `bad monitor_cond_since reply`);
    }
    const [found, lastId, updates] = reply as [boolean, string, unknown];
    const txn = lastId === ZERO_UUID ? undefined : lastId;
    if (found && since !== ZERO_UUID) {
      const changes = await this.cache.applyUpdate3(lastId, updates);
      return { method, fast: true, found, changes: changes.length, lastTxnId: txn };
    }
    const changes = await this.cache.replace(updates, 'update2', txn);
    return { method, fast: false, found, changes: changes.length, lastTxnId: txn };
  }

  /**
   * Hands a notification for one of our monitor ids to `fn`. One for the monitor being
   * set up can only follow its reply on the wire, but may reach us before the reply's
   * continuation ran, so it waits for the sync. Others are dropped without waiting
   * (waiting on a sync whose reply is queued behind them would deadlock).
   */
  private deliver(params: unknown[], fn: (p: unknown[]) => Promise<void> | void): Promise<void> | void {
    const id = params[0];
    if (typeof id !== 'string' || !this.acceptedIds.has(id)) return;
    if (this.syncing) return this.syncing.then(() => fn(params));
    return fn(params);
  }

  private async onUpdate(id: unknown, apply: () => Promise<unknown>): Promise<void> {
    if (typeof id !== 'string' || !this.acceptedIds.has(id) || !this.active) return;
    try {
      await apply();
    } catch (err) {
      // The cache is unchanged but now behind the server: start over with a full sync.
      this.emit('error', err);
      this.active = false;
      this.resyncAfterError();
    }
  }

  /**
   * Cancels the broken monitor and syncs afresh. Never awaited from a notification
   * handler: replies are handed out only after the running handler returns.
   */
  private resyncAfterError(): void {
    const rpc = this.rpc;
    if (!rpc) return;
    const oldId = this.id;
    this.acceptedIds.clear();
    this.cache.lastTxnId = undefined;
    void (async () => {
      if (oldId) await rpc.request('monitor_cancel', [oldId]).catch(() => undefined);
      await this.sync(rpc);
    })().catch((err: unknown) => this.emit('error', err));
  }

  private onCanceled(id: unknown): void {
    if (typeof id !== 'string' || !this.acceptedIds.has(id)) return;
    this.active = false;
    // The database went away or changed schema: the next start must be a full resync.
    this.cache.lastTxnId = undefined;
    this.emit('canceled', undefined);
  }

  /**
   * Replaces the conditions of the given tables on the live monitor
   * (ovsdb-server(7) §4.1.13 `monitor_cond_change`); other tables keep theirs.
   * The server sends the resulting inserts/deletes before its reply.
   */
  async setConditions(where: Record<string, readonly Condition[]>): Promise<void> {
    const rpc = this.rpc;
    const oldId = this.id;
    if (!rpc || !oldId || !this.active)
      throw new OvsdbMonitorError('OVSDB_MONITOR_INACTIVE', 'monitor not running');
    if (this.negotiated === 'monitor') {
      throw new OvsdbMonitorError('OVSDB_MONITOR_UNSUPPORTED', 'server does not support monitor_cond_change');
    }
    const reqs: Record<string, unknown[]> = {};
    for (const [table, conds] of Object.entries(where)) {
      if (!this.spec[table])
        throw new OvsdbMonitorError('OVSDB_MONITOR_BAD_REQUEST', `${table} not monitored`);
      reqs[table] = [{ where: encodeConditions(this.schema, table, conds) }];
    }
    const newId = `${this.opts.idPrefix ?? 'vpc-agent'}-${this.database}-${++nextMonitorSeq}`;
    this.acceptedIds.add(newId);
    try {
      await rpc.request('monitor_cond_change', [oldId, newId, reqs]);
    } catch (err) {
      this.acceptedIds.delete(newId);
      throw err;
    }
    this.acceptedIds.delete(oldId);
    this.id = newId;
    for (const [table, conds] of Object.entries(where))
      (this.spec[table] as { where?: unknown }).where = conds;
  }

  /** Cancels the monitor (RFC 7047 §4.1.7) and stops listening; the cache keeps its rows. */
  async cancel(): Promise<void> {
    const rpc = this.rpc;
    const id = this.id;
    this.active = false;
    this.detach();
    if (rpc && id) await rpc.request('monitor_cancel', [id]);
  }

  private detach(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.acceptedIds.clear();
    this.rpc = undefined;
  }
}
