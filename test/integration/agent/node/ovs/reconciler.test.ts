/**
 * The node's Open_vSwitch reconciler against a real ovsdb-server holding the Open_vSwitch schema
 * (no ovs-vswitchd: only the database is under test). Foreign state is made with `ovs-vsctl`, as
 * an installer or an operator would.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeOvsReconciler,
  NODE_OVS_MONITOR,
  type NodeOvsReconciler,
} from '../../../../../agent/node/ovs/index.js';
import type { ResourceSet } from '../../../../../agent/resources/index.js';
import { useOvsDb } from '../../../../harness/ovs-db.js';
import { check, providerNetwork, vlan } from '../../../../unit/agent/resources/helpers.js';

const ovs = useOvsDb('nodeovs', NODE_OVS_MONITOR);
let rec: NodeOvsReconciler;

/** Runs ovs-vsctl and waits until the client's cache has seen the change. */
const vsctl = ovs.vsctlSeen;
const get = (...args: string[]) => ovs.vsctl('get', ...args);
const listBr = async () => (await ovs.vsctl('list-br')).split('\n');
const listPorts = async (br: string) => (await ovs.vsctl('list-ports', br)).split('\n');

function resources(vlans: [string, number][] = [['v2017', 2017]]): ResourceSet {
  const r = check([
    providerNetwork('tor', { defaultInterface: 'eth1' }),
    ...vlans.map(([n, id]) => vlan(n, id, 'tor')),
  ]);
  expect(r.errors).toEqual([]);
  return r.valid;
}
const nothing = () => check([]).valid;

beforeAll(async () => {
  // What an installer leaves: br-int, a foreign provider bridge and its mapping, chassis keys.
  await ovs.vsctlSeen(
    'add-br',
    'br-int',
    '--',
    'set',
    'bridge',
    'br-int',
    'datapath_type=netdev',
    'fail_mode=secure',
    '--',
    'add-br',
    'br-admin',
    '--',
    'set',
    'bridge',
    'br-admin',
    'datapath_type=netdev',
    '--',
    'add-port',
    'br-admin',
    'eth9',
    '--',
    'set',
    'open_vswitch',
    '.',
    'external_ids:ovn-bridge-mappings=physnet:br-admin',
    'external_ids:system-id=node1',
  );
  rec = createNodeOvsReconciler({ client: ovs.client, node: 'node1', checkLinks: false });
});

describe('node OVS reconciler (real ovsdb-server)', () => {
  it('creates br-tor (datapath type from br-int) with the uplink trunk and merges the mapping', async () => {
    const r = await rec.reconcile(resources());
    expect(r.problems).toEqual([]);
    expect(r.sent).toBe(true);
    expect(await listBr()).toEqual(['br-admin', 'br-int', 'br-tor']);
    expect(await get('bridge', 'br-tor', 'datapath_type')).toBe('netdev');
    expect(await get('bridge', 'br-tor', 'fail_mode')).toBe('standalone');
    expect(await listPorts('br-tor')).toEqual(['eth1']); // list-ports hides the bridge's own port
    expect(await get('port', 'eth1', 'trunks')).toBe('[0, 2017]');
    expect(await get('port', 'eth1', 'vlan_mode')).toBe('trunk');
    expect(await get('interface', 'br-tor', 'type')).toBe('internal');
    expect(await get('open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe(
      '"physnet:br-admin,tor:br-tor"',
    );
    expect(await get('open_vswitch', '.', 'external_ids:vpc-agent.io/bridge-mappings')).toBe('"tor:br-tor"');
    expect(await get('bridge', 'br-tor', 'external_ids:vpc-agent.io/owner')).toBe('vpc-agent');
  });

  it('sends nothing on a second pass', async () => {
    const r = await rec.reconcile(resources());
    expect(r).toMatchObject({ sent: false, ops: 0, changes: [] });
  });

  it('repairs drift on owned rows and our mapping, keeping a foreign port on our bridge', async () => {
    await vsctl('set', 'port', 'eth1', 'trunks=5', 'tag=7', 'vlan_mode=access');
    await vsctl('set', 'bridge', 'br-tor', 'fail_mode=secure');
    await vsctl('set', 'open_vswitch', '.', 'external_ids:ovn-bridge-mappings=physnet:br-admin');
    // As ovn-controller does for a localnet port: a patch port on the provider bridge.
    await vsctl(
      'add-port',
      'br-tor',
      'patch-x',
      '--',
      'set',
      'interface',
      'patch-x',
      'type=patch',
      'options:peer=y',
    );
    const r = await rec.reconcile(resources());
    expect(r.sent).toBe(true);
    expect(await get('port', 'eth1', 'trunks')).toBe('[0, 2017]');
    expect(await get('port', 'eth1', 'tag')).toBe('[]');
    expect(await get('port', 'eth1', 'vlan_mode')).toBe('trunk');
    expect(await get('bridge', 'br-tor', 'fail_mode')).toBe('standalone');
    expect(await get('open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe(
      '"physnet:br-admin,tor:br-tor"',
    );
    expect(await listPorts('br-tor')).toEqual(['eth1', 'patch-x']);
    expect((await rec.reconcile(resources())).sent).toBe(false);
  });

  it('re-creates an owned port deleted out of band', async () => {
    await vsctl('del-port', 'br-tor', 'eth1');
    expect((await rec.reconcile(resources())).sent).toBe(true);
    expect(await get('port', 'eth1', 'trunks')).toBe('[0, 2017]');
    expect((await rec.reconcile(resources())).sent).toBe(false);
  });

  it('follows the Vlans of the provider network in trunks', async () => {
    await rec.reconcile(
      resources([
        ['v2017', 2017],
        ['v2018', 2018],
      ]),
    );
    expect(await get('port', 'eth1', 'trunks')).toBe('[0, 2017, 2018]');
    await rec.reconcile(resources([]));
    expect(await get('port', 'eth1', 'trunks')).toBe('[0]');
  });

  it('removal leaves nothing of ours and every foreign row and mapping as it was', async () => {
    const r = await rec.reconcile(nothing());
    expect(r.sent).toBe(true);
    expect(await listBr()).toEqual(['br-admin', 'br-int']);
    expect(await listPorts('br-admin')).toEqual(['eth9']);
    expect(await get('bridge', 'br-int', 'fail_mode')).toBe('secure');
    expect(await get('open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe('"physnet:br-admin"');
    const ids = await get('open_vswitch', '.', 'external_ids');
    expect(ids).not.toContain('vpc-agent.io');
    expect(ids).toContain('system-id=node1');
    const owned = await ovs.vsctl(
      '--bare',
      '--columns=name',
      'find',
      'port',
      'external_ids:vpc-agent.io/owner=vpc-agent',
    );
    expect(owned).toBe('');
    expect((await rec.reconcile(nothing())).sent).toBe(false);
  });

  it('reports and skips a provider network whose bridge or mapping is foreign', async () => {
    await vsctl('add-br', 'br-tor', '--', 'set', 'bridge', 'br-tor', 'external_ids:by=admin');
    const r = await rec.reconcile(resources());
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'BRIDGE_NOT_OWNED', resource: 'ProviderNetwork/tor' }),
    ]);
    expect(r.sent).toBe(false);
    expect(await get('bridge', 'br-tor', 'external_ids')).toBe('{by=admin}');
    await vsctl('del-br', 'br-tor');
    await vsctl('set', 'open_vswitch', '.', 'external_ids:ovn-bridge-mappings=physnet:br-admin,tor:br-other');
    const m = await rec.reconcile(resources());
    expect(m.problems).toEqual([
      expect.objectContaining({ code: 'MAPPING_CONFLICT', resource: 'ProviderNetwork/tor' }),
    ]);
    expect(await get('open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe(
      '"physnet:br-admin,tor:br-other"',
    );
    await rec.reconcile(nothing());
    expect(await get('open_vswitch', '.', 'external_ids:ovn-bridge-mappings')).toBe(
      '"physnet:br-admin,tor:br-other"',
    );
  });
});
