/**
 * A failed start of `vpc-agent run` (createAgent, and the CLI as a process): the API socket
 * served by a live listener, a bad or taken `--listen` address, NB unreachable past the start
 * timeout. Each makes `start()` reject — after the writer lock was released and every
 * connection and listener it opened was closed: the lock is granted to the next session at
 * once, the servers count no session of ours, nothing listens where the agent did. The CLI
 * exits 1 with the reason, by itself (no handle left open), and 0 when stopped while starting.
 */
// First: sets the test log level before any module creates the root logger.
import { makeTmpDir } from '../../harness/index.js';
import { spawn } from 'node:child_process';
import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent, type AgentConfig } from '../../../agent/run.js';
import { SCHEMAS } from '../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../agent/sandbox/ovsdb-server.js';
import { freePort, run } from '../../../agent/sandbox/process.js';
import { AGENT_CLI } from '../../harness/agent.js';
import { until } from './nb/helpers.js';
import { connectError, count, lockGrantedAtOnce, recordingLogger, sessions } from './startup-helpers.js';

let dir: string;
let manifests: string;
let nbServer: OvsdbServerHandle;
let sbServer: OvsdbServerHandle;
let ovsServer: OvsdbServerHandle;

beforeAll(async () => {
  dir = await makeTmpDir('startfail');
  manifests = path.join(dir, 'manifests');
  await cp(path.resolve('examples/vpc-two-subnets'), manifests, { recursive: true });
  nbServer = await startOvsdbServer({ dir, name: 'nb', schema: SCHEMAS.nb });
  sbServer = await startOvsdbServer({ dir, name: 'sb', schema: SCHEMAS.sb });
  ovsServer = await startOvsdbServer({ dir, name: 'conf', schema: SCHEMAS.vswitch });
  await run('ovs-vsctl', [
    `--db=${ovsServer.unixRemote}`,
    '--no-wait',
    '--timeout=10',
    'init',
    '--',
    'set',
    'open_vswitch',
    '.',
    'external_ids:system-id=node1',
  ]);
});

afterAll(async () => {
  await Promise.all([nbServer, sbServer, ovsServer].map((s) => s?.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Listens on `where` (a unix path or a port on 127.0.0.1) until closed. */
async function holder(where: string | number): Promise<Server> {
  const server = createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof where === 'string') server.listen(where, resolve);
    else server.listen(where, '127.0.0.1', resolve);
  });
  return server;
}
const closeServer = (s: Server) => new Promise((resolve) => s.close(resolve));

/** Starts an agent expected to fail; returns the rejection and the agent's log. */
async function failedStart(config: Partial<AgentConfig>) {
  const rec = recordingLogger();
  const agent = createAgent(
    { log: rec.log },
    { manifests, nb: nbServer.unixRemote, pollMs: 100, debounceMs: 20, ...config },
  );
  const err = (await agent.start().then(
    () => new Error('start() resolved'),
    (e: unknown) => e,
  )) as Error & { code?: string };
  return { agent, err, ...rec };
}

/** What every failed start must leave: no session on any server, the lock free, clients closed. */
async function expectNothingLeft(agent: Agent, lockName: string): Promise<void> {
  for (const server of [nbServer, sbServer, ovsServer])
    await until(async () => (await sessions(server)) === 0, `no session left on ${server.name}`);
  expect(await lockGrantedAtOnce(nbServer.unixRemote, lockName)).toBe(true);
  await expect(agent.client.transact([])).rejects.toMatchObject({ code: 'OVSDB_CLIENT_CLOSED' });
}

describe('a failed start releases everything', () => {
  it('NB unreachable past the start timeout: rejects with what it waited for, warned about once', async () => {
    const nb = `unix:${path.join(dir, 'absent.sock')}`;
    const listen = `127.0.0.1:${await freePort()}`;
    const { agent, err, lines, messages } = await failedStart({
      nb,
      listen,
      startTimeoutMs: 1_500,
      lockName: 'test_fail_nb',
    });
    expect(err.code).toBe('ERR_START_TIMEOUT');
    expect(err.message).toMatch(
      new RegExp(`^Northbound at ${nb} not connected and synced within 1500ms \\(last error: .*ENOENT`),
    );
    expect(messages()).toContain(`waiting for Northbound at ${nb}`);
    expect(count(lines, /^cannot connect to unix:/)).toBe(1);
    expect(count(lines, /^connect failed$/)).toBeGreaterThan(1);
    expect(agent.address()).toBe(listen);
    expect(await connectError(listen)).toBe('ECONNREFUSED');
    await expectNothingLeft(agent, 'test_fail_nb');
  });

  it('--listen port in use, or an address that cannot be bound: rejects before connecting', async () => {
    const port = await freePort();
    const taken = await holder(port);
    try {
      const { agent, err } = await failedStart({ listen: `127.0.0.1:${port}`, lockName: 'test_fail_listen' });
      expect(err.code).toBe('EADDRINUSE');
      // The port's owner still serves; the agent has no session and no lock.
      expect(await connectError(`127.0.0.1:${port}`)).toBeUndefined();
      await expectNothingLeft(agent, 'test_fail_listen');
    } finally {
      await closeServer(taken);
    }
    // 192.0.2.1 (TEST-NET-1) is on no interface of this host.
    const notOurs = await failedStart({ listen: '192.0.2.1:0', lockName: 'test_fail_listen' });
    expect(notOurs.err.code).toBe('EADDRNOTAVAIL');
    await expectNothingLeft(notOurs.agent, 'test_fail_listen');
    const badPort = await failedStart({ listen: '127.0.0.1:99999', lockName: 'test_fail_listen' });
    expect(badPort.err.message).toMatch(/port "99999" is not a number from 0 to 65535/);
    await expectNothingLeft(badPort.agent, 'test_fail_listen');
  });

  it('API socket served by a live listener: rejects after it was writer, and releases the lock at once', async () => {
    const apiDir = path.join(dir, 'api');
    await mkdir(apiDir, { recursive: true });
    const socket = path.join(apiDir, 'agent.sock');
    const live = await holder(socket);
    const listen = `127.0.0.1:${await freePort()}`;
    try {
      const { agent, err, messages } = await failedStart({
        ovs: ovsServer.unixRemote,
        sb: sbServer.unixRemote,
        node: 'node1',
        apiSocket: socket,
        listen,
        lockName: 'test_fail_api',
      });
      expect(err.code).toBe('ERR_API_SOCKET_IN_USE');
      expect(err.message).toBe(`another process serves the local API on ${socket}`);
      const log = messages();
      // It held the writer lock when it failed: the release is what lets the next one in.
      expect(log.indexOf('became the northbound writer')).toBeGreaterThan(-1);
      expect(log.indexOf('became the northbound writer')).toBeLessThan(
        log.indexOf(`start failed: ${err.message}`),
      );
      await expectNothingLeft(agent, 'test_fail_api');
      await expect(agent.ovs!.transact([])).rejects.toMatchObject({ code: 'OVSDB_CLIENT_CLOSED' });
      expect(await connectError(listen)).toBe('ECONNREFUSED');
      // The live listener and its socket are untouched.
      expect((await stat(socket)).isSocket()).toBe(true);
      await until(
        () =>
          new Promise<boolean>((resolve) => {
            const c = createServer().listen(socket);
            c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
            c.once('listening', () => c.close(() => resolve(false)));
          }),
        'the socket is still bound by its owner',
      );
    } finally {
      await closeServer(live);
    }
  });
});

describe('vpc-agent run as a process', () => {
  it('exits 1 with the reason when NB is unreachable past --start-timeout, leaving nothing running', async () => {
    const nb = `unix:${path.join(dir, 'absent.sock')}`;
    const t0 = Date.now();
    const r = await run(
      process.execPath,
      [
        ...AGENT_CLI,
        'run',
        ...['--manifests', manifests, '--nb', nb, '--start-timeout', '1s', '--resync', '60s'],
        ...['--listen', `127.0.0.1:${await freePort()}`, '--lock', 'test_fail_cli'],
      ],
      { reject: false, timeoutMs: 30_000, env: { VPC_AGENT_LOG_LEVEL: 'warn' } },
    );
    expect(r.exitCode).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1);
    expect(last).toMatch(
      new RegExp(`^vpc-agent: Northbound at ${nb} not connected and synced within 1s \\(last error`),
    );
    // Exited by itself soon after the timeout: nothing kept the event loop alive.
    expect(Date.now() - t0).toBeLessThan(25_000);
  });

  it('exits 0 when SIGTERM arrives while it waits for NB', async () => {
    const nb = `unix:${path.join(dir, 'absent.sock')}`;
    const child = spawn(
      process.execPath,
      [
        ...AGENT_CLI,
        'run',
        '--manifests',
        manifests,
        '--nb',
        nb,
        '--start-timeout',
        '0',
        '--lock',
        'test_term',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, VPC_AGENT_LOG_LEVEL: 'info' } },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes(`waiting for Northbound at ${nb}`)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before waiting: ${stderr}`)));
      });
      process.kill(child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/^vpc-agent: /m);
      expect(stderr).toContain('"msg":"stopped while starting"');
      expect(stderr).not.toContain('start failed');
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }
  });
});
