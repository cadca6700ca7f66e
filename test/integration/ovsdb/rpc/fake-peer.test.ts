import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';
import { JsonStreamDecoder } from '../../../../ovsdb/rpc/json-stream.js';

/** A unix socket server in the test playing ovsdb-server: records what the client writes. */
interface FakePeer {
  remote: string;
  /** Resolves with the server side of the next accepted connection. */
  accepted: Promise<net.Socket>;
  /** Messages received from the client, decoded. */
  received: unknown[];
  /** Resolves once `received` has an element matching `pred`. */
  waitFor(pred: (m: unknown) => boolean): Promise<unknown>;
  close(): Promise<void>;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpc-fake-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakePeer(): Promise<FakePeer> {
  const sock = path.join(dir, 'fake.sock');
  const received: unknown[] = [];
  const waiters: Array<{ pred: (m: unknown) => boolean; resolve: (m: unknown) => void }> = [];
  const sockets: net.Socket[] = [];
  let onAccept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (onAccept = r));
  const server = net.createServer((s) => {
    sockets.push(s);
    const dec = new JsonStreamDecoder();
    s.on('data', (chunk) =>
      dec.push(chunk, (m) => {
        received.push(m);
        for (const w of waiters.splice(0))
          if (w.pred(m)) w.resolve(m);
          else waiters.push(w);
      }),
    );
    s.on('error', () => {});
    onAccept(s);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    remote: `unix:${sock}`,
    accepted,
    received,
    waitFor: (pred) => {
      const hit = received.find(pred);
      return hit !== undefined
        ? Promise.resolve(hit)
        : new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('RpcConnection against a scripted peer', () => {
  it('answers an echo at once while a notification handler is still busy', async () => {
    const peer = await fakePeer();
    const conn = await RpcConnection.connect(peer.remote, { probeIntervalMs: 0 });
    try {
      const server = await peer.accepted;
      let release!: () => void;
      const busy = new Promise<void>((r) => (release = r));
      const handled: unknown[] = [];
      conn.onNotification('update3', async (params) => {
        handled.push(params[0]);
        await busy; // the application is still applying a big update
      });
      // One write: a notification, the echo request, then another notification.
      server.write(
        '{"id":null,"method":"update3","params":["m",null,{}]}' +
          '{"id":"probe-1","method":"echo","params":["x",1]}' +
          '{"id":null,"method":"update3","params":["n",null,{}]}',
      );
      const reply = await peer.waitFor((m) => (m as { id?: unknown }).id === 'probe-1');
      expect(reply).toEqual({ id: 'probe-1', result: ['x', 1], error: null });
      expect(conn.stats().echoesAnswered).toBe(1);
      expect(handled).toEqual(['m']); // the second update waits for the first handler
      release();
      await new Promise((r) => setTimeout(r, 20));
      expect(handled).toEqual(['m', 'n']);
    } finally {
      await conn.close();
      await peer.close();
    }
  });

  it('sends an echo probe after silence and closes with OVSDB_PROBE_TIMEOUT when the peer stays silent', async () => {
    const peer = await fakePeer();
    const conn = await RpcConnection.connect(peer.remote, { probeIntervalMs: 150 });
    try {
      const closed = new Promise<Error | undefined>((r) => conn.once('close', r));
      const probe = await peer.waitFor((m) => (m as { method?: string }).method === 'echo');
      expect(probe).toEqual({ id: 'echo', method: 'echo', params: [] });
      const reason = await closed;
      expect(reason).toMatchObject({ code: 'OVSDB_PROBE_TIMEOUT' });
      expect(conn.stats().probesSent).toBe(1);
    } finally {
      await conn.close();
      await peer.close();
    }
  });

  it('keeps the connection while the peer answers probes', async () => {
    const peer = await fakePeer();
    const conn = await RpcConnection.connect(peer.remote, { probeIntervalMs: 100 });
    try {
      const server = await peer.accepted;
      let answered = 0;
      const dec = new JsonStreamDecoder();
      server.on('data', (chunk) =>
        dec.push(chunk, (m) => {
          const msg = m as { id: unknown; method?: string; params?: unknown[] };
          if (msg.method === 'echo') {
            answered++;
            server.write(JSON.stringify({ id: msg.id, result: msg.params, error: null }));
          }
        }),
      );
      while (answered < 3) await new Promise((r) => setTimeout(r, 50));
      expect(conn.isClosed).toBe(false);
    } finally {
      await conn.close();
      await peer.close();
    }
  });

  it('closes with OVSDB_PROTOCOL_ERROR on garbage and fails pending requests', async () => {
    const peer = await fakePeer();
    const conn = await RpcConnection.connect(peer.remote, { probeIntervalMs: 0 });
    try {
      const server = await peer.accepted;
      const closed = new Promise<Error | undefined>((r) => conn.once('close', r));
      const pending = conn.request('list_dbs', []).catch((e: unknown) => e);
      await peer.waitFor((m) => (m as { method?: string }).method === 'list_dbs');
      server.write('{"id":1,"result":[]}oops');
      // The valid reply before the garbage is still delivered.
      expect(await pending).toEqual([]);
      expect(await closed).toMatchObject({ code: 'OVSDB_PROTOCOL_ERROR' });
    } finally {
      await conn.close();
      await peer.close();
    }
  });

  it('coalesces requests issued in one tick into one write', async () => {
    const peer = await fakePeer();
    const conn = await RpcConnection.connect(peer.remote, { probeIntervalMs: 0 });
    try {
      const server = await peer.accepted;
      const chunks: Buffer[] = [];
      server.on('data', (c) => chunks.push(c));
      for (let i = 0; i < 50; i++) void conn.request('echo', [i]).catch(() => {});
      await peer.waitFor((m) => JSON.stringify((m as { params?: unknown }).params) === '[49]');
      expect(peer.received).toHaveLength(50);
      expect(chunks).toHaveLength(1);
      expect(chunks[0]!.toString().startsWith('{"id":1,"method":"echo","params":[0]}{"id":2,')).toBe(true);
    } finally {
      await conn.close();
      await peer.close();
    }
  });
});
