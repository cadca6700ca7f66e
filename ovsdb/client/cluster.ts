/**
 * Which member of a (possibly clustered) database a client may use, decided from that
 * member's `_Server.Database` row (ovsdb-server(5) "Database TABLE"; ovsdb(7) "Clustered
 * Database Service Model" and "Understanding Cluster Consistency").
 *
 * Pure functions only: the client feeds them the row it monitors on each connection.
 */
import type { server } from '../models/index.js';

/** The `_Server.Database` columns the decision reads. */
export type ServerDatabaseRow = Pick<
  server.Database,
  'name' | 'model' | 'connected' | 'leader' | 'index' | 'schema'
>;

/** Why a member is refused. */
export type RejectReason =
  /** The server does not host the database (no `_Server.Database` row for it). */
  | 'no-database'
  /** A clustered member whose `schema` is still empty: it has not finished joining. */
  | 'not-joined'
  /** Not in contact with a majority of its cluster (or with its relay source). */
  | 'disconnected'
  /** Not the leader while the client wants the leader only. */
  | 'not-leader'
  /** Its `index` is behind a log index the client has already seen elsewhere: stale data. */
  | 'stale';

export type MemberVerdict = { accept: true } | { accept: false; reason: RejectReason };

export interface JudgeOptions {
  /** Accept only the cluster leader (writers: no forwarding, fresh reads). */
  leaderOnly: boolean;
  /** The highest `index` seen so far on any member (0 when none). */
  minIndex: number;
}

/**
 * Decides whether to use a member, as the OVS IDL does for clustered databases:
 * - no row for the database → `no-database`;
 * - `clustered` with an empty `schema` → `not-joined` (the schema stays empty until it joins);
 * - `clustered`/`relay` with `connected` false → `disconnected` (its data may be stale and it
 *   cannot commit);
 * - `clustered`, `leaderOnly` and `leader` false → `not-leader`;
 * - `clustered` with `index` lower than `minIndex` → `stale` (ovsdb-server(5) `index`: "it can
 *   ensure that it never sees an older snapshot of data by avoiding servers that have index less
 *   than the largest value they have already observed").
 * Standalone (and active-backup) databases are always accepted; relays only need `connected`
 * (their `leader` is always false, so leader-only does not apply to them).
 */
export function judgeMember(row: ServerDatabaseRow | undefined, opts: JudgeOptions): MemberVerdict {
  if (!row) return { accept: false, reason: 'no-database' };
  if (row.model === 'standalone') return { accept: true };
  if (!row.connected) return { accept: false, reason: 'disconnected' };
  if (row.model === 'relay') return { accept: true };
  if (!row.schema) return { accept: false, reason: 'not-joined' };
  if (opts.leaderOnly && !row.leader) return { accept: false, reason: 'not-leader' };
  if (row.index !== undefined && row.index < opts.minIndex) return { accept: false, reason: 'stale' };
  return { accept: true };
}

/**
 * Whether a member the client is using must be dropped because its row changed: it lost
 * leadership (leader-only), lost its cluster majority, or the database was removed.
 * Returns the reason, or undefined to keep the connection.
 */
export function mustLeave(row: ServerDatabaseRow | undefined, leaderOnly: boolean): RejectReason | undefined {
  if (!row) return 'no-database';
  if (row.model === 'standalone') return undefined;
  if (!row.connected) return 'disconnected';
  if (row.model === 'clustered' && leaderOnly && !row.leader) return 'not-leader';
  return undefined;
}

/** The new highest seen index after observing `row` (indexes only grow per member). */
export function nextMinIndex(minIndex: number, row: ServerDatabaseRow | undefined): number {
  const i = row?.index;
  return i !== undefined && i > minIndex ? i : minIndex;
}

/**
 * Compares our schema's version with the server's (RFC 7047 §3.1 `version` is
 * "major.minor.patch"; ovsdb-server(1) `--schema` upgrades bump minor/patch for compatible
 * additions and major for incompatible changes). Returns a warning text when the majors
 * differ (or a version is malformed), undefined when compatible.
 */
export function schemaVersionWarning(ours: string, theirs: string): string | undefined {
  const major = (v: string) => (/^(\d+)\.\d+\.\d+$/.exec(v) ?? [])[1];
  const a = major(ours);
  const b = major(theirs);
  if (a === undefined || b === undefined) return `cannot compare schema versions ${ours} and ${theirs}`;
  if (a !== b) return `schema version ${ours} is not compatible with the server's ${theirs} (major differs)`;
  return undefined;
}
