/** The debug HTTP server: liveness always 200, readiness 200/503 with reasons, bad addresses refused. */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDebugServer, type DebugServer } from '../../../../agent/metrics/index.js';
import type { Readiness } from '../../../../agent/readiness.js';

describe('createDebugServer', () => {
  let server: DebugServer;
  let state: Readiness = {
    ready: false,
    reasons: ['Northbound: not connected'],
    databases: {},
    writer: false,
  };
  beforeAll(async () => {
    server = await createDebugServer({ ready: () => state, debug: () => ({ hello: 1 }) }, '127.0.0.1:0');
  });
  afterAll(async () => {
    await server.close();
  });

  it('/healthz is 200 while /readyz is 503 with the reasons, then both 200', async () => {
    const base = `http://${server.address}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('content-type')).toBe('application/json');
    expect(await notReady.json()).toEqual(state);
    state = { ready: true, reasons: [], databases: { Northbound: true }, writer: true };
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, reasons: [] });
    const nope = await fetch(`${base}/nope`);
    expect(nope.status).toBe(404);
    expect(await nope.json()).toEqual({ error: 'not found', paths: ['/healthz', '/readyz', '/debug'] });
  });

  it('fails to start on a bad address or a port in use', async () => {
    const handlers = { ready: () => state, debug: () => ({}) };
    await expect(createDebugServer(handlers, '127.0.0.1')).rejects.toThrow(/has no port/);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(createDebugServer(handlers, `127.0.0.1:${port}`)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
