/**
 * Watches this database's row in the `_Server` database of one connection
 * (ovsdb-server(5) "Database TABLE": "clients can monitor the table's contents to find out
 * about important changes"), with a conditional monitor on `name == <database>`
 * (ovsdb-server(7) §4.1.12 `monitor_cond`).
 */
import { Monitor, type MonitorRpc } from '../monitor/index.js';
import { server } from '../models/index.js';
import type { ServerDatabaseRow } from './cluster.js';

/** The `_Server` columns we read. */
const COLUMNS = ['name', 'model', 'connected', 'leader', 'index', 'schema', 'sid', 'cid'] as const;

function isUnknownDatabase(err: unknown): boolean {
  const e = err as { error?: unknown; message?: unknown };
  return (
    e?.error === 'unknown database' || (typeof e?.message === 'string' && /unknown database/.test(e.message))
  );
}

/** A live watch of one database's `_Server.Database` row on one connection. */
export class ServerWatch {
  private constructor(
    private readonly monitor: Monitor,
    readonly database: string,
  ) {}

  /**
   * Starts the watch and resolves once the initial row is known. Resolves undefined when the
   * server has no `_Server` database (ovsdb-server before 2.9): such a server is treated
   * as standalone.
   */
  static async start(rpc: MonitorRpc, database: string): Promise<ServerWatch | undefined> {
    const monitor = new Monitor(server.schema(), {
      database: '_Server',
      tables: { Database: { columns: [...COLUMNS], where: [['name', '==', database]] } },
      method: 'monitor_cond',
      // The data monitor sends set_db_change_aware for the session.
      dbChangeAware: false,
      idPrefix: 'vpc-agent-server',
    });
    try {
      await monitor.start(rpc);
    } catch (err) {
      if (isUnknownDatabase(err)) return undefined;
      throw err;
    }
    return new ServerWatch(monitor, database);
  }

  /** The current row (undefined when the server does not host the database). */
  row(): (ServerDatabaseRow & Pick<server.Database, 'sid' | 'cid'>) | undefined {
    for (const r of this.monitor.cache.rows('Database')) {
      if (r['name'] === this.database) return r as unknown as server.Database;
    }
    return undefined;
  }

  /** Calls `fn` with the row after every change to it; returns the unsubscribe function. */
  onChange(fn: (row: ServerDatabaseRow | undefined) => void): () => void {
    return this.monitor.cache.onChange(() => fn(this.row()));
  }

  /** Stops listening (the connection is going away; no request is sent). */
  detach(): void {
    void this.monitor.cancel().catch(() => undefined);
  }
}
