/**
 * Pure parsers of the OVN daemons' unixctl replies the OVN health collector reads
 * (./ovn-health.ts). A reply that is not what the command prints (another daemon's socket, a
 * changed format) is an {@link OvsReplyError}; a reply missing optional lines just lacks those
 * fields.
 *
 * Formats, as OVS 3.x / OVN 23.x print them:
 * - ovsdb-server `cluster/status DB` (ovsdb-server(1) "CLUSTER COMMANDS"): the short server id
 *   alone on the first line, then `Key: value` lines — `Name`, `Cluster ID: 5322 (uuid)`,
 *   `Server ID: 6291 (uuid)`, `Address`, `Status: cluster member` (or `joining cluster`,
 *   `disconnected from the cluster (election timeout)`, `leaving cluster`, `left cluster`),
 *   `Role: leader|follower|candidate`, `Term: N`, `Leader: self|<sid>|unknown`,
 *   `Log: [first, last]`, `Entries not yet committed: N`, `Entries not yet applied: N`, then
 *   `Servers:` with one indented line per member. A database that is not clustered answers
 *   an error ({@link isNotClustered}).
 * - ovn-controller `connection-status`: `connected` or `not connected` (its Southbound session).
 * - ovn-northd `status`: `Status: active|standby|paused`; `sb-connection-status` and
 *   `nb-connection-status`: `connected` or `not connected`.
 */
import { OvsReplyError } from './datapath-parse.js';

export type RaftRole = 'leader' | 'follower' | 'candidate';

/** One member's `cluster/status`. */
export interface ClusterStatus {
  database: string;
  /** Server id (uuid). */
  sid: string;
  /** Cluster id (uuid); absent while joining. */
  cid?: string;
  /** Its RAFT address, e.g. `tcp:10.0.0.1:6643`. */
  address?: string;
  /** `cluster member`, `joining cluster`, `disconnected from the cluster (…)`, … */
  status: string;
  /** True for `cluster member` (in the cluster and in contact with a majority). */
  member: boolean;
  role: RaftRole;
  term: number;
  /** This member is the leader (`Leader: self`). */
  leader: boolean;
  /** The leader's short id (`self`: this member's), undefined when unknown. */
  leaderId?: string;
  /** Last entry of the log (`Log: [first, last]`). */
  logIndex?: number;
  /** Entries appended but not yet committed by a majority. */
  uncommitted?: number;
  /** Entries committed but not yet applied to the database. */
  unapplied?: number;
  /** Members listed under `Servers:`. */
  servers: number;
}

const CMD = 'cluster/status';
const ROLES = new Set<string>(['leader', 'follower', 'candidate']);
const UUID = /\(([0-9a-f-]{36})\)/;

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Za-z ]*?): ?(.*)$/.exec(line);
    if (m && !out.has(m[1]!)) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

const count = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
};

/**
 * Whether a unixctl error says the database is not clustered: `unknown cluster` from a server
 * that has clustered databases but not this one, `"cluster/status" is not a valid command` from
 * a server without any (it registers the cluster commands with its first clustered database).
 */
export function isNotClustered(error: string): boolean {
  return /unknown cluster|"cluster\/status" is not a valid command/.test(error);
}

/** Parses `cluster/status <database>`. */
export function parseClusterStatus(text: string): ClusterStatus {
  const f = fields(text);
  const database = f.get('Name');
  if (!database) throw new OvsReplyError(CMD, 'no "Name:" line (not a cluster/status reply)');
  const sid = UUID.exec(f.get('Server ID') ?? '')?.[1];
  if (!sid) throw new OvsReplyError(CMD, `${database}: no readable "Server ID:" line`);
  const role = f.get('Role') ?? '';
  if (!ROLES.has(role))
    throw new OvsReplyError(CMD, `${database}: role "${role}" is not leader, follower or candidate`);
  const term = count(f.get('Term'));
  if (term === undefined) throw new OvsReplyError(CMD, `${database}: no readable "Term:" line`);
  const status = f.get('Status') ?? '';
  const leaderText = f.get('Leader');
  const log = /^\[(\d+), *(\d+)\]$/.exec(f.get('Log') ?? '');
  const serversAt = text.indexOf('\nServers:');
  const servers =
    serversAt < 0
      ? 0
      : text
          .slice(serversAt + '\nServers:'.length)
          .split('\n')
          .filter((l) => /^\s+\S/.test(l)).length;
  const cid = UUID.exec(f.get('Cluster ID') ?? '')?.[1];
  const address = f.get('Address');
  const uncommitted = count(f.get('Entries not yet committed'));
  const unapplied = count(f.get('Entries not yet applied'));
  const logIndex = log ? count(log[2]) : undefined;
  return {
    database,
    sid,
    ...(cid ? { cid } : {}),
    ...(address ? { address } : {}),
    status,
    member: status === 'cluster member',
    role: role as RaftRole,
    term,
    leader: leaderText === 'self',
    ...(leaderText && leaderText !== 'unknown' ? { leaderId: leaderText } : {}),
    ...(logIndex !== undefined ? { logIndex } : {}),
    ...(uncommitted !== undefined ? { uncommitted } : {}),
    ...(unapplied !== undefined ? { unapplied } : {}),
    servers,
  };
}

/** Parses a `connected` / `not connected` reply (ovn-controller `connection-status`, northd's `*-connection-status`). */
export function parseConnectionStatus(command: string, text: string): boolean {
  const t = text.trim();
  if (t === 'connected') return true;
  if (t === 'not connected') return false;
  throw new OvsReplyError(command, `"${t.slice(0, 60)}" is neither "connected" nor "not connected"`);
}

export type NorthdState = 'active' | 'standby' | 'paused';

/** Parses ovn-northd `status`. */
export function parseNorthdStatus(text: string): NorthdState {
  const m = /^Status: (active|standby|paused)$/m.exec(text.trim());
  if (!m)
    throw new OvsReplyError('status', `"${text.trim().slice(0, 60)}" has no "Status: active|standby|paused"`);
  return m[1] as NorthdState;
}
