/**
 * One NB or SB database member, read for the OVN health metrics (./ovn-health.ts), from the
 * best source at hand:
 * - its control socket, where reachable (on the node that runs the ovsdb-server):
 *   `cluster/status <database>` over unixctl — role, term, leader, commit and apply backlog
 *   (./ovn-parse.ts); a standalone server answers `unknown cluster`;
 * - otherwise its `_Server` database (ovsdb-server(5) "Database TABLE"), one `select` of the
 *   database's row over a short connection to the member's remote: model, `connected` (in
 *   contact with a majority), `leader` and `index`. The term and the backlogs are not in
 *   `_Server`, so members read this way have no such series.
 * Never throws: a member that cannot be read is `up: false` with the reason.
 */
import { RpcConnection, unixctl, UnixctlError, type TlsOptions } from '../../ovsdb/index.js';
import { OvsReplyError } from './datapath-parse.js';
import { isNotClustered, parseClusterStatus, type RaftRole } from './ovn-parse.js';

export type OvnDatabase = 'OVN_Northbound' | 'OVN_Southbound';

/** Where to read one member: its control socket, else its database remote. */
export type MemberSource = { database: OvnDatabase } & ({ ctl: string } | { remote: string });

/** One member as read. */
export interface MemberSample {
  database: OvnDatabase;
  /** The control socket path or the remote: the `member` label. */
  member: string;
  source: 'unixctl' | '_Server';
  up: boolean;
  /** Why it could not be read (when `up` is false, or the reply was unreadable). */
  error?: string;
  model?: 'clustered' | 'standalone';
  /** Clustered only. */
  role?: RaftRole;
  leader?: boolean;
  /** In the cluster and in contact with a majority. */
  connected?: boolean;
  term?: number;
  uncommitted?: number;
  unapplied?: number;
  /** Last log index (unixctl) or `_Server.index` (the last applied). */
  index?: number;
}

export interface ReadMemberOptions {
  timeoutMs: number;
  /** For `ssl:` remotes. */
  tls?: TlsOptions;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The `member` label of a source. */
export const memberName = (s: MemberSource): string => ('ctl' in s ? s.ctl : s.remote);

/** Reads one member; never throws. */
export async function readMember(source: MemberSource, opts: ReadMemberOptions): Promise<MemberSample> {
  const base = { database: source.database, member: memberName(source) };
  if ('ctl' in source) {
    try {
      const text = await unixctl(source.ctl, 'cluster/status', [source.database], {
        timeoutMs: opts.timeoutMs,
      });
      return { ...base, source: 'unixctl', up: true, ...clusterFields(text) };
    } catch (err) {
      if (err instanceof UnixctlError && err.code === 'OVSDB_UNIXCTL_ERROR' && isNotClustered(err.message))
        return { ...base, source: 'unixctl', up: true, model: 'standalone' };
      // An unreadable reply came from a running server: it is up, its cluster state unknown.
      if (err instanceof OvsReplyError) return { ...base, source: 'unixctl', up: true, error: err.message };
      return { ...base, source: 'unixctl', up: false, error: errorText(err) };
    }
  }
  let conn: RpcConnection | undefined;
  try {
    conn = await RpcConnection.connect(source.remote, {
      probeIntervalMs: 0,
      connectTimeoutMs: opts.timeoutMs,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    const reply = await conn.request<unknown>(
      'transact',
      [
        '_Server',
        {
          op: 'select',
          table: 'Database',
          where: [['name', '==', source.database]],
          columns: ['model', 'connected', 'leader', 'index'],
        },
      ],
      { timeoutMs: opts.timeoutMs },
    );
    return { ...base, source: '_Server', up: true, ...serverFields(source.database, reply) };
  } catch (err) {
    if (err instanceof OvsReplyError) return { ...base, source: '_Server', up: true, error: err.message };
    return { ...base, source: '_Server', up: false, error: errorText(err) };
  } finally {
    await conn?.close();
  }
}

function clusterFields(text: string): Partial<MemberSample> {
  const s = parseClusterStatus(text);
  return {
    model: 'clustered',
    role: s.role,
    leader: s.leader,
    connected: s.member,
    term: s.term,
    ...(s.uncommitted !== undefined ? { uncommitted: s.uncommitted } : {}),
    ...(s.unapplied !== undefined ? { unapplied: s.unapplied } : {}),
    ...(s.logIndex !== undefined ? { index: s.logIndex } : {}),
  };
}

/**
 * The fields of a `_Server` select reply (`[{rows: [{model, connected, leader, index}]}]`).
 * @throws OvsReplyError when the reply has no row for the database or the row is unreadable.
 */
export function serverFields(database: string, reply: unknown): Partial<MemberSample> {
  const what = `_Server select of ${database}`;
  const rows = (Array.isArray(reply) ? (reply[0] as { rows?: unknown })?.rows : undefined) as
    Record<string, unknown>[] | undefined;
  if (!Array.isArray(rows)) throw new OvsReplyError(what, 'no rows in the reply');
  const row = rows[0];
  if (!row) throw new OvsReplyError(what, `the server has no database ${database}`);
  const model = row['model'];
  if (model === 'standalone' || model === 'relay') return { model: 'standalone' };
  if (model !== 'clustered')
    throw new OvsReplyError(what, `model "${String(model)}" is not clustered or standalone`);
  const { connected, leader, index } = row;
  if (typeof connected !== 'boolean' || typeof leader !== 'boolean')
    throw new OvsReplyError(what, '"connected" or "leader" is not a boolean');
  // `index` is an optional integer: a bare number, or ["set", []] when unknown.
  const idx = typeof index === 'number' && Number.isSafeInteger(index) ? index : undefined;
  return {
    model: 'clustered',
    role: leader ? 'leader' : 'follower',
    leader,
    connected,
    ...(idx !== undefined ? { index: idx } : {}),
  };
}
