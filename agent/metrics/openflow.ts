/**
 * Flow counts of an OpenFlow bridge without dumping its flows: one table-statistics request on
 * the bridge's management socket (`<rundir>/<bridge>.mgmt`, ovs-vswitchd(8) "OpenFlow"), whose
 * reply carries each table's `active_count` — a counter ovs-vswitchd keeps per classifier, so
 * the cost is the same for 10 or 100,000 flows (a `dump-flows` would serialise every flow).
 *
 * Only what that needs of the OpenFlow wire protocol (OpenFlow 1.0 §5.3.5, 1.3 §7.3.5.2):
 * - `OFPT_HELLO` with a version bitmap offering 1.0 and 1.3–1.5; the version used is the
 *   highest one both sides offer (OpenFlow 1.3 §6.3.1);
 * - the table statistics request/reply: `OFPST_TABLE` (1.0, 64-byte entries) or
 *   `OFPMP_TABLE` (1.3+, 24-byte entries), over several replies while `REPLY_MORE` is set;
 * - `OFPT_ECHO_REQUEST` answered, `OFPT_ERROR` turned into an error.
 * The request goes out with the HELLO, in OpenFlow 1.5; a bridge limited to older versions
 * refuses it, and it is sent again in the negotiated version.
 * The codec functions are pure (tested on recorded bytes); {@link openflowTableStats} does I/O.
 */
import { connect } from 'node:net';
import { AgentError } from '../errors.js';

/** OpenFlow wire versions. */
export const OFP10 = 0x01;
export const OFP13 = 0x04;
const OFFERED = [0x01, 0x04, 0x05, 0x06];
/** OpenFlow 1.5, the highest version offered and the highest ovs-vswitchd enables by default. */
const OPTIMISTIC_VERSION = 0x06;

const T_HELLO = 0;
const T_ERROR = 1;
const T_ECHO_REQUEST = 2;
const T_ECHO_REPLY = 3;
/** OFPT_STATS_REQUEST/REPLY in 1.0; OFPT_MULTIPART_REQUEST/REPLY in 1.3+. */
const statsTypes = (version: number) => (version === OFP10 ? { req: 16, rep: 17 } : { req: 18, rep: 19 });
const STATS_TABLE = 3;
const REPLY_MORE = 1;
const HELLO_ELEM_VERSIONBITMAP = 1;

/** An OpenFlow exchange failed (`ERR_OPENFLOW`). */
export class OpenflowError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OPENFLOW', message, options);
  }
}

/** One table's statistics. */
export interface TableStats {
  table: number;
  /** Flows in the table. */
  active: number;
  lookups: bigint;
  matched: bigint;
}

function header(version: number, type: number, length: number, xid: number): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt8(version, 0);
  b.writeUInt8(type, 1);
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(xid, 4);
  return b;
}

/** OFPT_HELLO offering `versions` through a version bitmap element. */
export function encodeHello(versions: readonly number[] = OFFERED, xid = 1): Buffer {
  const b = header(Math.max(...versions), T_HELLO, 16, xid);
  b.writeUInt16BE(HELLO_ELEM_VERSIONBITMAP, 8);
  b.writeUInt16BE(8, 10);
  b.writeUInt32BE(versions.reduce((m, v) => m | (1 << v), 0) >>> 0, 12);
  return b;
}

/** The versions a peer's HELLO offers: its bitmap, or every version up to its header's. */
export function helloVersions(msg: Buffer): number[] {
  const top = msg.readUInt8(0);
  let off = 8;
  while (off + 4 <= msg.length) {
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2);
    if (len < 4) break;
    if (type === HELLO_ELEM_VERSIONBITMAP && len >= 8) {
      const bits = msg.readUInt32BE(off + 4);
      return [...Array(32).keys()].filter((v) => v > 0 && bits & (1 << v));
    }
    off += (len + 7) & ~7;
  }
  return [...Array(top).keys()].map((v) => v + 1);
}

/** The version to speak: the highest offered by both, or undefined. */
export function negotiate(peer: readonly number[], ours: readonly number[] = OFFERED): number | undefined {
  const common = ours.filter((v) => peer.includes(v));
  return common.length ? Math.max(...common) : undefined;
}

/** The table statistics request of `version`. */
export function encodeTableStatsRequest(version: number, xid: number): Buffer {
  const { req } = statsTypes(version);
  const b = header(version, req, version === OFP10 ? 12 : 16, xid);
  b.writeUInt16BE(STATS_TABLE, 8);
  return b;
}

/** One table statistics reply: its entries and whether more replies follow. */
export function decodeTableStatsReply(msg: Buffer): { tables: TableStats[]; more: boolean } {
  const version = msg.readUInt8(0);
  const { rep } = statsTypes(version);
  if (msg.readUInt8(1) !== rep || msg.length < 12 || msg.readUInt16BE(8) !== STATS_TABLE) {
    throw new OpenflowError(`not a table statistics reply (type ${msg.readUInt8(1)})`);
  }
  const more = (msg.readUInt16BE(10) & REPLY_MORE) !== 0;
  const [start, size] = version === OFP10 ? [12, 64] : [16, 24];
  const tables: TableStats[] = [];
  for (let off = start; off + size <= msg.length; off += size) {
    tables.push(
      version === OFP10
        ? {
            table: msg.readUInt8(off),
            active: msg.readUInt32BE(off + 44),
            lookups: msg.readBigUInt64BE(off + 48),
            matched: msg.readBigUInt64BE(off + 56),
          }
        : {
            table: msg.readUInt8(off),
            active: msg.readUInt32BE(off + 4),
            lookups: msg.readBigUInt64BE(off + 8),
            matched: msg.readBigUInt64BE(off + 16),
          },
    );
  }
  return { tables, more };
}

/** Cuts complete OpenFlow messages off the front of `buf`; returns them and the rest. */
export function splitMessages(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const len = buf.readUInt16BE(off + 2);
    if (len < 8) throw new OpenflowError(`bad message length ${len}`);
    if (buf.length - off < len) break;
    messages.push(buf.subarray(off, off + len));
    off += len;
  }
  return { messages, rest: buf.subarray(off) };
}

/** Options of {@link openflowTableStats}. */
export interface OpenflowOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * Connects to the OpenFlow socket `socketPath` (e.g. `/var/run/openvswitch/br-int.mgmt`),
 * negotiates a version and returns every table's statistics.
 * @throws OpenflowError (`ERR_OPENFLOW`) on a connect failure, an OpenFlow error reply, no
 *   common version, a malformed reply or the timeout.
 */
export function openflowTableStats(socketPath: string, options: OpenflowOptions = {}): Promise<TableStats[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const tables: TableStats[] = [];
    let version: number | undefined;
    let pending: Buffer = Buffer.alloc(0);
    /** The request sent with the HELLO, in the highest version we offer (ovs-vswitchd's default). */
    const OPTIMISTIC_XID = 2;
    let xid = OPTIMISTIC_XID;
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(tables);
    };
    const timer = setTimeout(
      () =>
        done(new OpenflowError(`${socketPath}: no table statistics within ${options.timeoutMs ?? 5000} ms`)),
      options.timeoutMs ?? 5000,
    );
    const onMessage = (msg: Buffer) => {
      const type = msg.readUInt8(1);
      if (type === T_HELLO) {
        version = negotiate(helloVersions(msg));
        if (version === undefined)
          return done(new OpenflowError(`${socketPath}: no common OpenFlow version`));
        if (version !== OPTIMISTIC_VERSION) {
          // The bridge speaks an older version: the early request is refused; ask again in it.
          xid = OPTIMISTIC_XID + 1;
          sock.write(encodeTableStatsRequest(version, xid));
        }
      } else if (type === T_ECHO_REQUEST) {
        const reply = Buffer.from(msg);
        reply.writeUInt8(T_ECHO_REPLY, 1);
        sock.write(reply);
      } else if (type === T_ERROR) {
        if (msg.readUInt32BE(4) !== xid) return; // the refused early request
        const code = msg.length >= 12 ? ` type ${msg.readUInt16BE(8)} code ${msg.readUInt16BE(10)}` : '';
        done(new OpenflowError(`${socketPath}: OpenFlow error${code}`));
      } else if (version !== undefined && type === statsTypes(version).rep && msg.readUInt32BE(4) === xid) {
        const r = decodeTableStatsReply(msg);
        tables.push(...r.tables);
        if (!r.more) done();
      }
    };
    // HELLO and the request in one write: vswitchd answers within one pass of its main loop when
    // the version it negotiates is the one the request guessed (the common case).
    sock.on('connect', () =>
      sock.write(Buffer.concat([encodeHello(), encodeTableStatsRequest(OPTIMISTIC_VERSION, OPTIMISTIC_XID)])),
    );
    sock.on('data', (chunk: Buffer) => {
      try {
        const { messages, rest } = splitMessages(pending.length ? Buffer.concat([pending, chunk]) : chunk);
        pending = rest;
        for (const m of messages) onMessage(m);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
    sock.on('error', (err) => done(new OpenflowError(`${socketPath}: ${err.message}`, { cause: err })));
    sock.on('close', () => done(new OpenflowError(`${socketPath}: closed before the reply`)));
  });
}
