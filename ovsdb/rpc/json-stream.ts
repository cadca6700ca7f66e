import { OvsdbProtocolError } from './errors.js';

/**
 * Framing for a stream of back-to-back JSON texts, as ovsdb-server and OVS unixctl servers
 * write them: RFC 7047 §4 messages are JSON objects sent one after another on the stream
 * with no delimiter (no newline, no length prefix), possibly with whitespace in between.
 *
 * Why hand-written: the npm packages that split concatenated JSON either re-tokenize every
 * value in JavaScript (JSON parsers written in JS, several times slower than `JSON.parse`),
 * expect newline-delimited JSON (ovsdb-server does not send newlines), or re-scan the whole
 * buffered backlog on every chunk (quadratic for a multi-megabyte initial monitor dump).
 * None is kept up to date with a small footprint. Framing is simple enough to own: we only
 * need to know where a top-level value ends, which a byte scanner tracking nesting depth,
 * "inside a string" and "after a backslash" decides. The completed slice is handed to the
 * native `JSON.parse`.
 *
 * Properties:
 * - O(n) in total: the scanner state survives between chunks, so each byte is scanned once;
 *   a message split over k chunks is concatenated once, when it completes.
 * - UTF-8 safe at any split point: every byte of a multi-byte UTF-8 sequence is ≥ 0x80, so
 *   it can never be mistaken for `"`, `\`, brackets or braces; bytes are decoded only once
 *   the whole message is available.
 * - Top-level values must be objects or arrays (JSON-RPC messages are objects, RFC 7047
 *   §4.1); a bare scalar at top level has no end marker in an undelimited stream.
 */
export interface JsonStreamOptions {
  /**
   * Largest accepted message in bytes; a longer one fails with `OVSDB_MESSAGE_TOO_LARGE`.
   * Default 256 MiB: far above a real OVN Southbound dump, and V8 cannot build strings
   * much longer than 512 MiB anyway. `0` means no limit.
   */
  maxMessageBytes?: number;
}

/** Default for {@link JsonStreamOptions.maxMessageBytes}. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Incremental decoder: feed it socket chunks with {@link JsonStreamDecoder.push}; it calls
 * `onValue` for each complete top-level value, in order. After a protocol error every later
 * `push` throws the same error (the stream cannot be resynchronised; close the connection).
 *
 * The decoder keeps references to the chunks of an incomplete message, so callers must not
 * reuse a chunk's memory after pushing it (socket `data` buffers are never reused).
 */
export class JsonStreamDecoder {
  private readonly maxBytes: number;
  /** Pieces of the current message that arrived in earlier chunks. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Nesting depth of the current value; 0 between values. */
  private depth = 0;
  private inString = false;
  /** The previous byte was an unescaped backslash inside a string. */
  private escaped = false;
  private failure: OvsdbProtocolError | undefined;

  constructor(options: JsonStreamOptions = {}) {
    this.maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes of an incomplete message held back, waiting for more input. */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  /**
   * Scans `chunk`, calling `onValue` for every value completed by it.
   * @throws OvsdbProtocolError on bytes that cannot start a value, invalid JSON, or a message
   *   above `maxMessageBytes`.
   */
  push(chunk: Buffer, onValue: (value: unknown) => void): void {
    if (this.failure) throw this.failure;
    const n = chunk.length;
    let i = 0;
    // Start of the current value inside this chunk (0 when it began in an earlier chunk).
    let start = 0;
    while (i < n) {
      if (this.depth === 0) {
        const c = chunk[i]!;
        if (c === SPACE || c === LF || c === CR || c === TAB) {
          i++;
          continue;
        }
        if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
          throw this.fail(
            `expected '{' or '[' at the start of a message, got ${JSON.stringify(String.fromCharCode(c))}`,
          );
        }
        start = i;
        this.depth = 1;
        i++;
      }
      // Scan the value; the state lives in locals for speed and is saved on exit.
      let depth = this.depth;
      let inString = this.inString;
      let escaped = this.escaped;
      for (; i < n; i++) {
        if (inString) {
          // Jump to the next quote with the native memchr, then decide whether it is escaped
          // by the parity of the backslash run before it (plus a backslash carried over from
          // the previous chunk when the run reaches back to where this scan started).
          const q = chunk.indexOf(QUOTE, i);
          if (q < 0) {
            escaped = trailingBackslashes(chunk, i, n, escaped);
            i = n;
            break;
          }
          if (trailingBackslashes(chunk, i, q, escaped)) {
            escaped = false;
          } else {
            inString = false;
            escaped = false;
          }
          i = q;
          continue;
        }
        const c = chunk[i]!;
        if (c === QUOTE) {
          inString = true;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          depth++;
        } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
          i++;
          break;
        }
      }
      this.depth = depth;
      this.inString = inString;
      this.escaped = escaped;
      const size = this.partsBytes + (i - start);
      if (this.maxBytes > 0 && size > this.maxBytes) {
        throw this.fail(`message exceeds ${this.maxBytes} bytes`, 'OVSDB_MESSAGE_TOO_LARGE');
      }
      if (depth > 0) {
        // Incomplete: keep the tail (no copy) until a later chunk completes it.
        this.parts.push(start === 0 ? chunk : chunk.subarray(start));
        this.partsBytes = size;
        return;
      }
      let text: string;
      if (this.parts.length === 0) {
        text = chunk.toString('utf8', start, i);
      } else {
        this.parts.push(chunk.subarray(start, i));
        text = Buffer.concat(this.parts, size).toString('utf8');
        this.parts = [];
        this.partsBytes = 0;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw this.fail(`invalid JSON: ${(err as Error).message}`, 'OVSDB_PROTOCOL_ERROR', err);
      }
      onValue(value);
    }
  }

  /** Forgets any partial message and error state (for reuse on a new stream). */
  reset(): void {
    this.parts = [];
    this.partsBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.failure = undefined;
  }

  private fail(message: string, code = 'OVSDB_PROTOCOL_ERROR', cause?: unknown): OvsdbProtocolError {
    this.parts = [];
    this.partsBytes = 0;
    this.failure = new OvsdbProtocolError(code, `JSON stream: ${message}`, { cause });
    return this.failure;
  }
}

/**
 * Whether the bytes `[from, to)` of `buf` end in an odd number of backslashes, counting a
 * backslash `carried` in from before `from` when the run reaches back that far.
 */
function trailingBackslashes(buf: Buffer, from: number, to: number, carried: boolean): boolean {
  let k = to;
  while (k > from && buf[k - 1] === BACKSLASH) k--;
  let odd = ((to - k) & 1) === 1;
  if (k === from && carried) odd = !odd;
  return odd;
}
