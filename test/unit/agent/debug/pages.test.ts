/** Debug pages over HTTP (JSON, `?format=text`, status codes), text tables and trace queries. */
import { describe, expect, it } from 'vitest';
import { parseTraceQuery, TraceRequestError } from '../../../../agent/debug/trace.js';
import { plainText, resourcesText, table } from '../../../../agent/debug/text.js';
import { createDebugServer } from '../../../../agent/metrics/index.js';

describe('debug pages over HTTP', () => {
  it('serves JSON, readable text on ?format=text, a page’s own status code and 500 on a throw', async () => {
    const server = await createDebugServer(
      {
        ready: () => ({ ready: true, reasons: [], databases: {}, writer: true }),
        debug: () => ({}),
        pages: {
          hello: (q) => ({ body: { who: q.get('who') }, text: () => `hello ${q.get('who')}\n` }),
          plain: () => ({ code: 400, body: { error: 'bad', param: 'x' } }),
          boom: () => {
            throw new Error('kaput');
          },
        },
      },
      '127.0.0.1:0',
    );
    try {
      const base = `http://${server.address}`;
      const json = await fetch(`${base}/debug/hello?who=vm1`);
      expect(json.headers.get('content-type')).toBe('application/json');
      expect(await json.json()).toEqual({ who: 'vm1' });
      const text = await fetch(`${base}/debug/hello?who=vm1&format=text`);
      expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await text.text()).toBe('hello vm1\n');
      const plain = await fetch(`${base}/debug/plain?format=text`);
      expect(plain.status).toBe(400);
      expect(await plain.text()).toBe('error: bad\nparam: x\n');
      const boom = await fetch(`${base}/debug/boom`);
      expect(boom.status).toBe(500);
      expect(await boom.json()).toEqual({ error: 'kaput' });
      const nope = await fetch(`${base}/debug/nope`);
      expect(nope.status).toBe(404);
      expect(((await nope.json()) as { paths: string[] }).paths).toEqual([
        '/healthz',
        '/readyz',
        '/debug',
        '/debug/hello',
        '/debug/plain',
        '/debug/boom',
      ]);
      expect((await fetch(`${base}/debug/hello`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

describe('text', () => {
  it('aligns columns, puts - in empty cells and does not pad the last column', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['x', undefined],
          ['yyyy', 'z'],
        ],
      ),
    ).toBe('A     LONGER\nx     -\nyyyy  z');
  });

  it('lists resources with a count of those not ready', () => {
    const out = resourcesText([
      { kind: 'Subnet', name: 's1', state: 'ready' },
      { kind: 'Subnet', name: 'bad', state: 'invalid', reason: 'spec.cidrBlock: nope' },
    ]);
    expect(out).toContain('Subnet  bad   invalid  spec.cidrBlock: nope');
    expect(out).toContain('2 resources, 1 not ready');
    expect(resourcesText([])).toBe('no resources\n');
  });

  it('renders any document as indented lines', () => {
    expect(plainText({ a: 1, b: [{ c: 'x' }], d: [] })).toBe('a: 1\nb:\n  - [0]:\n    c: x\nd:\n  (none)\n');
  });
});

describe('trace queries', () => {
  const q = (s: string) => parseTraceQuery(new URLSearchParams(s));
  it('parses from/to/proto/dport (tcp when a port is given, icmp otherwise)', () => {
    expect(q('from=vm1&to=10.0.0.2')).toEqual({ from: 'vm1', to: '10.0.0.2', proto: 'icmp' });
    expect(q('from=vm1&to=10.0.0.2&dport=80')).toEqual({
      from: 'vm1',
      to: '10.0.0.2',
      proto: 'tcp',
      dport: 80,
    });
    expect(q('from=vm1&to=10.0.0.2&proto=udp&dport=53')).toMatchObject({ proto: 'udp', dport: 53 });
  });

  it.each([
    ['to=10.0.0.2', 'from'],
    ['from=vm1', 'to'],
    ['from=vm1&to=fd00::1', 'to'],
    ['from=vm1&to=10.0.0.2&proto=sctp', 'proto'],
    ['from=vm1&to=10.0.0.2&proto=icmp&dport=1', 'dport'],
    ['from=vm1&to=10.0.0.2&dport=70000', 'dport'],
  ])('refuses %s naming %s', (query, param) => {
    expect(() => q(query)).toThrow(TraceRequestError);
    try {
      q(query);
    } catch (e) {
      expect((e as TraceRequestError).param).toBe(param);
    }
  });
});
