import { describe, expect, it } from 'vitest';
import { portsFromNb, subnetMtu } from '../../../../../agent/node/ports/nb.js';
import { DatabaseCache, nb } from '../../../../../ovsdb/index.js';
import { check, ovnNad, subnet } from '../../resources/helpers.js';

const map = (r: Record<string, string>) => ['map', Object.entries(r)];
const u = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('ports rebuilt from NB', () => {
  it('takes owned workload LSPs with ip-owner and "<mac> <ip>"; skips router ports, foreign rows and other addresses', async () => {
    const cache = new DatabaseCache(nb.schema(), { tables: { Logical_Switch_Port: undefined } });
    const ours = { 'vpc-agent.io/owner': 'vpc-agent', 'vpc-agent.io/resource': 'Port/p1' };
    await cache.applyUpdate({
      Logical_Switch_Port: {
        [u(1)]: {
          new: {
            name: 'p1',
            type: '',
            addresses: '0a:00:00:00:00:01 172.20.10.10',
            options: map({ 'requested-chassis': 'node1' }),
            external_ids: map({
              ...ours,
              'vpc-agent.io/ip-owner': 'vm/vm1/default/v1',
              'vpc-agent.io/subnet': 's1',
            }),
          },
        },
        [u(2)]: { new: { name: 's1-vpc', type: 'router', external_ids: map(ours) } },
        [u(4)]: {
          new: {
            name: 'p2',
            type: '',
            addresses: '0a:00:00:00:00:03 dynamic',
            external_ids: map({
              ...ours,
              'vpc-agent.io/ip-owner': 'vm/vm2/default/v1',
              'vpc-agent.io/subnet': 's1',
            }),
          },
        },
        [u(3)]: {
          new: {
            name: 'foreign',
            type: '',
            addresses: '0a:00:00:00:00:02 172.20.10.11',
            external_ids: map({
              'vpc-agent.io/owner': 'other',
              'vpc-agent.io/ip-owner': 'x',
              'vpc-agent.io/subnet': 's1',
            }),
          },
        },
      },
    });
    expect(portsFromNb(cache, 'vpc-agent')).toEqual([
      {
        subnet: 's1',
        name: 'p1',
        ip: '172.20.10.10',
        mac: '0a:00:00:00:00:01',
        owner: 'vm/vm1/default/v1',
        resource: 'Port/p1',
        chassis: 'node1',
      },
    ]);
  });

  it('MTU: the subnet mtu, else the DHCP default the builder uses', () => {
    const r = check([
      ovnNad('a'),
      subnet('a', '10.0.0.0/24'),
      ovnNad('b'),
      subnet('b', '10.0.1.0/24', { mtu: 9000 }),
    ]);
    const d = { overlayMtu: 1400, underlayMtu: 1500 };
    expect(subnetMtu(r.valid.subnets.get('a')!, d)).toBe(1400);
    expect(subnetMtu(r.valid.subnets.get('b')!, d)).toBe(9000);
  });
});
