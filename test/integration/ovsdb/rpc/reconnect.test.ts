import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import type { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { ReconnectingSession } from '../../../../ovsdb/rpc/reconnect.js';

const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';
const FAST = { minBackoffMs: 50, maxBackoffMs: 200, probeIntervalMs: 0 };

let dir: string;
let server: OvsdbServerHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpc-reconn-'));
  server = await startOvsdbServer({ dir, name: 'nb', schema: NB_SCHEMA, tcp: true });
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

function nextConnected(s: ReconnectingSession): Promise<[RpcConnection, string]> {
  return once(s, 'connected') as Promise<[RpcConnection, string]>;
}

describe('ReconnectingSession', () => {
  it('skips an unreachable remote and connects to the next one', async () => {
    const failed: string[] = [];
    const s = new ReconnectingSession([`unix:${dir}/missing.sock`, server.unixRemote], FAST);
    s.on('connectFailed', (remote) => failed.push(remote));
    const connected = nextConnected(s);
    s.start();
    try {
      const [conn, remote] = await connected;
      expect(remote).toBe(server.unixRemote);
      expect(failed).toEqual([`unix:${dir}/missing.sock`]);
      expect(s.current()).toBe(conn);
      expect(await conn.request<string[]>('list_dbs', [])).toContain('OVN_Northbound');
    } finally {
      await s.stop();
    }
    expect(s.current()).toBeUndefined();
  });

  it('moves on when accept() vetoes a remote', async () => {
    const s = new ReconnectingSession([server.unixRemote, server.tcpRemote!], {
      ...FAST,
      accept: async (conn, remote) => {
        await conn.request('list_dbs', []); // the hook may talk to the server first
        return remote.startsWith('tcp:');
      },
    });
    const refused: unknown[] = [];
    s.on('connectFailed', (_r, err) => refused.push(err));
    const connected = nextConnected(s);
    s.start();
    try {
      const [, remote] = await connected;
      expect(remote).toBe(server.tcpRemote);
      expect(refused).toEqual([expect.objectContaining({ code: 'OVSDB_REMOTE_REFUSED' })]);
    } finally {
      await s.stop();
    }
  });

  it('reconnects after ovsdb-server is killed and restarted', async () => {
    const s = new ReconnectingSession(server.unixRemote, FAST);
    let failures = 0;
    s.on('connectFailed', () => failures++);
    let connected = nextConnected(s);
    s.start();
    try {
      const [first] = await connected;
      const disconnected = once(s, 'disconnected');
      connected = nextConnected(s);
      await server.kill('SIGKILL');
      const [, reason] = (await disconnected) as [string, Error | undefined];
      expect(reason).toMatchObject({ code: 'OVSDB_DISCONNECTED' });
      while (failures < 2) await new Promise((r) => setTimeout(r, 20)); // it keeps retrying
      await server.restart();
      const [second] = await connected;
      expect(second).not.toBe(first);
      expect(first.isClosed).toBe(true);
      expect(await second.request<string[]>('list_dbs', [])).toContain('OVN_Northbound');
    } finally {
      await s.stop();
    }
  });
});
