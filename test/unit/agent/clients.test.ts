/**
 * The agent's OVSDB clients: TLS material checked when a client is made, the start says what
 * it waits for and gives up after `startTimeoutMs` with the last connect error; a failed
 * start undoes itself.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentClients } from '../../../agent/clients.js';
import { startOrUndo } from '../../../agent/startup.js';
import { nb } from '../../../ovsdb/index.js';

/** A pino logger whose records land in `lines`. */
function recordingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as never) });
  return { log, lines };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vpca-clients-'));
  await writeFile(path.join(dir, 'key.pem'), '');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const nbOpts = (remotes: string) => ({ remotes, database: 'OVN_Northbound', schema: nb.schema() });

describe('createAgentClients', () => {
  it('refuses a client that could never connect: ssl: without TLS, or TLS files that are not there', () => {
    const { log } = recordingLogger();
    const plain = createAgentClients({ log }, { startTimeoutMs: 0 });
    expect(() => plain.create(nbOpts('unix:/a.sock,ssl:127.0.0.1:6641'))).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG',
        message:
          'OVN_Northbound: ssl:127.0.0.1:6641 needs TLS: a private key, a certificate and a CA certificate',
      }),
    );
    const tls = {
      privateKey: path.join(dir, 'key.pem'),
      certificate: path.join(dir, 'cert.pem'),
      caCert: '-----BEGIN CERTIFICATE-----\n',
    };
    const withTls = createAgentClients({ log }, { startTimeoutMs: 0, tls });
    expect(() => withTls.create(nbOpts('ssl:127.0.0.1:6641'))).toThrow(
      `OVN_Northbound: TLS certificate: ${path.join(dir, 'cert.pem')} does not exist`,
    );
    // Not an ssl: remote: the TLS material is not needed, so not checked.
    expect(withTls.create(nbOpts('unix:/a.sock')).database).toBe('OVN_Northbound');
  });

  it('logs what it waits for, and gives up after startTimeoutMs with the last connect error', async () => {
    const { log, lines } = recordingLogger();
    const clients = createAgentClients({ log }, { startTimeoutMs: 300 });
    const sock = path.join(dir, 'missing.sock');
    const client = clients.create({ ...nbOpts(`unix:${sock}`), backoff: { minMs: 20, maxMs: 20 } });
    try {
      const err = await clients.ready(client).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_START_TIMEOUT' });
      expect((err as Error).message).toMatch(
        new RegExp(
          `^Northbound at unix:${sock} not connected and synced within 300ms \\(last error: .*ENOENT`,
        ),
      );
      expect(lines.filter((l) => l.level === 30).map((l) => l.msg)).toContain(
        `waiting for Northbound at unix:${sock}`,
      );
      expect(client.isOnline).toBe(false);
    } finally {
      await clients.closeAll();
    }
    // closeAll closed it: waiting again fails at once instead of retrying forever.
    await expect(client.ready()).rejects.toMatchObject({ code: 'OVSDB_CLIENT_CLOSED' });
  });
});

describe('startOrUndo', () => {
  it('undoes a failed start before rejecting with the original error, and logs both', async () => {
    const { log, lines } = recordingLogger();
    const order: string[] = [];
    const start = startOrUndo(
      {
        log,
        undo: async () => {
          order.push('undo');
          throw new Error('undo broke too');
        },
      },
      async () => {
        order.push('start');
        throw new Error('port in use');
      },
    );
    await expect(start()).rejects.toThrow('port in use');
    expect(order).toEqual(['start', 'undo']);
    expect(lines.map((l) => l.msg)).toEqual([
      'start failed: port in use',
      'cleanup after the failed start failed',
    ]);
    // Interrupted by a stop (the clients were closed under it): undone as well, but not an error.
    const interrupted = startOrUndo({ log, undo: async () => void order.push('undo again') }, async () => {
      throw Object.assign(new Error('client closed while connecting'), { code: 'OVSDB_CLIENT_CLOSED' });
    });
    await expect(interrupted()).rejects.toThrow('client closed');
    expect(order).toEqual(['start', 'undo', 'undo again']);
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'stopped while starting' });
    const ok = startOrUndo({ log, undo: async () => void order.push('undo') }, async () => undefined);
    await ok();
    expect(order).toEqual(['start', 'undo', 'undo again']);
  });
});
