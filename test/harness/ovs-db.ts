/**
 * A node's Open_vSwitch database without ovs-vswitchd: a real ovsdb-server holding the vendored
 * Open_vSwitch schema, initialised with `ovs-vsctl init`, and an `OvsdbClient` monitoring it.
 * Foreign state is made with `ovs-vsctl`, as an installer or an operator would.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { SCHEMAS } from '../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../agent/sandbox/ovsdb-server.js';
import { run, waitUntil } from '../../agent/sandbox/process.js';
import { OvsdbClient, vswitch, type ClientMonitorConfig } from '../../ovsdb/index.js';
import { made, makeTmpDir } from './index.js';

export interface OvsDb {
  readonly server: OvsdbServerHandle;
  readonly client: OvsdbClient;
  /** Runs `ovs-vsctl --no-wait` against the database; its trimmed output. */
  vsctl(...args: string[]): Promise<string>;
  /** {@link vsctl}, then waits until the client's cache has seen a change. */
  vsctlSeen(...args: string[]): Promise<string>;
}

/**
 * Registers beforeAll/afterAll hooks: the database and a client with `monitor` for the enclosing
 * `describe` (or file). Register it before hooks that use it. Always stopped and removed after.
 */
export function useOvsDb(prefix: string, monitor: ClientMonitorConfig): OvsDb {
  let dir: string | undefined;
  let server: OvsdbServerHandle | undefined;
  let client: OvsdbClient | undefined;
  const vsctl = async (...args: string[]) => {
    if (!server) throw new Error('useOvsDb: not started yet');
    const argv = [`--db=${server.unixRemote}`, '--no-wait', '--timeout=10', ...args];
    return (await run('ovs-vsctl', argv)).stdout.trim();
  };
  beforeAll(async () => {
    dir = await makeTmpDir(prefix);
    server = await startOvsdbServer({ dir, name: 'conf', schema: SCHEMAS.vswitch });
    await vsctl('init');
    client = await OvsdbClient.connect({
      remotes: server.unixRemote,
      database: 'Open_vSwitch',
      schema: vswitch.schema(),
      monitor,
    });
    await client.ready();
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const db: OvsDb = {
    get server() {
      return made(server, 'useOvsDb');
    },
    get client() {
      return made(client, 'useOvsDb');
    },
    vsctl,
    async vsctlSeen(...args) {
      const before = db.client.cache.seqno;
      const out = await vsctl(...args);
      await waitUntil(() => db.client.cache.seqno !== before, {
        what: `cache update after ovs-vsctl ${args[0]}`,
        timeoutMs: 5000,
      });
      return out;
    },
  };
  return db;
}
