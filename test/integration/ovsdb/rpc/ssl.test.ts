import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../../agent/sandbox/ovsdb-server.js';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { clientTls, makeTestPki, serverTlsArgs } from '../../../harness/certs.js';

const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

let dir: string;
let server: OvsdbServerHandle;
let sslRemote: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpc-ssl-'));
  await makeTestPki(dir, 'client');
  server = await startOvsdbServer({
    dir,
    name: 'nb',
    schema: NB_SCHEMA,
    extraRemotes: ['pssl:0:127.0.0.1'],
    extraArgs: serverTlsArgs(dir, 'server', 'ca'),
  });
  sslRemote = server.remotes.find((r) => r.startsWith('ssl:'))!;
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const tlsFor = (who: string, ca = 'ca') => clientTls(dir, who, ca);

describe('ssl remotes', () => {
  it('talks JSON-RPC over TLS with a CA-signed client certificate', async () => {
    expect(sslRemote).toMatch(/^ssl:127\.0\.0\.1:\d+$/);
    const conn = await RpcConnection.connect(sslRemote, { tls: tlsFor('client') });
    try {
      expect(await conn.request<string[]>('list_dbs', [])).toContain('OVN_Northbound');
      expect(await conn.request('echo', ['tls'])).toEqual(['tls']);
    } finally {
      await conn.close();
    }
  });

  it('refuses a server whose certificate is not signed by our CA', async () => {
    await expect(
      RpcConnection.connect(sslRemote, { tls: tlsFor('client', 'otherca') }),
    ).rejects.toMatchObject({
      code: 'OVSDB_CONNECT_FAILED',
    });
  });

  it('is dropped by the server when our certificate is signed by an unknown CA', async () => {
    // TLS 1.3 reports the server's rejection of our certificate after the handshake, so the
    // failure shows either as a connect error or as the session closing before a reply.
    const attempt = RpcConnection.connect(sslRemote, { tls: tlsFor('stranger'), probeIntervalMs: 0 }).then(
      (conn) => conn.request('list_dbs', []).finally(() => conn.close()),
    );
    await expect(attempt).rejects.toMatchObject({
      code: expect.stringMatching(/OVSDB_CONNECT_FAILED|OVSDB_DISCONNECTED/),
    });
  });
});
