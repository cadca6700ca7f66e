/**
 * Peer 1: the minimal raw client, the server-bound limit. `node:net`, hand-written JSON-RPC 1.0
 * (RFC 7047 §4.1): requests are `JSON.stringify`'d, replies are cut out of the byte stream by
 * a bracket-depth scanner and `JSON.parse`'d. No validation, no notation decoding, no cache.
 *
 * - seq:  one `transact` (§4.1.3) per switch, the next sent when the previous reply arrived.
 * - pipe: every `transact` written at once (window = all), then all replies awaited.
 * - sync: `monitor_cond_since` (ovsdb-server(7) §4.1.15) on every table of the schema file,
 *   every column named, timed from connect until the initial reply is parsed.
 * Each reply's `error` and each operation result's `error` (§5.2) are checked.
 */
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { runNodePeer, type PeerArgs } from '../protocol.js';
import { switchTransactionOps } from '../workload.js';

const DB = 'OVN_Northbound';
/** `monitor_cond_since` last-txn-id meaning "none": the server then sends everything. */
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Finds the ends of back-to-back top-level JSON objects in a byte stream (string/escape aware). */
class MessageScanner {
  private parts: Buffer[] = [];
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly onMessage: (text: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let k = 0; k < chunk.length; k++) {
      const c = chunk[k]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if ((c === 0x7d || c === 0x5d) && --this.depth === 0) {
        this.parts.push(chunk.subarray(start, k + 1));
        const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
        this.parts = [];
        start = k + 1;
        this.onMessage(whole.toString('utf8'));
      }
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }
}

interface Reply {
  id: unknown;
  method?: string;
  result?: unknown;
  error?: unknown;
  params?: unknown[];
}

/** One connection: numbered requests, replies resolved by id, server `echo` answered. */
class RawConnection {
  private nextId = 0;
  private readonly waiting = new Map<number, (r: Reply) => void>();

  private constructor(private readonly socket: net.Socket) {
    const scanner = new MessageScanner((text) => {
      const msg = JSON.parse(text) as Reply;
      if (msg.method === 'echo') {
        socket.write(JSON.stringify({ id: msg.id, result: msg.params ?? [], error: null }));
        return;
      }
      const done = typeof msg.id === 'number' ? this.waiting.get(msg.id) : undefined;
      if (done) {
        this.waiting.delete(msg.id as number);
        done(msg);
      }
    });
    socket.on('data', (chunk: Buffer) => scanner.push(chunk));
  }

  static connect(remote: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const m = /^tcp:(.+):(\d+)$/.exec(remote);
      const socket = m
        ? net.connect(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''))
        : net.connect(remote.replace(/^unix:/, ''));
      socket.once('error', reject);
      socket.once('connect', () => resolve(new RawConnection(socket)));
    });
  }

  /** Sends a request; the promise settles when its reply arrives. */
  request(method: string, params: unknown[]): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Throws on an RPC error or on any failed operation inside a transact result. */
function checkTransact(reply: Reply): void {
  if (reply.error !== null && reply.error !== undefined)
    throw new Error(`rpc error ${JSON.stringify(reply.error)}`);
  for (const r of reply.result as ({ error?: string } | null)[]) {
    if (r && r.error !== undefined) throw new Error(`transaction failed: ${JSON.stringify(reply.result)}`);
  }
}

async function setup(args: PeerArgs) {
  const schema = JSON.parse(await readFile(args.schema, 'utf8')) as {
    tables: Record<string, { columns: object }>;
  };
  // Every schema column, named (omitting `columns` would also bring `_version`), as IDLs ask.
  const requests = Object.fromEntries(
    Object.entries(schema.tables).map(([t, ts]) => [t, [{ columns: Object.keys(ts.columns) }]]),
  );
  return async ({ remote, phase, switches, ports }: PeerArgs) => {
    if (phase === 'sync') {
      const t0 = performance.now();
      const conn = await RawConnection.connect(remote);
      const reply = await conn.request('monitor_cond_since', [DB, 'bench', requests, ZERO_UUID]);
      if (reply.error !== null && reply.error !== undefined) throw new Error(JSON.stringify(reply.error));
      const seconds = (performance.now() - t0) / 1000;
      // result: [found, last-txn-id, table-updates3]; count the initial rows.
      const updates = (reply.result as [boolean, string, Record<string, Record<string, unknown>>])[2];
      const rows = Object.values(updates).reduce((n, t) => n + Object.keys(t).length, 0);
      keep = [conn, reply];
      return { seconds, rows, cache: false, note: 'monitor_cond_since, reply parsed, no cache' };
    }
    const conn = await RawConnection.connect(remote);
    const txn = (i: number) => [DB, ...switchTransactionOps(i, ports)];
    const t0 = performance.now();
    if (phase === 'seq') {
      for (let i = 0; i < switches; i++) checkTransact(await conn.request('transact', txn(i)));
    } else {
      const pending: Promise<Reply>[] = [];
      for (let i = 0; i < switches; i++) pending.push(conn.request('transact', txn(i)));
      for (const r of await Promise.all(pending)) checkTransact(r);
    }
    const seconds = (performance.now() - t0) / 1000;
    conn.close();
    return {
      seconds,
      txns: switches,
      ...(phase === 'pipe' ? { note: 'all transactions written at once (window = all)' } : {}),
    };
  };
}

/** Keeps the sync reply reachable until the runner has sampled memory. */
let keep: unknown;
void keep;

await runNodePeer(setup);
