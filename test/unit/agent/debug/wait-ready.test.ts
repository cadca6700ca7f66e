/** `vpc-agent wait-ready`: resolves once /readyz is 200, fails with the last reasons after the timeout. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitReady } from '../../../../agent/debug/status-cli.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A /readyz that answers 503 `notReadyFor` times, then 200 (never, with Infinity). */
async function readyz(notReadyFor: number): Promise<{ endpoint: string; asked: () => number }> {
  let asked = 0;
  server = createServer((_req, res) => {
    asked++;
    const ready = asked > notReadyFor;
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ready ? { ready } : { ready, reasons: ['Northbound: not connected'] }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, asked: () => asked };
}

describe('waitReady', () => {
  it('polls until /readyz answers 200', async () => {
    const s = await readyz(2);
    await waitReady(s.endpoint, 10_000, 20);
    expect(s.asked()).toBe(3);
  });

  it('fails after the timeout with the last reasons', async () => {
    const s = await readyz(Infinity);
    await expect(waitReady(s.endpoint, 200, 20)).rejects.toThrow(
      /not ready after 200 ms \(503: Northbound: not connected\)/,
    );
  });

  it('fails naming the connection error when nothing listens', async () => {
    const s = await readyz(0);
    const endpoint = s.endpoint;
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    await expect(waitReady(endpoint, 100, 20)).rejects.toThrow(
      /\/readyz not ready after 100 ms \(.*ECONNREFUSED/,
    );
  });
});
