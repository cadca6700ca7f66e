/**
 * `OvsdbClient` — one database over a reconnecting session to one or more servers, with a
 * monitor cache kept in sync across reconnections, leader-only cluster membership,
 * transactions with unknown-outcome detection, the OVS IDL's build-and-retry loop, and locks.
 *
 * On every (re)connection (ovsdb(7) "Clustered Database Service Model"):
 * 1. vet the member from its `_Server.Database` row (see `cluster.ts`) inside the session's
 *    `accept` hook, and keep watching that row: when the member loses leadership (leader-only)
 *    or its cluster majority, drop the connection so the session moves on;
 * 2. restart the monitor into the same cache — `monitor_cond_since` with the cache's last
 *    transaction id (ovsdb-server(7) §4.1.15) makes this a fast resync when the server still
 *    has that id in its history;
 * 3. re-request every wanted lock (RFC 7047 §4.1.8; locks die with the session).
 * Only then is the connection "online": transactions wait for it.
 */
import { EventEmitter } from 'node:events';
import { DatabaseCache } from '../cache/index.js';
import { Monitor, type MonitorSpec } from '../monitor/index.js';
import { ReconnectingSession, type RpcConnection, type RpcConnectionStats } from '../rpc/index.js';
import { parseSchema, type DatabaseSchema } from '../schema.js';
import { transact, type Operation, type ResultsOf } from '../transaction/index.js';
import { judgeMember, mustLeave, nextMinIndex, schemaVersionWarning } from './cluster.js';
import { ConnectFailureLog } from './connect-log.js';
import { OvsdbClientError, toTryAgain } from './errors.js';
import { LockManager, type LockHandle } from './lock.js';
import {
  NOOP_LOGGER,
  type ClientEvents,
  type ClientLogger,
  type ClientTransactOptions,
  type ConnectedInfo,
  type OvsdbClientOptions,
  type RunOptions,
  type RunResult,
  type TxnBuilder,
} from './options.js';
import { runWithRetry } from './run.js';
import { ServerWatch } from './server-watch.js';
import { WriteTracker } from './write-wait.js';

const STAT_KEYS = ['bytesIn', 'bytesOut', 'messagesIn', 'echoesAnswered', 'probesSent'] as const;

/** `err` as a retryable `OvsdbTryAgainError` when its outcome is unknown, else itself. */
const tryAgainOr = (err: unknown): unknown => toTryAgain(err) ?? err;

interface Waiter {
  resolve: (conn: RpcConnection) => void;
  reject: (err: Error) => void;
}

/** State of the accepted connection. */
interface Link {
  conn: RpcConnection;
  remote: string;
  watch: ServerWatch | undefined;
  off: (() => void) | undefined;
}

export class OvsdbClient extends EventEmitter<ClientEvents> {
  readonly database: string;
  readonly leaderOnly: boolean;
  private readonly log: ClientLogger;
  private readonly session: ReconnectingSession;
  private readonly connectLog: ConnectFailureLog;
  private readonly locks = new LockManager();
  private schemaValue: DatabaseSchema | undefined;
  private cacheValue: DatabaseCache | undefined;
  private monitor: Monitor | undefined;
  private readonly watches = new WeakMap<RpcConnection, ServerWatch | undefined>();
  private link: Link | undefined;
  private online: RpcConnection | undefined;
  private epoch = 0;
  private readonly waiters = new Set<Waiter>();
  private minIndex = 0;
  private lastLeader: string | undefined;
  private closed = false;
  /** Connections whose traffic {@link stats} reads live; closed ones are summed in `closedStats`. */
  private readonly live = new Set<RpcConnection>();
  private readonly closedStats: RpcConnectionStats = {
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    echoesAnswered: 0,
    probesSent: 0,
  };
  private readonly readyP: Promise<void>;
  private readyResolve!: () => void;
  private readyReject!: (err: Error) => void;
  private schemaResolve!: () => void;
  private readonly schemaP: Promise<void>;

  private constructor(private readonly opts: OvsdbClientOptions) {
    super();
    this.database = opts.database;
    this.leaderOnly = opts.leaderOnly ?? true;
    const base = opts.logger ?? NOOP_LOGGER;
    this.log = base.child?.({ module: 'ovsdb', db: opts.database }) ?? base;
    this.connectLog = new ConnectFailureLog(this.log, opts.connectWarnIntervalMs);
    this.readyP = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.readyP.catch(() => undefined);
    this.schemaP = new Promise((resolve) => (this.schemaResolve = resolve));
    if (opts.schema) this.setSchema(opts.schema);
    this.session = new ReconnectingSession(opts.remotes, {
      tls: opts.tls,
      probeIntervalMs: opts.probeIntervalMs,
      minBackoffMs: opts.backoff?.minMs,
      maxBackoffMs: opts.backoff?.maxMs,
      shuffle: opts.shuffle,
      connectTimeoutMs: opts.connectTimeoutMs,
      accept: (conn, remote) => this.accept(conn, remote),
    });
    this.session.on('connected', (conn, remote) => void this.onConnected(conn, remote));
    this.session.on('disconnected', (remote, reason) => this.onDisconnected(remote, reason));
    this.session.on('connectFailed', (remote, err) => {
      this.connectLog.failed(remote, err);
      this.emit('connectFailed', { remote, error: err });
    });
  }

  /**
   * Creates a client and starts connecting. Resolves once the schema is known (at once when
   * `schema` is given, else after the first accepted connection); use {@link ready} to wait
   * for the first sync of the cache.
   */
  static connect(opts: OvsdbClientOptions): Promise<OvsdbClient> {
    return OvsdbClient.create(opts).start();
  }

  /** Creates a client without connecting, so listeners can be added before {@link start}. */
  static create(opts: OvsdbClientOptions): OvsdbClient {
    return new OvsdbClient(opts);
  }

  /** Starts connecting (idempotent); resolves as {@link connect} does. */
  async start(): Promise<this> {
    this.session.start();
    await Promise.race([this.schemaP, this.readyP]);
    if (this.closed) throw new OvsdbClientError('OVSDB_CLIENT_CLOSED', 'client closed while connecting');
    return this;
  }

  /** The schema in use (ours if given, else the server's). */
  get schema(): DatabaseSchema {
    if (!this.schemaValue) throw new OvsdbClientError('OVSDB_NOT_CONNECTED', 'schema not known yet');
    return this.schemaValue;
  }

  /** The replica of the monitored tables; kept across reconnections. */
  get cache(): DatabaseCache {
    if (!this.cacheValue) throw new OvsdbClientError('OVSDB_NOT_CONNECTED', 'schema not known yet');
    return this.cacheValue;
  }

  /** True while a synced connection is available. */
  get isOnline(): boolean {
    return this.online !== undefined && !this.online.isClosed;
  }

  /** The remote of the accepted connection, if any. */
  get remote(): string | undefined {
    return this.link?.remote;
  }

  /** The accepted member as its `_Server.Database` row describes it now (undefined when not connected). */
  get member(): ConnectedInfo | undefined {
    const link = this.link;
    if (!link) return undefined;
    const row = link.watch?.row();
    return { remote: link.remote, model: row?.model, leader: row?.leader, sid: row?.sid, index: row?.index };
  }

  /**
   * Traffic over every connection this client has opened (members it skipped included), summed
   * across reconnects: bytes and messages each way, the server's `echo`s answered and our
   * inactivity probes sent. For metrics; never reset.
   */
  stats(): RpcConnectionStats {
    const out = { ...this.closedStats };
    for (const conn of this.live) {
      const s = conn.stats();
      for (const k of STAT_KEYS) out[k] += s[k];
    }
    return out;
  }

  /** Resolves after the first complete sync of the cache. */
  ready(): Promise<void> {
    return this.readyP;
  }

  /** The handle of lock `name`, requested now and after every reconnection until unlocked. */
  lock(name: string): LockHandle {
    if (this.closed) throw new OvsdbClientError('OVSDB_CLIENT_CLOSED', 'client closed');
    return this.locks.get(name);
  }

  /** Replaces monitor conditions of some tables (ovsdb-server(7) §4.1.13); kept across reconnections. */
  async setConditions(where: Parameters<Monitor['setConditions']>[0]): Promise<void> {
    if (!this.monitor) throw new OvsdbClientError('OVSDB_NOT_CONNECTED', 'no monitor');
    await this.monitor.setConditions(where);
  }

  /**
   * Runs `ops` as one transaction (RFC 7047 §4.1.3) on the synced connection, waiting for one.
   * @throws OvsdbTryAgainError (`OVSDB_TRY_AGAIN`) when the outcome is unknown: the connection
   *   dropped before the reply, or the server reported a "cluster error".
   * @throws OvsdbTransactionError when the server rejected it (nothing applied);
   *   OvsdbValidationError before sending; OvsdbClientError `OVSDB_NOT_CONNECTED`/`OVSDB_WRITE_NOT_SEEN`.
   */
  transact<const O extends readonly Operation[]>(
    ops: O,
    opts: ClientTransactOptions = {},
  ): Promise<ResultsOf<O>> {
    if (this.listenerCount('transaction') === 0) return this.send(ops, opts);
    const t0 = performance.now();
    const seconds = () => (performance.now() - t0) / 1000;
    return this.send(ops, opts).then(
      (results) => {
        this.emit('transaction', { seconds: seconds() });
        return results;
      },
      (error: unknown) => {
        this.emit('transaction', { seconds: seconds(), error });
        throw error;
      },
    );
  }

  private send<const O extends readonly Operation[]>(
    ops: O,
    opts: ClientTransactOptions,
  ): Promise<ResultsOf<O>> {
    const conn = this.online;
    if (!this.closed && conn !== undefined && !conn.isClosed && !(opts.waitForCache && this.monitor)) {
      // Online with nothing to wait for afterwards: straight to the wire, with no promise hop
      // between the caller and `transact` (thousands of pipelined writes each pay for one).
      return transact(conn, this.schema, ops, {
        database: this.database,
        timeoutMs: opts.timeoutMs,
        mapError: (err) => this.failed(conn, err),
      });
    }
    return this.transactWhenOnline(ops, opts);
  }

  private async transactWhenOnline<const O extends readonly Operation[]>(
    ops: O,
    opts: ClientTransactOptions,
  ): Promise<ResultsOf<O>> {
    const conn = await this.whenOnline(opts.connectTimeoutMs);
    const tracker =
      opts.waitForCache && this.monitor ? new WriteTracker(this.cache, (t) => this.watchable(t)) : undefined;
    let results: ResultsOf<O>;
    try {
      results = await transact(conn, this.schema, ops, {
        database: this.database,
        timeoutMs: opts.timeoutMs,
      });
    } catch (err) {
      tracker?.dispose();
      throw this.failed(conn, err);
    }
    if (tracker) await tracker.wait(ops, results as unknown[], opts.waitForCacheMs ?? 5000);
    return results;
  }

  /**
   * The error a failed transaction on `conn` is reported with: `OVSDB_TRY_AGAIN` when its
   * outcome is unknown. After a reply timeout the connection is dropped first: the reply may
   * still come, and only a resync tells whether the transaction committed.
   */
  private failed(conn: RpcConnection, err: unknown): unknown {
    if ((err as { code?: unknown })?.code === 'OVSDB_TIMEOUT') {
      this.log.warn({ remote: this.link?.remote, err }, 'transaction reply timed out; reconnecting');
      void conn.close();
    }
    return tryAgainOr(err);
  }

  /**
   * The OVS IDL pattern: build operations from the synced cache, transact, and when the outcome
   * is unknown (`OVSDB_TRY_AGAIN`) or a `wait`/verify precondition failed ("timed out"), wait
   * for a resync / newer cache and build again — the builder sees whether the earlier attempt
   * committed. Bounded retries with backoff, then `OVSDB_RUN_EXHAUSTED`.
   */
  run(build: TxnBuilder, opts: RunOptions = {}): Promise<RunResult> {
    return runWithRetry(
      {
        cache: () => this.cache,
        epoch: () => this.epoch,
        whenOnline: (ms) => this.whenOnline(ms),
        whenEpochAfter: (e, ms) => this.whenEpochAfter(e, ms),
        transact: (ops, o) => this.transact(ops, o) as Promise<unknown[]>,
      },
      build,
      opts,
    );
  }

  /**
   * Drops the current connection (as `ovs-appctl reconnect` does); the session reconnects,
   * resyncs and re-requests locks as after any failure.
   */
  async reconnect(): Promise<void> {
    await this.link?.conn.close();
  }

  /** Stops reconnecting, closes the connection, releases locks; pending waits reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new OvsdbClientError('OVSDB_CLIENT_CLOSED', 'client closed');
    this.readyReject(err);
    this.schemaResolve();
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
    await this.session.stop();
    this.locks.detach('closed');
  }

  /** Resolves with the online connection, waiting up to `timeoutMs` (default 30 s) for one. */
  private whenOnline(timeoutMs = 30_000): Promise<RpcConnection> {
    if (this.closed) return Promise.reject(new OvsdbClientError('OVSDB_CLIENT_CLOSED', 'client closed'));
    if (this.online && !this.online.isClosed) return Promise.resolve(this.online);
    return this.whenEpochAfter(this.epoch, timeoutMs);
  }

  /** Resolves with the online connection once the client went online after epoch `epoch`. */
  private whenEpochAfter(epoch: number, timeoutMs = 30_000): Promise<RpcConnection> {
    if (this.epoch > epoch && this.online && !this.online.isClosed) return Promise.resolve(this.online);
    return new Promise<RpcConnection>((resolve, reject) => {
      const w: Waiter = {
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new OvsdbClientError('OVSDB_NOT_CONNECTED', `no synced connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  private setSchema(schema: DatabaseSchema): void {
    this.schemaValue = schema;
    const cfg = this.opts.monitor ?? 'all';
    if (cfg !== false) {
      const tables: MonitorSpec =
        cfg === 'all' ? Object.fromEntries([...schema.tables.keys()].map((t) => [t, {}])) : cfg.tables;
      this.monitor = new Monitor(schema, { database: this.database, tables });
      this.cacheValue = this.monitor.cache;
      // ovsdb-server(7) §4.1.17 monitor_canceled (database removed or converted): the cache
      // would go stale, so start over on a fresh connection (the monitor forgot its txn id).
      this.monitor.on('canceled', () => {
        this.log.warn({ remote: this.link?.remote }, 'monitor canceled by the server; reconnecting');
        void this.link?.conn.close();
      });
      this.monitor.on('error', (err) => this.log.warn({ err }, 'bad update; monitor resyncing'));
    } else {
      this.cacheValue = new DatabaseCache(schema, { tables: {} });
    }
    this.schemaResolve();
  }

  /** Counts `conn`'s traffic in {@link stats}: live while open, added to the totals when it closes. */
  private track(conn: RpcConnection): void {
    if (this.live.has(conn)) return;
    this.live.add(conn);
    conn.once('close', () => {
      this.live.delete(conn);
      const s = conn.stats();
      for (const k of STAT_KEYS) this.closedStats[k] += s[k];
    });
  }

  /** Inserts into `table` become visible in the cache (monitored, without conditions). */
  private watchable(table: string): boolean {
    const cfg = this.opts.monitor ?? 'all';
    if (cfg === false) return false;
    if (cfg === 'all') return true;
    const t = cfg.tables[table];
    return t !== undefined && t.where === undefined;
  }

  /** The session's `accept` hook: vet the member from `_Server`, learn or check the schema. */
  private async accept(conn: RpcConnection, remote: string): Promise<boolean> {
    this.track(conn);
    let watch: ServerWatch | undefined;
    try {
      watch = await ServerWatch.start(conn, this.database);
      const row = watch?.row();
      if (watch) {
        const verdict = judgeMember(row, { leaderOnly: this.leaderOnly, minIndex: this.minIndex });
        if (!verdict.accept) {
          watch.detach();
          this.log.debug({ remote, reason: verdict.reason, index: row?.index }, 'member skipped');
          this.emit('memberRejected', { remote, reason: verdict.reason });
          return false;
        }
        this.minIndex = nextMinIndex(this.minIndex, row);
      }
      const text = row?.schema;
      const theirs = text
        ? parseSchema(JSON.parse(text))
        : parseSchema(await conn.request('get_schema', [this.database]));
      if (!this.schemaValue) this.setSchema(theirs);
      else {
        const warning = schemaVersionWarning(this.schemaValue.version, theirs.version);
        if (warning)
          this.log.warn({ remote, ours: this.schemaValue.version, theirs: theirs.version }, warning);
      }
      this.watches.set(conn, watch);
      return !this.closed;
    } catch (err) {
      watch?.detach();
      this.emit('memberRejected', { remote, reason: 'error', error: err as Error });
      // The session reports it as a failed connect (`OVSDB_REMOTE_REFUSED` with this cause),
      // warned about at the rate of any other connect failure.
      throw err;
    }
  }

  private async onConnected(conn: RpcConnection, remote: string): Promise<void> {
    const watch = this.watches.get(conn);
    const link: Link = { conn, remote, watch, off: undefined };
    this.link = link;
    this.connectLog.connected(remote);
    const row = watch?.row();
    this.log.info({ remote, model: row?.model, leader: row?.leader, index: row?.index }, 'connected');
    this.emit('connected', {
      remote,
      model: row?.model,
      leader: row?.leader,
      sid: row?.sid,
      index: row?.index,
    });
    if (row?.model === 'clustered' && row.leader) {
      if (this.lastLeader !== undefined && this.lastLeader !== remote) {
        this.emit('leaderChanged', { remote, previous: this.lastLeader });
      }
      this.lastLeader = remote;
    }
    if (watch) {
      link.off = watch.onChange((r) => {
        this.minIndex = nextMinIndex(this.minIndex, r);
        const why = mustLeave(r, this.leaderOnly);
        if (!why || conn.isClosed) return;
        this.log.info({ remote, reason: why }, 'leaving member');
        if (why === 'not-leader') this.emit('leaderChanged', { remote: undefined, previous: remote });
        void conn.close();
      });
    }
    try {
      if (this.monitor) {
        const res = await this.monitor.start(conn);
        if (conn.isClosed) return;
        this.log.info({ remote, fast: res.fast, method: res.method, changes: res.changes }, 'synced');
        this.emit('synced', { remote, fast: res.fast, method: res.method, changes: res.changes });
      } else {
        this.emit('synced', { remote, fast: false, method: undefined, changes: 0 });
      }
      await this.locks.attach(conn);
      if (conn.isClosed || this.link !== link) return;
      this.online = conn;
      this.epoch++;
      for (const w of this.waiters) w.resolve(conn);
      this.waiters.clear();
      this.readyResolve();
    } catch (err) {
      if (conn.isClosed) return;
      this.log.warn({ remote, err }, 'sync failed; reconnecting');
      void conn.close();
    }
  }

  private onDisconnected(remote: string, reason: Error | undefined): void {
    const link = this.link;
    this.link = undefined;
    this.online = undefined;
    link?.off?.();
    link?.watch?.detach();
    this.locks.detach(this.closed ? 'closed' : 'disconnected');
    this.log.info({ remote, err: reason }, 'disconnected');
    this.emit('disconnected', { remote, reason });
  }
}
