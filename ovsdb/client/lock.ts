/**
 * OVSDB locks (RFC 7047 §4.1.8 "lock"/"steal"/"unlock", §4.1.9 "locked", §4.1.10 "stolen")
 * held across reconnections, for active/standby election: the writer holds a named lock and
 * puts `assertLock(name)` (RFC 7047 §5.2.10 "assert") first in its transactions, so a writer
 * that lost the lock cannot commit ("not owner").
 *
 * Locks belong to a session: they die with the connection (ovsdb-server(1): locks are not
 * replicated, which is one more reason writers use leader-only connections). A
 * {@link LockHandle} therefore re-requests its lock on every new connection until it is
 * unlocked.
 */
import { EventEmitter } from 'node:events';
import type { RpcConnection } from '../rpc/connection.js';
import { OvsdbClientError } from './errors.js';

/** Why ownership ended. */
export type ReleaseReason = 'unlock' | 'disconnected' | 'closed';

/** Events of a {@link LockHandle}. */
export interface LockEvents {
  /** We own the lock now (granted at once, after waiting, or by `steal`). */
  locked: [];
  /** Another client stole the lock (RFC 7047 §4.1.10); the request stays queued on the server. */
  stolen: [];
  /** Ownership ended because we unlocked, the connection dropped, or the client closed. */
  released: [reason: ReleaseReason];
}

/** The lock requests a handle needs from its client. */
interface LockHost {
  current(): RpcConnection | undefined;
  forget(handle: LockHandle): void;
}

/**
 * One named lock wanted by this client. Obtain it with `client.lock(name)`.
 * `acquired` resolves the first time the lock is ours (it rejects with
 * `OVSDB_LOCK_RELEASED` if `unlock()` comes first).
 */
export class LockHandle extends EventEmitter<LockEvents> {
  readonly acquired: Promise<void>;
  private owner = false;
  private wanted = true;
  private resolveAcquired!: () => void;
  private rejectAcquired!: (err: Error) => void;
  /** Incremented per connection so replies from an old connection are ignored. */
  private epoch = 0;

  /** @internal created by {@link LockManager}. */
  constructor(
    readonly name: string,
    private readonly host: LockHost,
  ) {
    super();
    this.acquired = new Promise<void>((resolve, reject) => {
      this.resolveAcquired = resolve;
      this.rejectAcquired = reject;
    });
    this.acquired.catch(() => undefined);
  }

  /** True while this client's current session owns the lock. */
  get isOwner(): boolean {
    return this.owner;
  }

  /**
   * Takes the lock from its owner now (RFC 7047 §4.1.8 "steal"); the victim gets `stolen`.
   * Fails with `OVSDB_NOT_CONNECTED` when the client has no connection.
   */
  async steal(): Promise<void> {
    this.wanted = true;
    const conn = this.host.current();
    if (!conn) throw new OvsdbClientError('OVSDB_NOT_CONNECTED', `steal ${this.name}: not connected`);
    const epoch = this.epoch;
    // ovsdb-server refuses "steal" while this session has a "lock" request for the same name
    // ("must issue \"unlock\" before new \"steal\""), so withdraw that request first.
    if (this.owner) return;
    await conn.request('unlock', [this.name]);
    const reply = await conn.request<{ locked?: boolean }>('steal', [this.name]);
    if (epoch === this.epoch && reply?.locked === true) this.setOwner(true);
  }

  /** Gives the lock up (RFC 7047 §4.1.8 "unlock") and stops re-requesting it. */
  async unlock(): Promise<void> {
    if (!this.wanted) return;
    this.wanted = false;
    this.host.forget(this);
    const conn = this.host.current();
    const wasOwner = this.owner;
    this.owner = false;
    this.rejectAcquired(new OvsdbClientError('OVSDB_LOCK_RELEASED', `lock ${this.name} was unlocked`));
    if (conn && !conn.isClosed) await conn.request('unlock', [this.name]).catch(() => undefined);
    if (wasOwner) this.emit('released', 'unlock');
  }

  /** @internal A new session: request the lock again (RFC 7047 §4.1.8 "lock"). */
  async attach(conn: RpcConnection): Promise<void> {
    if (!this.wanted) return;
    const epoch = ++this.epoch;
    let reply: { locked?: boolean } | undefined;
    try {
      reply = await conn.request<{ locked?: boolean }>('lock', [this.name]);
    } catch (err) {
      // A refusal (not a dropped connection) is permanent: report it through `acquired`.
      if ((err as { code?: unknown }).code === 'OVSDB_RPC_ERROR') this.rejectAcquired(err as Error);
      throw err;
    }
    if (epoch === this.epoch && this.wanted && reply?.locked === true) this.setOwner(true);
  }

  /** @internal The session ended: ownership ended with it. */
  detach(reason: ReleaseReason): void {
    this.epoch++;
    if (this.owner) {
      this.owner = false;
      this.emit('released', reason);
    }
    if (reason === 'closed') {
      this.wanted = false;
      this.rejectAcquired(new OvsdbClientError('OVSDB_CLIENT_CLOSED', `client closed`));
    }
  }

  /** @internal `locked` notification (RFC 7047 §4.1.9). */
  onLocked(): void {
    if (this.wanted) this.setOwner(true);
  }

  /** @internal `stolen` notification (RFC 7047 §4.1.10). */
  onStolen(): void {
    if (!this.owner) return;
    this.owner = false;
    this.emit('stolen');
  }

  private setOwner(v: boolean): void {
    if (this.owner === v) return;
    this.owner = v;
    if (v) {
      this.resolveAcquired();
      this.emit('locked');
    }
  }
}

/** RFC 7047 §3.1 <id>, the syntax of lock names (§4.1.8). */
const LOCK_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The client's set of wanted locks, re-requested on every connection. */
export class LockManager {
  private readonly handles = new Map<string, LockHandle>();
  private conn: RpcConnection | undefined;

  /**
   * The handle for `name` (one per name per client; a second call returns the same one).
   * @throws OvsdbClientError `OVSDB_BAD_LOCK_NAME` unless `name` is an RFC 7047 §3.1 <id>
   *   (letters, digits, `_`, not starting with a digit) — the server rejects anything else.
   */
  get(name: string): LockHandle {
    if (!LOCK_NAME.test(name)) {
      throw new OvsdbClientError('OVSDB_BAD_LOCK_NAME', `lock name ${JSON.stringify(name)} is not an <id>`);
    }
    let h = this.handles.get(name);
    if (!h) {
      h = new LockHandle(name, {
        current: () => (this.conn && !this.conn.isClosed ? this.conn : undefined),
        forget: (handle) => {
          if (this.handles.get(handle.name) === handle) this.handles.delete(handle.name);
        },
      });
      this.handles.set(name, h);
      if (this.conn) void h.attach(this.conn).catch(() => undefined);
    }
    return h;
  }

  /** A new synced session: listen for `locked`/`stolen` and re-request every wanted lock. */
  async attach(conn: RpcConnection): Promise<void> {
    this.conn = conn;
    conn.onNotification('locked', (p) => this.handles.get(String(p[0]))?.onLocked());
    conn.onNotification('stolen', (p) => this.handles.get(String(p[0]))?.onStolen());
    await Promise.all([...this.handles.values()].map((h) => h.attach(conn)));
  }

  /** The session ended. */
  detach(reason: ReleaseReason): void {
    this.conn = undefined;
    for (const h of this.handles.values()) h.detach(reason);
    if (reason === 'closed') this.handles.clear();
  }
}
