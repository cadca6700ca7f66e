/**
 * Rate-limited warnings for a remote that cannot be reached. The session retries every few
 * seconds for as long as the server is down; one warning per attempt would bury everything
 * else in the log. Per remote: the first failure is a warning at once, later ones are counted
 * and reported at most once per `intervalMs` (the OVS IDL rate-limits its "connection attempt
 * failed" messages the same way), and the first success after failures says how many there
 * were. Every attempt still goes to `debug`.
 *
 * A member refused by the client's own verdict (not the leader, stale) is not a failure here:
 * failing over to the next cluster member is routine and logged where it is decided. A member
 * whose vetting failed with an error (the server dropped us after the TLS handshake, a bad
 * `_Server` reply) is: the refusal carries that error as its cause, which is what is logged.
 */
import type { ClientLogger } from './options.js';

/** Default interval between two warnings about the same remote. */
export const CONNECT_WARN_INTERVAL_MS = 30_000;

interface RemoteFailures {
  /** Failures since the last success. */
  total: number;
  /** Failures since the last warning. */
  unreported: number;
  /** When the last warning was logged. */
  warnedAt: number;
  /** When the first failure since the last success happened. */
  since: number;
}

export class ConnectFailureLog {
  private readonly remotes = new Map<string, RemoteFailures>();

  constructor(
    private readonly log: ClientLogger,
    private readonly intervalMs: number = CONNECT_WARN_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** One failed attempt to connect to `remote`. */
  failed(remote: string, error: Error): void {
    this.log.debug({ remote, err: error }, 'connect failed');
    const refused = (error as { code?: unknown }).code === 'OVSDB_REMOTE_REFUSED';
    if (refused && !(error.cause instanceof Error)) return;
    const err = refused ? (error.cause as Error) : error;
    const t = this.now();
    const s = this.remotes.get(remote);
    // Connection errors name their remote already.
    const why = err.message.startsWith(remote) ? err.message : `${remote}: ${err.message}`;
    if (!s) {
      this.remotes.set(remote, { total: 1, unreported: 0, warnedAt: t, since: t });
      this.log.warn({ remote, err }, `cannot connect to ${why}; retrying`);
      return;
    }
    s.total++;
    s.unreported++;
    if (t - s.warnedAt < this.intervalMs) return;
    const seconds = Math.round((t - s.warnedAt) / 1000);
    this.log.warn(
      { remote, err, failures: s.unreported, total: s.total, downForMs: t - s.since },
      `still cannot connect to ${remote}: ${s.unreported} failed attempts in ${seconds} s (last: ${err.message})`,
    );
    s.unreported = 0;
    s.warnedAt = t;
  }

  /** A connection to `remote` was accepted: ends its run of failures. */
  connected(remote: string): void {
    const s = this.remotes.get(remote);
    if (!s) return;
    this.remotes.delete(remote);
    this.log.info(
      { remote, failures: s.total, downForMs: this.now() - s.since },
      `connected to ${remote} after ${s.total} failed attempts`,
    );
  }
}
