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

/**
 * A unixctl answer: the command's output, or its error text; `raw` is written as is, `json` is
 * a JSON result (an OVSDB method's reply, e.g. `transact`).
 */
export type UnixctlReply = string | { error: string } | { raw: string } | { json: unknown };

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
            : 'json' in r
              ? { id: req.id, result: r.json, error: null }
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
 * recorded replies to each request (their xid rewritten to the request's). With `onlyVersion`
 * it plays a bridge limited to that version: its HELLO says so, and a request in another version
 * gets OFPET_BAD_REQUEST/OFPBRC_BAD_VERSION, as ovs-vswitchd answers.
 */
export async function openflowReplay(
  socket: string,
  messages: Buffer[],
  opts: { onlyVersion?: number } = {},
) {
  const [hello, ...replies] = messages;
  const requests: { version: number; xid: number }[] = [];
  const counts = { connections: 0 };
  const server = createServer((conn) => {
    counts.connections++;
    if (opts.onlyVersion !== undefined) {
      const h = Buffer.from('0000000800000000', 'hex');
      h.writeUInt8(opts.onlyVersion, 0);
      conn.write(h);
    } else conn.write(hello!);
    let pending: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8 && pending.length >= pending.readUInt16BE(2)) {
        const msg = pending.subarray(0, pending.readUInt16BE(2));
        pending = pending.subarray(msg.length);
        const [version, type, xid] = [msg.readUInt8(0), msg.readUInt8(1), msg.readUInt32BE(4)];
        if (type === 0) continue;
        requests.push({ version, xid });
        if (opts.onlyVersion !== undefined && version !== opts.onlyVersion) {
          const err = Buffer.from('0001000c00000000' + '00010000', 'hex');
          err.writeUInt8(opts.onlyVersion, 0);
          err.writeUInt32BE(xid, 4);
          conn.write(err);
          continue;
        }
        for (const r of replies) {
          const copy = Buffer.from(r);
          copy.writeUInt32BE(xid, 4);
          conn.write(copy);
        }
      }
    });
  });
  return { ...(await listen(server, socket)), requests, counts };
}
