/**
 * Peer: OUR client's layers without `OvsdbClient` — `RpcConnection` (wire, JSON-RPC 1.0),
 * `transact` (schema-validated transactions, RFC 7047 §4.1.3/§5.2) and `Monitor` with its
 * `DatabaseCache` (the typed, indexed replica). Shows what the session, `_Server` watch and
 * retry layers of `OvsdbClient` (the `vpc-agent` peer) cost on top.
 *
 * - seq:  one validated `transact` per switch, awaited.
 * - pipe: every `transact` issued at once (window = all), then all awaited.
 * - sync: connect, a `Monitor` on every table with all columns (it negotiates
 *   `monitor_cond_since`, sends `set_db_change_aware`) and applies the initial contents to its
 *   `DatabaseCache`; timed until `start()` resolves.
 */
import { readFile } from 'node:fs/promises';
import { Monitor, RpcConnection, parseSchema, transact } from '../../../ovsdb/index.js';
import { runNodePeer, type PeerArgs } from '../protocol.js';
import { switchOps } from './ours-common.js';

const DB = 'OVN_Northbound';

/** Keeps the synced cache reachable until the runner has sampled memory. */
let keep: unknown;

async function setup(args: PeerArgs) {
  const raw = JSON.parse(await readFile(args.schema, 'utf8')) as { tables: object };
  const schema = parseSchema(raw);
  const tables = Object.fromEntries(Object.keys(raw.tables).map((t) => [t, {}])); // all columns
  return async ({ remote, phase, switches, ports }: PeerArgs) => {
    if (phase === 'sync') {
      const t0 = performance.now();
      const conn = await RpcConnection.connect(remote);
      const monitor = new Monitor(schema, { database: DB, tables });
      const sync = await monitor.start(conn);
      const seconds = (performance.now() - t0) / 1000;
      keep = [conn, monitor];
      return {
        seconds,
        rows: monitor.cache.size,
        cache: true,
        note: `RpcConnection + Monitor (${sync.method}) into its DatabaseCache`,
      };
    }
    const conn = await RpcConnection.connect(remote);
    const t0 = performance.now();
    if (phase === 'seq') {
      for (let i = 0; i < switches; i++) await transact(conn, schema, switchOps(i, ports));
    } else {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < switches; i++) pending.push(transact(conn, schema, switchOps(i, ports)));
      await Promise.all(pending);
    }
    const seconds = (performance.now() - t0) / 1000;
    await conn.close();
    return {
      seconds,
      txns: switches,
      ...(phase === 'pipe' ? { note: 'all transactions issued at once (window = all)' } : {}),
    };
  };
}
void keep;

await runNodePeer(setup);
