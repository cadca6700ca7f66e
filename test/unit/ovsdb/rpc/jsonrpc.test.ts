import { describe, expect, it, vi } from 'vitest';
import {
  JsonRpcEndpoint,
  MessageKind,
  encodeError,
  encodeNotification,
  encodeRequest,
  encodeResult,
  messageKind,
} from '../../../../ovsdb/rpc/jsonrpc.js';
import {
  OvsdbConnectionError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbTimeoutError,
} from '../../../../ovsdb/rpc/errors.js';

/** An endpoint whose writes are captured as wire texts. */
function endpoint(): { ep: JsonRpcEndpoint; sent: string[] } {
  const sent: string[] = [];
  return { ep: new JsonRpcEndpoint((t) => sent.push(t)), sent };
}

describe('wire encoders (RFC 7047 §4.1)', () => {
  it('writes JSON-RPC 1.0 shapes with no jsonrpc member', () => {
    expect(encodeRequest(3, 'get_schema', ['OVN_Northbound'])).toBe(
      '{"id":3,"method":"get_schema","params":["OVN_Northbound"]}',
    );
    expect(encodeNotification('update', ['m', {}])).toBe('{"id":null,"method":"update","params":["m",{}]}');
    expect(encodeResult('echo', [])).toBe('{"id":"echo","result":[],"error":null}');
    expect(encodeResult(1, undefined)).toBe('{"id":1,"result":null,"error":null}');
    expect(encodeError(2, { error: 'x' })).toBe('{"id":2,"result":null,"error":{"error":"x"}}');
  });
});

describe('messageKind', () => {
  it('classifies requests, notifications (id null or absent) and responses', () => {
    expect(messageKind({ id: 1, method: 'echo', params: [] })).toBe(MessageKind.Request);
    expect(messageKind({ id: null, method: 'update3', params: [] })).toBe(MessageKind.Notification);
    expect(messageKind({ method: 'locked', params: ['l'] })).toBe(MessageKind.Notification);
    expect(messageKind({ id: 1, result: null, error: 'x' })).toBe(MessageKind.Response);
    expect(messageKind({ id: 'echo', result: [], error: null })).toBe(MessageKind.Response);
  });

  it('rejects values that are not JSON-RPC messages', () => {
    for (const bad of [[1], { id: null, result: 1 }, { foo: 1 }, { method: 'x', params: {} }]) {
      expect(() => messageKind(bad)).toThrow(OvsdbProtocolError);
    }
  });
});

describe('JsonRpcEndpoint', () => {
  it('sends a request with its own id counter and resolves the result of a reply with "error": null', async () => {
    const { ep, sent } = endpoint();
    const a = ep.request<string[]>('list_dbs', []);
    const b = ep.request('get_schema', ['_Server']);
    expect(sent).toEqual([
      '{"id":1,"method":"list_dbs","params":[]}',
      '{"id":2,"method":"get_schema","params":["_Server"]}',
    ]);
    ep.handleResponse({ id: 2, result: { name: '_Server' }, error: null });
    ep.handleResponse({ id: 1, result: ['_Server', 'OVN_Northbound'], error: null });
    await expect(a).resolves.toEqual(['_Server', 'OVN_Northbound']);
    await expect(b).resolves.toEqual({ name: '_Server' });
  });

  it('resolves a null result as null', async () => {
    const { ep } = endpoint();
    const p = ep.request('unlock', ['l']);
    ep.handleResponse({ id: 1, result: null, error: null });
    await expect(p).resolves.toBeNull();
  });

  it('maps an {error, details} reply to OvsdbRpcError', async () => {
    const { ep } = endpoint();
    const p = ep.request('get_schema', ['nope']);
    ep.handleResponse({ id: 1, result: null, error: { error: 'unknown database', details: 'nope' } });
    const err = (await p.catch((e: unknown) => e)) as OvsdbRpcError;
    expect(err).toBeInstanceOf(OvsdbRpcError);
    expect(err.code).toBe('OVSDB_RPC_ERROR');
    expect(err.error).toBe('unknown database');
    expect(err.details).toBe('nope');
    expect(err.method).toBe('get_schema');
    expect(err.message).toBe('get_schema: unknown database: nope');
  });

  it('maps a bare string error (unixctl style) to OvsdbRpcError', async () => {
    const { ep } = endpoint();
    const p = ep.request('bogus/cmd', []);
    ep.handleResponse({ id: 1, error: '"bogus/cmd" is not a valid command' });
    await expect(p).rejects.toMatchObject({
      code: 'OVSDB_RPC_ERROR',
      error: '"bogus/cmd" is not a valid command',
    });
  });

  it('ignores replies with unknown ids', async () => {
    const { ep } = endpoint();
    const p = ep.request('list_dbs', []);
    ep.handleResponse({ id: 99, result: ['x'], error: null });
    ep.handleResponse({ id: 1, result: ['y'], error: null });
    await expect(p).resolves.toEqual(['y']);
  });

  it('times out a request with OvsdbTimeoutError and ignores the late reply', async () => {
    vi.useFakeTimers();
    try {
      const { ep } = endpoint();
      const p = ep.request('transact', ['db'], 50);
      const caught = p.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(60);
      const err = await caught;
      expect(err).toBeInstanceOf(OvsdbTimeoutError);
      expect(err).toMatchObject({ code: 'OVSDB_TIMEOUT', method: 'transact', timeoutMs: 50 });
      ep.handleResponse({ id: 1, result: [], error: null }); // no throw, no effect
    } finally {
      vi.useRealTimers();
    }
  });

  it('applies map to the result and mapError to every kind of failure, on arrival', async () => {
    vi.useFakeTimers();
    try {
      const { ep } = endpoint();
      const mapping = {
        map: (r: unknown) => {
          if (r === 'bad') throw new Error('undecodable');
          return { decoded: r };
        },
        mapError: (e: Error) => new Error(`mapped: ${e.message}`, { cause: e }),
      };
      const failure = (p: Promise<unknown>) =>
        p.then(
          () => new Error('resolved'),
          (e: Error) => e,
        );
      let got: unknown;
      void ep.request('a', [], undefined, mapping).then((v) => (got = v));
      ep.handleResponse({ id: 1, result: 7, error: null });
      await null; // still one microtask: the mapping runs in handleResponse
      expect(got).toEqual({ decoded: 7 });

      const thrown = failure(ep.request('b', [], undefined, mapping));
      ep.handleResponse({ id: 2, result: 'bad', error: null });
      expect((await thrown).message).toBe('mapped: undecodable');

      const replied = failure(ep.request('c', [], undefined, mapping));
      ep.handleResponse({ id: 3, result: null, error: { error: 'no' } });
      expect(((await replied).cause as Error) instanceof OvsdbRpcError).toBe(true);

      const timed = failure(ep.request('d', [], 10, mapping));
      await vi.advanceTimersByTimeAsync(20);
      expect((await timed).cause).toBeInstanceOf(OvsdbTimeoutError);

      const dropped = failure(ep.request('e', [], undefined, mapping));
      ep.close(new Error('gone'));
      expect((await dropped).cause).toBeInstanceOf(OvsdbConnectionError);
      const late = await failure(ep.request('f', [], undefined, mapping));
      expect(late.message).toMatch(/^mapped: connection closed/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('settles the caller on the next microtask after the reply, with no extra promise hops', async () => {
    const { ep } = endpoint();
    let got: unknown;
    void ep.request('list_dbs', []).then((v) => (got = v));
    ep.handleResponse({ id: 1, result: ['db'], error: null });
    expect(ep.pendingCount).toBe(0);
    await null; // exactly one microtask turn
    expect(got).toEqual(['db']);
  });

  it('rejects a request whose params cannot be encoded without sending or keeping it', async () => {
    const { ep, sent } = endpoint();
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    await expect(ep.request('transact', cyclic)).rejects.toThrow(TypeError);
    expect(sent).toEqual([]);
    expect(ep.pendingCount).toBe(0);
    const ok = ep.request('list_dbs', []);
    expect(sent).toEqual(['{"id":2,"method":"list_dbs","params":[]}']);
    ep.handleResponse({ id: 2, result: [], error: null });
    await expect(ok).resolves.toEqual([]);
  });

  it('clears the timer of a request that was answered or failed by close', async () => {
    vi.useFakeTimers();
    try {
      const { ep } = endpoint();
      const answered = ep.request('echo', [], 50);
      ep.handleResponse({ id: 1, result: [], error: null });
      const closed = ep.request('echo', [], 50).catch((e: unknown) => e);
      ep.close(new Error('gone'));
      expect(vi.getTimerCount()).toBe(0);
      await expect(answered).resolves.toEqual([]);
      expect(await closed).toMatchObject({ code: 'OVSDB_DISCONNECTED' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects pending and later requests with OVSDB_DISCONNECTED after close, keeping the reason as cause', async () => {
    const { ep, sent } = endpoint();
    const p = ep.request('monitor', ['db', null, {}]);
    const reason = new Error('peer went away');
    ep.close(reason);
    const err = (await p.catch((e: unknown) => e)) as OvsdbConnectionError;
    expect(err).toBeInstanceOf(OvsdbConnectionError);
    expect(err.code).toBe('OVSDB_DISCONNECTED');
    expect(err.cause).toBe(reason);
    await expect(ep.request('list_dbs', [])).rejects.toMatchObject({ code: 'OVSDB_DISCONNECTED' });
    expect(() => ep.notify('x', [])).toThrow(OvsdbConnectionError);
    expect(sent).toHaveLength(1);
  });

  it('writes notifications with "id": null', () => {
    const { ep, sent } = endpoint();
    ep.notify('monitor_cond_change', ['m', 'm2', {}]);
    expect(sent).toEqual(['{"id":null,"method":"monitor_cond_change","params":["m","m2",{}]}']);
  });

  it('answers a server request through its handler, and unknown methods with an error reply', async () => {
    const { ep, sent } = endpoint();
    ep.onRequest('lock-probe', (params) => ({ got: params }));
    await ep.handleRequest({ id: 'r1', method: 'lock-probe', params: [1] });
    await ep.handleRequest({ id: 7, method: 'nope', params: [] });
    expect(sent).toEqual([
      '{"id":"r1","result":{"got":[1]},"error":null}',
      '{"id":7,"result":null,"error":{"error":"unknown method","details":"nope"}}',
    ]);
  });

  it('answers with an error object when a request handler throws', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const ep = new JsonRpcEndpoint((t) => sent.push(t), { onHandlerError: (e) => errors.push(e) });
    ep.onRequest('boom', () => {
      throw new Error('kaput');
    });
    await ep.handleRequest({ id: 1, method: 'boom', params: [] });
    expect(sent).toEqual(['{"id":1,"result":null,"error":{"error":"kaput"}}']);
    expect(errors).toHaveLength(1);
  });
});
