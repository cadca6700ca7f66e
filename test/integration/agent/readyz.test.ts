/**
 * `/healthz` and `/readyz` of `vpc-agent run` (createAgent) against a real NB ovsdb-server that
 * starts after the agent and is stopped and restarted under it: liveness is 200 throughout,
 * readiness is 503 with its reasons until the agent is connected, started and converged, 503
 * again while NB is down, and 200 once it is back.
 */
// First: sets the test log level before any module creates the root logger.
import { tmpDirForTest } from '../../harness/index.js';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../agent/sandbox/ovsdb-server.js';
import { createAgent } from '../../../agent/run.js';
import type { Readiness } from '../../../agent/readiness.js';
import { until } from './nb/helpers.js';

async function get(base: string, p: string): Promise<{ status: number; body: Readiness & { ok?: boolean } }> {
  const res = await fetch(`${base}${p}`);
  return { status: res.status, body: (await res.json()) as Readiness & { ok?: boolean } };
}

describe('/readyz', () => {
  it('is 503 with reasons before NB is up and while it is down, 200 when converged; /healthz is 200', async () => {
    const dir = await tmpDirForTest('readyz');
    const manifests = path.join(dir, 'manifests');
    await cp(path.resolve('examples/vpc-two-subnets'), manifests, { recursive: true });
    const agent = createAgent(
      {},
      {
        manifests,
        // Where the server below will listen once it is started.
        nb: `unix:${path.join(dir, 'nb.sock')}`,
        listen: '127.0.0.1:0',
        pollMs: 100,
        debounceMs: 20,
        lockName: 'test_readyz',
        startTimeoutMs: 0,
      },
    );
    let server: OvsdbServerHandle | undefined;
    const starting = agent.start();
    try {
      const base = `http://${await until(() => agent.address(), 'the debug server')}`;
      const before = await get(base, '/readyz');
      expect(before.status).toBe(503);
      expect(before.body).toMatchObject({ ready: false, databases: { Northbound: false } });
      expect(before.body.reasons).toEqual([
        'Northbound: not connected',
        'start: not finished (initial sync and manifest load)',
      ]);
      expect(await get(base, '/healthz')).toEqual({ status: 200, body: { ok: true } });

      server = await startOvsdbServer({ dir, name: 'nb', schema: SCHEMAS.nb });
      await starting;
      const ready = await until(async () => {
        const r = await get(base, '/readyz');
        return r.status === 200 && r;
      }, 'ready');
      expect(ready.body).toEqual({ ready: true, reasons: [], databases: { Northbound: true }, writer: true });
      expect(agent.engine.health().passes).toBeGreaterThan(0);
      expect(agent.engine.problems()).toEqual([]);

      await server.stop();
      const down = await until(async () => {
        const r = await get(base, '/readyz');
        return r.status === 503 && r;
      }, 'not ready while NB is down');
      expect(down.body.reasons).toEqual(['Northbound: not connected']);
      expect(down.body.databases).toEqual({ Northbound: false });
      expect((await get(base, '/healthz')).status).toBe(200);

      await server.restart();
      await until(async () => (await get(base, '/readyz')).status === 200, 'ready again after NB is back');
    } finally {
      await starting.catch(() => undefined);
      await agent.stop();
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
