/**
 * Replay servers for the collector unit tests: unix sockets in a temporary directory that
 * answer with replies RECORDED from a real ovs-vswitchd (test/fixtures/metrics/, recorded by
 * scripts/record-metrics-fixtures.ts), or with deliberately wrong ones. No daemon runs; the
 * integration tier reads a real one.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { JsonStreamDecoder } from '../../../../ovsdb/index.js';

export const FIXTURES = path.resolve('test/fixtures/metrics');
export const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
/** The server messages of a recorded OpenFlow exchange (one hex message a line). */
export const openflowFixture = (name: string) =>
  fixture(name)
    .trim()
    .split('\n')
    .map((h) => Buffer.from(h, 'hex'));

/** A unixctl answer: the command's output, or its error text. */
export type UnixctlReply = string | { error: string } | { raw: string };

async function listen(server: Server, socket: string): Promise<{ close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  const open = new Set<Socket>();
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A unixctl server answering each command from `replies`; unknown commands get OVS's error. */
export async function unixctlReplay(socket: string, replies: Record<string, UnixctlReply>) {
  const seen: string[] = [];
  const server = createServer((conn) => {
    const decoder = new JsonStreamDecoder();
    conn.on('data', (chunk: Buffer) =>
      decoder.push(chunk, (v) => {
        const req = v as { method: string; id: unknown };
        seen.push(req.method);
        const r = replies[req.method] ?? { error: `"${req.method}" is not a valid command` };
        if (typeof r === 'object' && 'raw' in r) return void conn.write(r.raw);
        const body =
          typeof r === 'string'
            ? { id: req.id, result: r, error: null }
            : { id: req.id, result: null, error: r.error };
        conn.write(JSON.stringify(body));
      }),
    );
  });
  const handle = await listen(server, socket);
  return { ...handle, seen };
}

/**
 * An OpenFlow server replaying recorded messages: the recorded HELLO on connect, then the
 * recorded replies to whatever request comes (their xid rewritten to the request's).
 */
export async function openflowReplay(socket: string, messages: Buffer[]) {
  const [hello, ...replies] = messages;
  const server = createServer((conn) => {
    conn.write(hello!);
    let greeted = false;
    conn.on('data', (chunk: Buffer) => {
      // First our HELLO, then the request: answer once a request (type ≠ HELLO) arrives.
      for (let off = 0; off + 8 <= chunk.length; off += chunk.readUInt16BE(off + 2)) {
        const type = chunk.readUInt8(off + 1);
        if (type === 0) greeted = true;
        else if (greeted) {
          const xid = chunk.readUInt32BE(off + 4);
          for (const r of replies) {
            const copy = Buffer.from(r);
            copy.writeUInt32BE(xid, 4);
            conn.write(copy);
          }
        }
      }
    });
  });
  return listen(server, socket);
}
