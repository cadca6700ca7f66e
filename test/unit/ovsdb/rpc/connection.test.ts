import { Duplex } from 'node:stream';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RpcConnection } from '../../../../ovsdb/rpc/connection.js';

/** An in-memory stream standing in for the socket: records every write, lets the test push input. */
class FakeSocket extends Duplex {
  readonly writes: string[] = [];
  override _read(): void {}
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.writes.push(String(chunk));
    cb();
  }
  /** Delivers `text` to the connection as one chunk from the peer. */
  feed(text: string): void {
    this.push(Buffer.from(text));
  }
}

function open(): { sock: FakeSocket; conn: RpcConnection } {
  const sock = new FakeSocket();
  const conn = new RpcConnection(sock as unknown as net.Socket, 'fake', { probeIntervalMs: 0 });
  return { sock, conn };
}

const tick = () => new Promise<void>((r) => process.nextTick(r));

describe('RpcConnection write coalescing', () => {
  it('writes a lone request at once, with no scheduling', async () => {
    const { sock, conn } = open();
    void conn.request('list_dbs', []).catch(() => {});
    expect(sock.writes).toEqual(['{"id":1,"method":"list_dbs","params":[]}']);
    await tick();
    expect(sock.writes).toHaveLength(1);
    // The next tick's first request goes out at once too.
    void conn.request('list_dbs', []).catch(() => {});
    expect(sock.writes).toHaveLength(2);
    await conn.close();
  });

  it('joins the requests after the first of one tick into one write at its end', async () => {
    const { sock, conn } = open();
    for (let i = 0; i < 20; i++) void conn.request('echo', [i]).catch(() => {});
    expect(sock.writes).toEqual(['{"id":1,"method":"echo","params":[0]}']);
    await tick();
    expect(sock.writes).toHaveLength(2);
    expect(sock.writes[1]!.startsWith('{"id":2,"method":"echo","params":[1]}{"id":3,')).toBe(true);
    expect(sock.writes[1]!.endsWith('{"id":20,"method":"echo","params":[19]}')).toBe(true);
    await conn.close();
  });

  it('writes a large burst in pieces while it is still being issued, in order and complete', async () => {
    const { sock, conn } = open();
    const pad = 'x'.repeat(1000);
    for (let i = 0; i < 200; i++) void conn.request('echo', [i, pad]).catch(() => {});
    // ~200 KB issued synchronously: some of it already went out, before the tick ended.
    expect(sock.writes.length).toBeGreaterThan(1);
    await tick();
    const all = sock.writes.join('');
    const ids = [...all.matchAll(/\{"id":(\d+),"method":"echo"/g)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await conn.close();
  });
});

describe('RpcConnection reply and notification order', () => {
  it('hands a reply out only after the notifications before it were handled, slow handlers included', async () => {
    const { sock, conn } = open();
    const events: string[] = [];
    conn.onNotification('update2', async (params) => {
      events.push(`start ${String(params[0])}`);
      await new Promise((r) => setImmediate(r));
      events.push(`end ${String(params[0])}`);
    });
    const reply = conn.request('transact', ['db']).then(() => events.push('reply'));
    await tick();
    sock.feed(
      '{"id":null,"method":"update2","params":["a",{}]}' +
        '{"id":null,"method":"update2","params":["b",{}]}' +
        '{"id":1,"result":[{}],"error":null}',
    );
    await reply;
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'reply']);
    await conn.close();
  });

  it('resolves a reply with nothing queued ahead of it before the next chunk is read', async () => {
    const { sock, conn } = open();
    const events: string[] = [];
    conn.onNotification('update2', (params) => void events.push(`update ${String(params[0])}`));
    const reply = conn.request('transact', ['db']).then(() => events.push('reply'));
    await tick();
    sock.feed('{"id":1,"result":[{}],"error":null}');
    sock.feed('{"id":null,"method":"update2","params":["after",{}]}');
    await reply;
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['reply', 'update after']);
    await conn.close();
  });
});
