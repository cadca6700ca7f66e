/**
 * NAT gateway placement against a real Northbound: of the nodes that are candidates for a
 * gateway exactly one runs it, and when that node goes away (it stops wanting it, or its
 * session dies) another candidate takes over without anyone else's help.
 */
import { describe, expect, it } from 'vitest';
import { createGatewayPlacement, gatewayLockName } from '../../../agent/nat/placement.js';
import type { OvsdbClient } from '../../../ovsdb/index.js';
import { connectNb, until, useCentral } from './nb/helpers.js';

const env = useCentral();

describe('NAT gateway placement', () => {
  it('one candidate runs each gateway; another takes over when it leaves or its session dies', async () => {
    const clients: OvsdbClient[] = [];
    const node = async () => {
      const client = await connectNb(env.central);
      clients.push(client);
      return createGatewayPlacement({ client });
    };
    const [a, b, c] = [await node(), await node(), await node()];
    try {
      const changes: string[] = [];
      b.onChange((gw, runs) => changes.push(`${gw}:${runs}`));
      await a.want(['gw1']);
      await until(() => a.runs('gw1'), 'a runs gw1');
      await b.want(['gw1', 'gw2']);
      await c.want(['gw2']);
      await until(() => b.runs('gw2') || c.runs('gw2'), 'someone runs gw2');
      expect(b.runs('gw1')).toBe(false); // a was first
      expect([b.runs('gw2'), c.runs('gw2')].filter(Boolean)).toHaveLength(1);

      // a no longer a candidate: b takes gw1 over.
      await a.want([]);
      await until(() => b.runs('gw1'), 'b runs gw1');
      expect(a.running()).toEqual([]);
      expect(changes).toContain('gw1:true');

      // b's session dies (a killed agent): the other candidate of each gateway takes over.
      await a.want(['gw1']);
      await clients[1]!.close();
      await until(() => a.runs('gw1'), 'a runs gw1 again');
      await until(() => c.runs('gw2'), 'c runs gw2');
      expect(b.running()).toEqual([]); // a dead session runs nothing
    } finally {
      await Promise.all([a.close(), c.close()]);
      for (const cl of clients) await cl.close();
    }
  });

  it('lock names are RFC 7047 ids, distinct for names differing only in punctuation', () => {
    const names = ['gw-1', 'gw_1', 'gw.1', 'a'.repeat(80)].map(gatewayLockName);
    for (const n of names) expect(n).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    expect(new Set(names).size).toBe(names.length);
  });
});
