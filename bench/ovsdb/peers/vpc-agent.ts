/**
 * Peer 5: OUR client as the agent uses it — `OvsdbClient` (`ovsdb/client/`): reconnecting
 * session, `_Server` watch (leader-only, as the agent's writer runs), schema given up front,
 * typed operations through `client.transact`.
 *
 * - seq:  `client.transact` per switch, awaited; the client monitors no table (`monitor: false`),
 *         as the raw client keeps no replica.
 * - pipe: every `client.transact` issued at once (window = all), then all awaited.
 * - sync: `OvsdbClient.connect` with `monitor: 'all'` (every table, every column), timed until
 *         `ready()` (the first complete sync of its cache) — connection, `_Server` check and
 *         the monitor's initial contents included.
 */
import { readFile } from 'node:fs/promises';
import { OvsdbClient, parseSchema } from '../../../ovsdb/index.js';
import { runNodePeer, type PeerArgs } from '../protocol.js';
import { switchOps } from './ours-common.js';

const DB = 'OVN_Northbound';

/** Keeps the synced client reachable until the runner has sampled memory. */
let keep: unknown;

async function setup(args: PeerArgs) {
  const schema = parseSchema(JSON.parse(await readFile(args.schema, 'utf8')));
  return async ({ remote, phase, switches, ports }: PeerArgs) => {
    if (phase === 'sync') {
      const t0 = performance.now();
      const client = await OvsdbClient.connect({ remotes: remote, database: DB, schema, monitor: 'all' });
      await client.ready();
      const seconds = (performance.now() - t0) / 1000;
      keep = client;
      return {
        seconds,
        rows: client.cache.size,
        cache: true,
        note: 'OvsdbClient, monitor all, until ready()',
      };
    }
    const client = await OvsdbClient.connect({ remotes: remote, database: DB, schema, monitor: false });
    await client.ready();
    const t0 = performance.now();
    if (phase === 'seq') {
      for (let i = 0; i < switches; i++) await client.transact(switchOps(i, ports));
    } else {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < switches; i++) pending.push(client.transact(switchOps(i, ports)));
      await Promise.all(pending);
    }
    const seconds = (performance.now() - t0) / 1000;
    await client.close();
    return {
      seconds,
      txns: switches,
      ...(phase === 'pipe' ? { note: 'all transactions issued at once (window = all)' } : {}),
    };
  };
}
void keep;

await runNodePeer(setup);
