/**
 * `vpc-agent run` (createAgent) against an NB ovsdb-server that listens on `ssl:` only for the
 * agent: with the private key, certificate and CA certificate it converges a manifest, and
 * with a certificate the server does not trust its start fails after the start timeout.
 */
// First: sets the test log level before any module creates the root logger.
import { makeTmpDir } from '../../harness/index.js';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../agent/sandbox/ovsdb-server.js';
import { run } from '../../../agent/sandbox/process.js';
import { createAgent } from '../../../agent/run.js';
import { clientTls, makeTestPki, serverTlsArgs } from '../../harness/certs.js';
import { FAST, until } from './nb/helpers.js';
import { connectError, count, lockGrantedAtOnce, recordingLogger } from './startup-helpers.js';

let dir: string;
let server: OvsdbServerHandle;
let sslRemote: string;

beforeAll(async () => {
  dir = await makeTmpDir('agent-ssl');
  await makeTestPki(dir, 'agent');
  server = await startOvsdbServer({
    dir,
    name: 'nb',
    schema: SCHEMAS.nb,
    extraRemotes: ['pssl:0:127.0.0.1'],
    extraArgs: serverTlsArgs(dir, 'server', 'ca'),
  });
  sslRemote = server.remotes.find((r) => r.startsWith('ssl:'))!;
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `name` of every row of `table`, read over the server's unix socket. */
async function names(table: string): Promise<string[]> {
  const out = await run('ovn-nbctl', [
    `--db=${server.unixRemote}`,
    '--format=csv',
    '--no-headings',
    '--columns=name',
    'list',
    table,
  ]);
  return out.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^"|"$/g, ''))
    .sort();
}

describe('the agent over ssl:', () => {
  it('converges a manifest with --private-key, --certificate and --ca-cert', async () => {
    expect(sslRemote).toMatch(/^ssl:127\.0\.0\.1:\d+$/);
    const manifests = path.join(dir, 'manifests');
    await cp(path.resolve('examples/vpc-two-subnets'), manifests, { recursive: true });
    const agent = createAgent(
      {},
      {
        manifests,
        nb: sslRemote,
        tls: clientTls(dir, 'agent', 'ca'),
        listen: '127.0.0.1:0',
        ...FAST,
        lockName: 'test_ssl',
      },
    );
    try {
      await agent.start();
      expect(agent.client.remote).toBe(sslRemote);
      await until(() => agent.engine.stats.transactions >= 1, 'first transaction');
      await agent.engine.settled();
      expect(agent.engine.problems()).toEqual([]);
      expect((await agent.engine.reconcileNow()).sent).toBe(false);
      expect(await names('Logical_Switch')).toEqual(['vswitch1-subnet', 'vswitch2-subnet']);
      expect(await names('Logical_Router')).toEqual(['vpc-1']);
      const ready = await fetch(`http://${agent.address()}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await agent.stop();
    }
  });

  it('fails to start when the server does not trust our certificate, and leaves nothing open', async () => {
    const manifests = path.join(dir, 'empty');
    const { log, lines } = recordingLogger();
    const agent = createAgent(
      { log },
      {
        manifests,
        nb: sslRemote,
        tls: clientTls(dir, 'stranger', 'ca'),
        listen: '127.0.0.1:0',
        lockName: 'test_ssl_refused',
        startTimeoutMs: 2_500,
      },
    );
    const err = await agent.start().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_START_TIMEOUT' });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Northbound at ${sslRemote} not connected and synced within 2500ms \\(last error: .*unknown ca`,
      ),
    );
    // Retried all along, but warned about once.
    expect(count(lines, /^cannot connect to ssl:.*unknown ca/)).toBe(1);
    expect(count(lines, /^connect failed$/)).toBeGreaterThan(1);
    const address = agent.address()!;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await connectError(address)).toBe('ECONNREFUSED');
    await expect(agent.client.transact([])).rejects.toMatchObject({ code: 'OVSDB_CLIENT_CLOSED' });
    expect(await lockGrantedAtOnce(server.unixRemote, 'test_ssl_refused')).toBe(true);
  });
});
