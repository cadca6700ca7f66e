/**
 * Peer 5: OUR client (`ovsdb/`), driven through its public layers: `RpcConnection` (wire,
 * JSON-RPC 1.0), `transact` + `insert` (schema-validated transactions, RFC 7047 §4.1.3/§5.2),
 * `Monitor` with its `DatabaseCache` (the typed, indexed replica).
 *
 * - seq:  one validated `transact` per switch, awaited.
 * - pipe: every `transact` issued at once (window = all), then all awaited.
 * - sync: connect, a `Monitor` on every table with all columns (it negotiates
 *   `monitor_cond_since`, sends `set_db_change_aware`) and applies the initial contents to its
 *   `DatabaseCache` (decoded rows, indexes built); timed until `start()` resolves.
 * No monitor runs during the write phases (as with the raw client; the Python IDL and
 * ovsdbapp always keep one).
 *
 * The modules are imported dynamically: while the client has not landed, the peer reports
 * itself unavailable and the runner skips it. When a higher-level client (connect + monitor in
 * one object) lands, switch this adapter to it so the benchmark measures what the agent uses.
 */
import { readFile } from 'node:fs/promises';
import { PeerUnavailableError, runNodePeer, type PeerArgs } from '../protocol.js';
import { portAddress, portExternalIds, portName, switchExternalIds, switchName } from '../workload.js';

const DB = 'OVN_Northbound';

/** The parts of `ovsdb/` this adapter needs, typed structurally so it compiles without them. */
interface Rpc {
  request<T>(method: string, params: readonly unknown[]): Promise<T>;
  close(): Promise<void>;
}
interface OvsdbApi {
  parseSchema(raw: unknown): unknown;
  RpcConnection: { connect(remote: string, opts?: { probeIntervalMs?: number }): Promise<Rpc> };
  transact(rpc: Rpc, schema: unknown, ops: readonly unknown[]): Promise<unknown[]>;
  insert(table: string, row: Record<string, unknown>, opts?: { uuidName?: string }): unknown;
  Monitor: new (
    schema: unknown,
    opts: { database: string; tables: Record<string, object> },
  ) => { start(rpc: Rpc): Promise<{ method: string }>; readonly cache: { readonly size: number } };
}

const MODULES = ['schema.js', 'rpc/connection.js', 'transaction/index.js', 'monitor/index.js'];

async function loadOvsdb(): Promise<OvsdbApi> {
  const base = new URL('../../../ovsdb/', import.meta.url);
  const mods: Record<string, unknown>[] = [];
  for (const m of MODULES) {
    try {
      mods.push((await import(new URL(m, base).href)) as Record<string, unknown>);
    } catch (err) {
      throw new PeerUnavailableError(`cannot import ovsdb/${m}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const api = Object.assign({}, ...mods) as Record<string, unknown>;
  for (const name of ['parseSchema', 'RpcConnection', 'transact', 'insert', 'Monitor']) {
    if (typeof api[name] !== 'function')
      throw new PeerUnavailableError(`ovsdb/ does not export ${name} (yet)`);
  }
  return api as unknown as OvsdbApi;
}

/** Switch i's transaction through our builders: ports referenced by uuid-name (RFC 7047 §5.2.1). */
function switchOps(api: OvsdbApi, i: number, ports: number): unknown[] {
  const ops: unknown[] = [];
  const refs: string[] = [];
  for (let j = 0; j < ports; j++) {
    refs.push(`p${j}`);
    ops.push(
      api.insert(
        'Logical_Switch_Port',
        { name: portName(i, j), addresses: [portAddress(i, j)], external_ids: portExternalIds(i) },
        { uuidName: `p${j}` },
      ),
    );
  }
  ops.unshift(
    api.insert(
      'Logical_Switch',
      { name: switchName(i), external_ids: switchExternalIds(i), ports: refs },
      { uuidName: 'ls' },
    ),
  );
  return ops;
}

/** Keeps the synced cache reachable until the runner has sampled memory. */
let keep: unknown;

async function setup(args: PeerArgs) {
  const api = await loadOvsdb();
  const raw = JSON.parse(await readFile(args.schema, 'utf8')) as { tables: object };
  const schema = api.parseSchema(raw);
  const tables = Object.fromEntries(Object.keys(raw.tables).map((t) => [t, {}])); // all columns
  return async ({ remote, phase, switches, ports }: PeerArgs) => {
    if (phase === 'sync') {
      const t0 = performance.now();
      const conn = await api.RpcConnection.connect(remote);
      const monitor = new api.Monitor(schema, { database: DB, tables });
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
    const conn = await api.RpcConnection.connect(remote);
    const t0 = performance.now();
    if (phase === 'seq') {
      for (let i = 0; i < switches; i++) await api.transact(conn, schema, switchOps(api, i, ports));
    } else {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < switches; i++) pending.push(api.transact(conn, schema, switchOps(api, i, ports)));
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
