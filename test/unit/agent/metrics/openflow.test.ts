/** The OpenFlow table-statistics codec and client, on messages recorded from ovs-vswitchd 3.1 (br-int of a sandbox node). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeTableStatsReply,
  encodeHello,
  encodeTableStatsRequest,
  helloVersions,
  negotiate,
  openflowTableStats,
  createOpenflowSession,
  OpenflowError,
  splitMessages,
} from '../../../../agent/metrics/openflow.js';
import { openflowFixture, openflowReplay } from './replay.js';

const of10 = openflowFixture('openflow-table-stats-of10.hex');
const of15 = openflowFixture('openflow-table-stats-of15.hex');
const sum = (t: { active: number }[]) => t.reduce((n, x) => n + x.active, 0);

describe('OpenFlow codec', () => {
  it('offers 1.0 and 1.3–1.5 in a version bitmap and reads the peer’s versions', () => {
    const hello = encodeHello();
    expect(hello.toString('hex')).toBe('0600001000000001' + '00010008' + '00000072');
    expect(helloVersions(hello)).toEqual([1, 4, 5, 6]);
    // ovs-vswitchd's recorded HELLO has no bitmap: every version up to 1.5 (0x06).
    expect(helloVersions(of15[0]!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(negotiate(helloVersions(of15[0]!))).toBe(6);
    expect(negotiate([2, 3])).toBeUndefined();
  });

  it('encodes the 1.0 and 1.3+ table statistics requests', () => {
    expect(encodeTableStatsRequest(1, 7).toString('hex')).toBe('0110000c000000070003' + '0000');
    expect(encodeTableStatsRequest(4, 7).toString('hex')).toBe('04120010000000070003' + '0000' + '00000000');
  });

  it('decodes both recorded replies to the same 254 tables and flow count', () => {
    const a = decodeTableStatsReply(of10[1]!);
    const b = decodeTableStatsReply(of15[1]!);
    expect(a.tables).toHaveLength(254);
    expect(b.tables).toHaveLength(254);
    expect(a.more || b.more).toBe(false);
    expect(sum(a.tables)).toBe(sum(b.tables));
    expect(sum(b.tables)).toBe(141);
    expect(b.tables[0]).toMatchObject({ table: 0, active: 3 });
    expect(a.tables.map((t) => t.active)).toEqual(b.tables.map((t) => t.active));
  });

  it('rejects a message that is not a table statistics reply', () => {
    expect(() => decodeTableStatsReply(of15[0]!)).toThrow(OpenflowError);
  });

  it('frames messages cut at any point of the stream', () => {
    const stream = Buffer.concat([of15[0]!, of15[1]!]);
    for (const cut of [1, 7, 8, 9, 100, stream.length - 1]) {
      const first = splitMessages(stream.subarray(0, cut));
      const second = splitMessages(Buffer.concat([first.rest, stream.subarray(cut)]));
      const all = [...first.messages, ...second.messages];
      expect(all.map((m) => m.length)).toEqual([of15[0]!.length, of15[1]!.length]);
      expect(second.rest.length).toBe(0);
    }
    expect(() => splitMessages(Buffer.from('0600000400000001', 'hex'))).toThrow(/bad message length/);
  });
});

describe('openflowTableStats against a replay of the recorded exchange', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vpca-of-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('negotiates and sums every table', async () => {
    const sock = path.join(dir, 'br-int.mgmt');
    const srv = await openflowReplay(sock, of15);
    try {
      expect(sum(await openflowTableStats(sock))).toBe(141);
    } finally {
      await srv.close();
    }
  });

  it('sends the request with its HELLO in 1.5; a bridge limited to 1.0 refuses it and gets it again in 1.0', async () => {
    const fast = path.join(dir, 'fast.mgmt');
    const a = await openflowReplay(fast, of15);
    const slow = path.join(dir, 'of10.mgmt');
    const b = await openflowReplay(slow, of10, { onlyVersion: 1 });
    try {
      expect(sum(await openflowTableStats(fast))).toBe(141);
      expect(a.requests).toEqual([{ version: 6, xid: 2 }]);
      expect(sum(await openflowTableStats(slow))).toBe(141);
      expect(b.requests).toEqual([
        { version: 6, xid: 2 },
        { version: 1, xid: 3 },
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a session keeps one connection for many requests and opens a new one after a failure', async () => {
    const sock = path.join(dir, 'session.mgmt');
    let srv = await openflowReplay(sock, of15);
    const session = createOpenflowSession(sock);
    try {
      const results = await Promise.all([session.tableStats(), session.tableStats(), session.tableStats()]);
      expect(results.map(sum)).toEqual([141, 141, 141]);
      expect(srv.counts.connections).toBe(1);
      expect(srv.requests.map((r) => r.version)).toEqual([6, 6, 6]);
      await srv.close(); // drops the connection
      await expect(session.tableStats({ timeoutMs: 500 })).rejects.toMatchObject({ code: 'ERR_OPENFLOW' });
      srv = await openflowReplay(sock, of15);
      expect(sum(await session.tableStats())).toBe(141);
      expect(srv.counts.connections).toBe(1);
    } finally {
      session.close();
      await srv.close();
    }
  });

  it('gathers a reply split over several messages (REPLY_MORE)', async () => {
    const reply = of15[1]!;
    const head = reply.subarray(0, 16);
    const entries = reply.subarray(16);
    const part = (body: Buffer, more: boolean) => {
      const m = Buffer.concat([head, body]);
      m.writeUInt16BE(m.length, 2);
      m.writeUInt16BE(more ? 1 : 0, 10);
      return m;
    };
    const cut = 24 * 100;
    const sock = path.join(dir, 'split.mgmt');
    const srv = await openflowReplay(sock, [
      of15[0]!,
      part(entries.subarray(0, cut), true),
      part(entries.subarray(cut), false),
    ]);
    try {
      const tables = await openflowTableStats(sock);
      expect(tables).toHaveLength(254);
      expect(sum(tables)).toBe(141);
    } finally {
      await srv.close();
    }
  });

  it('fails with ERR_OPENFLOW on an error reply, a missing socket and a silent peer', async () => {
    const err = Buffer.from('0601000c00000000' + '00050002', 'hex'); // OFPET_BAD_REQUEST-ish
    const sock = path.join(dir, 'err.mgmt');
    const srv = await openflowReplay(sock, [of15[0]!, err]);
    try {
      await expect(openflowTableStats(sock)).rejects.toMatchObject({
        code: 'ERR_OPENFLOW',
        message: /OpenFlow error type 5 code 2/,
      });
    } finally {
      await srv.close();
    }
    await expect(openflowTableStats(path.join(dir, 'none.mgmt'))).rejects.toMatchObject({
      code: 'ERR_OPENFLOW',
    });
    const silent = path.join(dir, 'silent.mgmt');
    const quiet = await openflowReplay(silent, [Buffer.from('0600000800000010', 'hex')]);
    try {
      await expect(openflowTableStats(silent, { timeoutMs: 200 })).rejects.toThrow(
        /no table statistics within 200 ms/,
      );
    } finally {
      await quiet.close();
    }
  });
});
