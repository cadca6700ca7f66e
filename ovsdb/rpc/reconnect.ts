/**
 * A session that stays connected to one of several remotes (e.g. the members of a clustered
 * database, ovsdb(7) "Clustered Database Service Model"), reconnecting with exponential
 * backoff as OVS's reconnect FSM does (lib/reconnect: 1 s doubling up to 8 s by default).
 */
import { EventEmitter } from 'node:events';
import { RpcConnection, type RpcConnectionOptions } from './connection.js';
import { OvsdbConnectionError } from './errors.js';
import { parseRemotes, type Remote } from './transport.js';

/** Options of {@link ReconnectingSession}. */
export interface ReconnectOptions extends RpcConnectionOptions {
  /** First backoff delay after a failed round. Default 1000 ms (OVS `RECONNECT_DEFAULT_MIN_BACKOFF`). */
  minBackoffMs?: number;
  /** Backoff cap. Default 8000 ms (OVS `RECONNECT_DEFAULT_MAX_BACKOFF`). */
  maxBackoffMs?: number;
  /**
   * Try the remotes in a random order (OVS shuffles its remote list so clients spread over
   * cluster members). Default false: the given order.
   */
  shuffle?: boolean;
  /**
   * Vets a fresh connection before it is announced; resolve false (or throw) to close it and
   * move on to the next remote — e.g. the cluster logic skips members that are not the leader.
   */
  accept?: (conn: RpcConnection, remote: string) => Promise<boolean>;
}

/** Events of {@link ReconnectingSession}. */
export interface ReconnectEvents {
  /** A connection was established and accepted; it is {@link ReconnectingSession.current} until `disconnected`. */
  connected: [conn: RpcConnection, remote: string];
  /** The current connection ended (`reason` undefined when closed locally). */
  disconnected: [remote: string, reason: Error | undefined];
  /** Connecting to `remote` failed, or `accept` refused it (`err.code` `OVSDB_REMOTE_REFUSED`). */
  connectFailed: [remote: string, err: Error];
}

/**
 * Connects to the remotes in turn until one is accepted, and again whenever that connection
 * drops. Within a round every remote is tried once without delay (a cluster fails over to
 * the next member at once); after a round in which nothing was accepted, or after a
 * connection that lived shorter than `maxBackoffMs`, the next round waits a backoff delay
 * that starts at `minBackoffMs`, doubles up to `maxBackoffMs`, and is jittered down by up to
 * half so that many agents restarted together do not reconnect in lockstep. A connection
 * that lived at least `maxBackoffMs` resets the backoff (the next round starts at once).
 */
export class ReconnectingSession extends EventEmitter<ReconnectEvents> {
  private readonly remotes: Remote[];
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private conn: RpcConnection | undefined;
  private next = 0;
  private backoffMs = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    remotes: string | readonly string[],
    private readonly options: ReconnectOptions = {},
  ) {
    super();
    this.remotes = parseRemotes(remotes);
    if (options.shuffle) {
      for (let i = this.remotes.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [this.remotes[i], this.remotes[j]] = [this.remotes[j]!, this.remotes[i]!];
      }
    }
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = Math.max(options.maxBackoffMs ?? 8000, this.minBackoffMs);
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.run();
  }

  /** The accepted live connection, if any. */
  current(): RpcConnection | undefined {
    return this.conn;
  }

  /** Stops reconnecting and closes the current connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.conn?.close();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const stable = await this.round();
      if (this.stopped) break;
      this.backoffMs = stable
        ? 0
        : Math.min(Math.max(this.backoffMs * 2, this.minBackoffMs), this.maxBackoffMs);
      if (this.backoffMs > 0) await this.sleep(this.backoffMs * (0.5 + Math.random() * 0.5));
    }
  }

  /**
   * Tries each remote once, starting after the last one used. Returns after the accepted
   * connection (if any) closes: true if it lived at least `maxBackoffMs`.
   */
  private async round(): Promise<boolean> {
    for (let k = 0; k < this.remotes.length && !this.stopped; k++) {
      const remote = this.remotes[this.next]!;
      this.next = (this.next + 1) % this.remotes.length;
      const conn = await this.open(remote);
      if (!conn) continue;
      const since = performance.now();
      const closed = new Promise<Error | undefined>((resolve) => conn.once('close', resolve));
      this.conn = conn;
      this.emit('connected', conn, remote.text);
      const reason = await closed;
      this.conn = undefined;
      this.emit('disconnected', remote.text, reason);
      return performance.now() - since >= this.maxBackoffMs;
    }
    return false;
  }

  private async open(remote: Remote): Promise<RpcConnection | undefined> {
    let conn: RpcConnection;
    try {
      conn = await RpcConnection.connect(remote, this.options);
    } catch (err) {
      this.emit('connectFailed', remote.text, err as Error);
      return undefined;
    }
    let ok = !this.stopped;
    if (ok && this.options.accept) {
      try {
        ok = await this.options.accept(conn, remote.text);
        if (!ok) this.emit('connectFailed', remote.text, refused(remote.text));
      } catch (err) {
        ok = false;
        this.emit('connectFailed', remote.text, refused(remote.text, err));
      }
    }
    if (!ok || this.stopped || conn.isClosed) {
      await conn.close();
      return undefined;
    }
    return conn;
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }
}

function refused(remote: string, cause?: unknown): Error {
  return new OvsdbConnectionError('OVSDB_REMOTE_REFUSED', `${remote}: refused by accept()`, { cause });
}
