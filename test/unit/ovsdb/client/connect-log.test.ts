/**
 * Connect failures are warnings, rate-limited per remote: the first at once, then at most one
 * per interval with a count; a success after failures is reported once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectFailureLog } from '../../../../ovsdb/client/connect-log.js';
import { OvsdbClient, OvsdbConnectionError, nb, type ClientLogger } from '../../../../ovsdb/index.js';

interface Line {
  level: 'debug' | 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string;
}

function recorder(): ClientLogger & { lines: Line[]; at(level: Line['level']): Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => lines.filter((l) => l.level === level);
  const rec =
    (level: Line['level']) =>
    (obj: object, msg = '') =>
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, at, debug: rec('debug'), info: rec('info'), warn: rec('warn') };
}

const refusedConnect = () =>
  new OvsdbConnectionError('OVSDB_CONNECT_FAILED', 'tcp:192.0.2.1:6641: ECONNREFUSED');

describe('ConnectFailureLog', () => {
  it('warns at the first failure, then once per interval with the count since the last warning', () => {
    const log = recorder();
    let now = 1_000_000;
    const c = new ConnectFailureLog(log, 30_000, () => now);
    c.failed('tcp:192.0.2.1:6641', refusedConnect());
    expect(log.at('warn').map((l) => l.msg)).toEqual([
      'cannot connect to tcp:192.0.2.1:6641: ECONNREFUSED; retrying',
    ]);
    for (let i = 0; i < 10; i++) {
      now += 2_000;
      c.failed('tcp:192.0.2.1:6641', refusedConnect());
    }
    expect(log.at('warn')).toHaveLength(1);
    expect(log.at('debug')).toHaveLength(11);
    now += 10_000; // 30 s after the first warning
    c.failed('tcp:192.0.2.1:6641', refusedConnect());
    const warns = log.at('warn');
    expect(warns).toHaveLength(2);
    expect(warns[1]!.obj).toMatchObject({ remote: 'tcp:192.0.2.1:6641', failures: 11, total: 12 });
    expect(warns[1]!.msg).toMatch(
      /^still cannot connect to tcp:192\.0\.2\.1:6641: 11 failed attempts in 30 s/,
    );
    now += 1_000;
    c.failed('tcp:192.0.2.1:6641', refusedConnect());
    expect(log.at('warn')).toHaveLength(2);
  });

  it('keeps remotes apart and reports the success that ends a run of failures', () => {
    const log = recorder();
    let now = 0;
    const c = new ConnectFailureLog(log, 30_000, () => now);
    c.failed('unix:/a', refusedConnect());
    c.failed('unix:/b', refusedConnect());
    expect(log.at('warn').map((l) => l.obj['remote'])).toEqual(['unix:/a', 'unix:/b']);
    // An error that does not name the remote gets it in front.
    expect(log.at('warn')[0]!.msg).toBe(
      'cannot connect to unix:/a: tcp:192.0.2.1:6641: ECONNREFUSED; retrying',
    );
    now += 5_000;
    c.failed('unix:/a', refusedConnect());
    c.connected('unix:/a');
    expect(log.at('info')).toEqual([
      {
        level: 'info',
        obj: { remote: 'unix:/a', failures: 2, downForMs: 5_000 },
        msg: 'connected to unix:/a after 2 failed attempts',
      },
    ]);
    c.connected('unix:/c');
    expect(log.at('info')).toHaveLength(1);
    // After the success, a new failure is news again.
    c.failed('unix:/a', refusedConnect());
    expect(log.at('warn')).toHaveLength(3);
  });

  it('does not warn about members refused by verdict (failover to the leader is routine)', () => {
    const log = recorder();
    const c = new ConnectFailureLog(log);
    c.failed('unix:/a', new OvsdbConnectionError('OVSDB_REMOTE_REFUSED', 'unix:/a: refused by accept()'));
    expect(log.at('warn')).toEqual([]);
    expect(log.at('debug')).toHaveLength(1);
  });

  it('warns, rate-limited, about members whose vetting failed, with the error that failed it', () => {
    const log = recorder();
    const c = new ConnectFailureLog(log);
    const cause = new OvsdbConnectionError('OVSDB_DISCONNECTED', 'unix:/a: tlsv1 alert unknown ca');
    const refusal = () =>
      new OvsdbConnectionError('OVSDB_REMOTE_REFUSED', 'unix:/a: refused by accept()', { cause });
    c.failed('unix:/a', refusal());
    c.failed('unix:/a', refusal());
    expect(log.at('warn').map((l) => l.msg)).toEqual([
      'cannot connect to unix:/a: tlsv1 alert unknown ca; retrying',
    ]);
    expect(log.at('warn')[0]!.obj['err']).toBe(cause);
  });
});

describe('OvsdbClient connect failures', () => {
  it('many retries against a missing server give one warning and one connectFailed event each', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vpca-connlog-'));
    const log = recorder();
    const client = OvsdbClient.create({
      remotes: `unix:${path.join(dir, 'missing.sock')}`,
      database: 'OVN_Northbound',
      schema: nb.schema(),
      backoff: { minMs: 5, maxMs: 5 },
      logger: log,
    });
    let events = 0;
    const fiveFailures = new Promise<void>((resolve) =>
      client.on('connectFailed', ({ error }) => {
        expect(error).toMatchObject({ code: 'OVSDB_CONNECT_FAILED' });
        if (++events === 5) resolve();
      }),
    );
    try {
      await client.start();
      await fiveFailures;
      expect(log.at('warn').filter((l) => l.msg.includes('connect'))).toHaveLength(1);
      expect(client.isOnline).toBe(false);
    } finally {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
