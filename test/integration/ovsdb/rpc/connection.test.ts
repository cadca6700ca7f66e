import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { OvsdbConnectionError, OvsdbRpcError } from '../../../../ovsdb/rpc/errors.js';

const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

let dir: string;
let server: OvsdbServerHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpc-conn-'));
  server = await startOvsdbServer({
    dir,
    name: 'nb',
    schema: NB_SCHEMA,
    tcp: true,
    extraArgs: ['--remote=db:OVN_Northbound,NB_Global,connections'],
  });
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Connects and registers the connection for closing at the end of the test. */
async function open(remote: string, opts = {}): Promise<RpcConnection> {
  return RpcConnection.connect(remote, opts);
}

describe('RpcConnection against ovsdb-server', () => {
  it('lists databases and fetches a schema over unix', async () => {
    const conn = await open(server.unixRemote);
    try {
      expect(await conn.request<string[]>('list_dbs', [])).toEqual(
        expect.arrayContaining(['OVN_Northbound', '_Server']),
      );
      const schema = await conn.request<{ name: string; tables: Record<string, unknown> }>('get_schema', [
        'OVN_Northbound',
      ]);
      expect(schema.name).toBe('OVN_Northbound');
      expect(schema.tables).toHaveProperty('Logical_Switch');
    } finally {
      await conn.close();
    }
  });

  it('gets its echo params back and maps an error reply to OvsdbRpcError over tcp', async () => {
    const conn = await open(server.tcpRemote!);
    try {
      expect(await conn.request('echo', ['ping', { n: 1 }])).toEqual(['ping', { n: 1 }]);
      const err = (await conn.request('get_schema', ['Nope']).catch((e: unknown) => e)) as OvsdbRpcError;
      expect(err).toBeInstanceOf(OvsdbRpcError);
      expect(err.error).toBe('unknown database');
    } finally {
      await conn.close();
    }
  });

  it('pipelines many requests and matches every reply to its request', async () => {
    const conn = await open(server.unixRemote);
    try {
      const replies = await Promise.all(
        Array.from({ length: 300 }, (_, i) => conn.request<unknown[]>('echo', [i])),
      );
      expect(replies).toEqual(Array.from({ length: 300 }, (_, i) => [i]));
    } finally {
      await conn.close();
    }
  });

  it('hands out update2 notifications in order, before the reply of the transaction that caused them', async () => {
    const conn = await open(server.unixRemote);
    const events: string[] = [];
    try {
      conn.onNotification('update2', async (params) => {
        const table = (params[1] as { Logical_Switch?: Record<string, { insert?: { name: string } }> })
          .Logical_Switch;
        const name = Object.values(table ?? {})[0]?.insert?.name;
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 20)); // a slow, asynchronous handler
        events.push(`end ${name}`);
      });
      await conn.request('monitor_cond', [
        'OVN_Northbound',
        'm1',
        { Logical_Switch: [{ columns: ['name'] }] },
      ]);
      const insert = (name: string) =>
        conn
          .request('transact', ['OVN_Northbound', { op: 'insert', table: 'Logical_Switch', row: { name } }])
          .then(() => events.push(`reply ${name}`));
      await Promise.all([insert('a'), insert('b')]);
      // Each update is fully handled before the reply that follows it on the wire is handed out.
      expect(events.filter((e) => e.startsWith('start') || e.startsWith('end'))).toEqual([
        'start a',
        'end a',
        'start b',
        'end b',
      ]);
      expect(events.indexOf('reply a')).toBeGreaterThan(events.indexOf('end a'));
      expect(events.indexOf('reply b')).toBeGreaterThan(events.indexOf('end b'));
    } finally {
      await conn.close();
    }
  });

  it('answers echo probes from a real ovsdb-server with a 1 s inactivity probe', async () => {
    const sock = path.join(dir, 'probed.sock');
    const admin = await open(server.unixRemote);
    try {
      await admin.request('transact', [
        'OVN_Northbound',
        {
          op: 'insert',
          table: 'Connection',
          'uuid-name': 'c',
          row: { target: `punix:${sock}`, inactivity_probe: 1000 },
        },
        { op: 'insert', table: 'NB_Global', row: { connections: ['named-uuid', 'c'] } },
      ]);
    } finally {
      await admin.close();
    }
    let conn: RpcConnection | undefined;
    for (let i = 0; i < 50 && !conn; i++) {
      conn = await open(`unix:${sock}`, { probeIntervalMs: 0 }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(conn).toBeDefined();
    try {
      // Stay silent; the server probes after 1 s of silence and would drop us after 2 s.
      while (conn!.stats().echoesAnswered < 2) await new Promise((r) => setTimeout(r, 200));
      expect(conn!.isClosed).toBe(false);
      expect(await conn!.request<string[]>('list_dbs', [])).toContain('OVN_Northbound');
    } finally {
      await conn!.close();
    }
  });

  it('rejects pending requests with OVSDB_DISCONNECTED when the server dies', async () => {
    const conn = await open(server.unixRemote);
    const closed = new Promise<Error | undefined>((r) => conn.once('close', r));
    // A "wait" that is never satisfied keeps the transaction pending on the server.
    const pending = conn
      .request('transact', [
        'OVN_Northbound',
        {
          op: 'wait',
          table: 'Logical_Switch',
          where: [['name', '==', 'never']],
          columns: ['name'],
          until: '==',
          rows: [{ name: 'never' }],
          timeout: 600000,
        },
      ])
      .catch((e: unknown) => e);
    await conn.request('echo', []); // the wait request reached the server
    await server.kill('SIGKILL');
    try {
      const err = (await pending) as OvsdbConnectionError;
      expect(err).toBeInstanceOf(OvsdbConnectionError);
      expect(err.code).toBe('OVSDB_DISCONNECTED');
      expect(await closed).toBeInstanceOf(OvsdbConnectionError);
      await expect(conn.request('list_dbs', [])).rejects.toMatchObject({ code: 'OVSDB_DISCONNECTED' });
    } finally {
      await server.restart();
    }
  });
});
