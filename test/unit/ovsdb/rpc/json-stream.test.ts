import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonStreamDecoder } from '../../../../ovsdb/rpc/json-stream.js';
import { OvsdbProtocolError } from '../../../../ovsdb/rpc/errors.js';

/** Feeds `chunks` to a fresh decoder and returns every value it produced. */
function decode(chunks: Buffer[], opts?: { maxMessageBytes?: number }): unknown[] {
  const d = new JsonStreamDecoder(opts);
  const out: unknown[] = [];
  for (const c of chunks) d.push(c, (v) => out.push(v));
  expect(d.bufferedBytes).toBe(0);
  return out;
}

/** Cuts `buf` at the given offsets. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of [...at].sort((a, b) => a - b)) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

const update = {
  id: null,
  method: 'update2',
  params: [
    'mon',
    {
      Logical_Switch: {
        'aa7b2c3e-0000-4000-8000-000000000001': {
          insert: { name: 'ls-ünïcødé-日本-🚀', other_config: ['map', [['k"ey', 'v\\al"ue']]] },
        },
      },
    },
  ],
};
const reply = { id: 7, result: [{ uuid: ['uuid', 'aa7b2c3e-0000-4000-8000-000000000001'] }], error: null };
const echo = { id: 'echo', method: 'echo', params: [] };
const messages = [update, reply, echo];
const stream = Buffer.from(messages.map((m) => JSON.stringify(m)).join(''));

describe('JsonStreamDecoder', () => {
  it('decodes several messages packed in one chunk', () => {
    expect(decode([stream])).toEqual(messages);
  });

  it('decodes a stream cut at every single byte position', () => {
    for (let p = 0; p <= stream.length; p++) {
      expect(decode(cut(stream, [p]))).toEqual(messages);
    }
  });

  it('decodes a stream cut at every pair of byte positions', () => {
    const small = Buffer.from('{"a":"\\"}"}[1,{"b":"é"}]');
    for (let p = 0; p <= small.length; p++) {
      for (let q = p; q <= small.length; q++) {
        expect(decode(cut(small, [p, q]))).toEqual([{ a: '"}' }, [1, { b: 'é' }]]);
      }
    }
  });

  it('decodes one byte at a time', () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(decode(bytes)).toEqual(messages);
  });

  it('handles cuts at the front, middle and end of a message', () => {
    const one = Buffer.from(JSON.stringify(reply));
    expect(decode(cut(one, [1]))).toEqual([reply]);
    expect(decode(cut(one, [one.length >> 1]))).toEqual([reply]);
    expect(decode(cut(one, [one.length - 1]))).toEqual([reply]);
  });

  it('does not end a value on a bracket inside a string or after an escaped quote', () => {
    const text = '{"s":"} ] { [ \\" } \\\\"}';
    expect(decode([Buffer.from(text)])).toEqual([{ s: '} ] { [ " } \\' }]);
    // split right after the backslash of \" so the escape state must survive the chunk edge
    const at = text.indexOf('\\"') + 1;
    expect(decode(cut(Buffer.from(text), [at]))).toEqual([{ s: '} ] { [ " } \\' }]);
  });

  it('decodes a multi-byte UTF-8 character split between chunks', () => {
    const text = Buffer.from('{"x":"🚀"}');
    const rocket = text.indexOf(0xf0);
    for (let k = 1; k < 4; k++) expect(decode(cut(text, [rocket + k]))).toEqual([{ x: '🚀' }]);
  });

  it('skips whitespace between values and holds back nothing after a complete value', () => {
    expect(decode([Buffer.from(' \n{"a":1}\r\n\t [2] \n')])).toEqual([{ a: 1 }, [2]]);
  });

  it('reports a partial message as buffered until it completes', () => {
    const d = new JsonStreamDecoder();
    const out: unknown[] = [];
    d.push(Buffer.from('{"a":[1,'), (v) => out.push(v));
    expect(out).toEqual([]);
    expect(d.bufferedBytes).toBe(8);
    d.push(Buffer.from('2]}{"b"'), (v) => out.push(v));
    expect(out).toEqual([{ a: [1, 2] }]);
    expect(d.bufferedBytes).toBe(4);
  });

  it('rejects a bare scalar at top level and stays failed', () => {
    const d = new JsonStreamDecoder();
    expect(() => d.push(Buffer.from('42'), () => {})).toThrow(OvsdbProtocolError);
    expect(() => d.push(Buffer.from('{}'), () => {})).toThrow(/expected '\{' or '\['/);
  });

  it('rejects invalid JSON inside a framed value with OVSDB_PROTOCOL_ERROR', () => {
    const d = new JsonStreamDecoder();
    let err: unknown;
    try {
      d.push(Buffer.from('{"a":1,}'), () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OvsdbProtocolError);
    expect((err as OvsdbProtocolError).code).toBe('OVSDB_PROTOCOL_ERROR');
  });

  it('enforces maxMessageBytes across chunks with OVSDB_MESSAGE_TOO_LARGE', () => {
    const d = new JsonStreamDecoder({ maxMessageBytes: 10 });
    const out: unknown[] = [];
    d.push(Buffer.from('{"a":1}'), (v) => out.push(v)); // 7 bytes: fine
    d.push(Buffer.from('{"b":"12'), (v) => out.push(v));
    expect(() => d.push(Buffer.from('345"}'), () => {})).toThrow(
      expect.objectContaining({ code: 'OVSDB_MESSAGE_TOO_LARGE' }),
    );
    expect(out).toEqual([{ a: 1 }]);
  });

  it('decodes a message of tens of megabytes split into 64 KiB chunks', () => {
    const rows: Record<string, unknown> = {};
    for (let i = 0; i < 150_000; i++) {
      rows[`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`] = {
        insert: { name: `port-${i}`, addresses: ['set', [`00:00:00:00:00:01 10.0.0.${i % 250}`]] },
      };
    }
    const big = Buffer.from(JSON.stringify({ id: 1, result: { Logical_Switch_Port: rows }, error: null }));
    expect(big.length).toBeGreaterThan(16 * 1024 * 1024);
    const chunks: Buffer[] = [];
    for (let off = 0; off < big.length; off += 65536) chunks.push(big.subarray(off, off + 65536));
    chunks.push(Buffer.from('{"id":2,"result":[],"error":null}'));
    const out = decode(chunks) as Array<{ id: number; result: { Logical_Switch_Port?: object } }>;
    expect(out).toHaveLength(2);
    expect(Object.keys(out[0]!.result.Logical_Switch_Port!)).toHaveLength(150_000);
    expect(out[1]!.id).toBe(2);
  });

  it('round-trips random JSON values under random chunking (property)', () => {
    const topLevel = fc.oneof(
      fc.array(fc.jsonValue()),
      fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue()),
    );
    fc.assert(
      fc.property(
        fc.array(topLevel, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom('', ' ', '\n', ' \r\n\t'),
        (values, cuts, sep) => {
          const wire = Buffer.from(values.map((v) => JSON.stringify(v)).join(sep));
          const chunks = cut(
            wire,
            cuts.map((c) => c % (wire.length + 1)),
          );
          const expected = values.map((v) => JSON.parse(JSON.stringify(v)) as unknown);
          expect(decode(chunks)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
