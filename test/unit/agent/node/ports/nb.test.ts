import { describe, expect, it } from 'vitest';
import { subnetMtu } from '../../../../../agent/node/ports/nb.js';
import {
  nodePortIds,
  nodePortsFromNb,
  planPortRemove,
  planPortWrite,
  type NodePort,
} from '../../../../../agent/node/ports/nb-ports.js';
import { DatabaseCache, nb } from '../../../../../ovsdb/index.js';
import { check, ovnNad, subnet } from '../../resources/helpers.js';

const map = (r: Record<string, string>) => ['map', Object.entries(r)];
const u = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe("this node's ports read from NB", () => {
  it('takes this node\'s LSPs with ip-owner, namespace and "<mac> <ip>"; skips router ports, other owners and other addresses', async () => {
    const cache = new DatabaseCache(nb.schema(), { tables: { Logical_Switch_Port: undefined } });
    const ours = { 'vpc-agent.io/owner': 'vpc-agent/node/node1', 'vpc-agent.io/resource': 'Port/p1' };
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
              'vpc-agent.io/ip-owner': 'vm/node1/vm1/default/v1',
              'vpc-agent.io/subnet': 's1',
              'vpc-agent.io/node': 'node1',
              'vpc-agent.io/netns': 'vm1',
              'vpc-agent.io/network': 'default/v1',
              'vpc-agent.io/ifname': 'eth0',
              'vpc-agent.io/dhcp': 'false',
              'vpc-agent.io/default-route': 'true',
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
              'vpc-agent.io/ip-owner': 'vm/node1/vm2/default/v1',
              'vpc-agent.io/subnet': 's1',
              'vpc-agent.io/netns': 'vm2',
            }),
          },
        },
        [u(3)]: {
          new: {
            name: 'foreign',
            type: '',
            addresses: '0a:00:00:00:00:02 172.20.10.11',
            external_ids: map({
              'vpc-agent.io/owner': 'vpc-agent/node/node2',
              'vpc-agent.io/netns': 'vm3',
              'vpc-agent.io/ip-owner': 'x',
              'vpc-agent.io/subnet': 's1',
            }),
          },
        },
      },
    });
    expect([...nodePortsFromNb(cache, 'vpc-agent/node/node1').values()]).toEqual([
      {
        name: 'p1',
        subnet: 's1',
        ip: '172.20.10.10',
        mac: '0a:00:00:00:00:01',
        owner: 'vm/node1/vm1/default/v1',
        chassis: 'node1',
        node: 'node1',
        netns: 'vm1',
        network: 'default/v1',
        ifname: 'eth0',
        dhcp: false,
        defaultRoute: true,
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

describe('a movable port (a NAT gateway LAN leg) between nodes', () => {
  const movable = (node: string): NodePort => ({
    name: 'vpc-nat-gw-gw1.lan',
    subnet: 's1',
    ip: '172.30.10.254',
    mac: '0a:00:00:00:00:fe',
    owner: 'movable/natgw/gw1',
    chassis: node,
    node,
    netns: 'vpc-nat-gw-gw1',
    network: 'default/lan',
    ifname: 'net1',
    dhcp: false,
    defaultRoute: false,
    routed: true,
    movable: true,
  });

  async function cacheWith(port: NodePort, nodeOwnerId: string): Promise<DatabaseCache> {
    const cache = new DatabaseCache(nb.schema(), {
      tables: {
        Logical_Switch_Port: undefined,
        Logical_Router_Port: undefined,
        Logical_Switch: undefined,
        DHCP_Options: undefined,
      },
    });
    await cache.applyUpdate({
      Logical_Switch: {
        [u(10)]: {
          new: {
            name: 's1',
            ports: ['set', [['uuid', u(11)]]],
            external_ids: map({ 'vpc-agent.io/owner': 'vpc-agent', 'vpc-agent.io/key': 'ls/s1' }),
          },
        },
      },
      Logical_Switch_Port: {
        [u(11)]: {
          new: {
            name: port.name,
            type: '',
            addresses: `${port.mac} ${port.ip}`,
            port_security: port.mac,
            options: map({ 'requested-chassis': port.chassis }),
            external_ids: map(nodePortIds(port, nodeOwnerId)),
          },
        },
      },
    });
    return cache;
  }

  it("is taken over from the node that had it: an update of the same row, with this node's ownership and chassis", async () => {
    const cache = await cacheWith(movable('node2'), 'vpc-agent/node/node2');
    const ops = planPortWrite(
      cache,
      { owner: 'vpc-agent', nodeOwnerId: 'vpc-agent/node/node1', v4: true },
      movable('node1'),
    );
    expect(ops).toHaveLength(2);
    // Only if the row is still there (the node it is taken from may be deleting it).
    expect(ops[0]).toMatchObject({
      op: 'wait',
      table: 'Logical_Switch_Port',
      rows: [{ name: 'vpc-nat-gw-gw1.lan' }],
    });
    expect(ops[1]).toMatchObject({ op: 'update', table: 'Logical_Switch_Port' });
    const row = (ops[1] as { row: Record<string, unknown> }).row;
    expect(row['options']).toEqual({ 'requested-chassis': 'node1' });
    expect(row['external_ids']).toMatchObject({
      'vpc-agent.io/owner': 'vpc-agent/node/node1',
      'vpc-agent.io/node': 'node1',
    });
  });

  it('is never taken from a port that is not movable, nor with another IPAM owner', async () => {
    const fixed: NodePort = { ...movable('node2'), movable: false };
    const cache = await cacheWith(fixed, 'vpc-agent/node/node2');
    expect(() =>
      planPortWrite(
        cache,
        { owner: 'vpc-agent', nodeOwnerId: 'vpc-agent/node/node1', v4: true },
        movable('node1'),
      ),
    ).toThrow(/belongs to vpc-agent\/node\/node2/);
    const other = await cacheWith(movable('node2'), 'vpc-agent/node/node2');
    expect(() =>
      planPortWrite(
        other,
        { owner: 'vpc-agent', nodeOwnerId: 'vpc-agent/node/node1', v4: true },
        { ...movable('node1'), owner: 'movable/natgw/gw2' },
      ),
    ).toThrow(/belongs to/);
  });

  it("is removed only while still this node's: the removal waits on its ownership", async () => {
    const cache = await cacheWith(movable('node1'), 'vpc-agent/node/node1');
    const ops = planPortRemove(cache, 'vpc-agent/node/node1', 'vpc-nat-gw-gw1.lan');
    expect(ops[0]).toMatchObject({
      op: 'wait',
      table: 'Logical_Switch_Port',
      until: '==',
      rows: [{ name: 'vpc-nat-gw-gw1.lan' }],
      timeout: 0,
    });
    expect(JSON.stringify(ops[0])).toContain('vpc-agent/node/node1');
    expect(ops[1]).toMatchObject({ op: 'mutate', table: 'Logical_Switch' });
    expect(planPortRemove(cache, 'vpc-agent/node/node2', 'vpc-nat-gw-gw1.lan')).toEqual([]);
  });
});
