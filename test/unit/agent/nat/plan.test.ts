import { describe, expect, it } from 'vitest';
import { buildNatDesired, type GatewayDesired } from '../../../../agent/nat/desired.js';
import { EMPTY, markerOf, planGateway, type Observation } from '../../../../agent/nat/observe.js';
import { statusOf } from '../../../../agent/nat/reconciler.js';
import { buildRuleset } from '../../../../agent/nat/ruleset.js';
import { check, dnat, eip, nad, natGateway, snat, subnet, vpc } from '../resources/helpers.js';

const node = { name: 'node1', labels: {} };
const set = (extra = [eip('e2', { natGwDp: 'gw' })]) =>
  check([
    vpc('v'),
    subnet('lan', '10.0.1.0/24', { vpc: 'v' }),
    nad('ext', { type: 'macvlan', master: 'eth1' }, 'kube-system'),
    subnet('ext', '203.0.113.0/24', { provider: 'ext.kube-system.ovn', gateway: '203.0.113.1' }),
    natGateway('gw', {
      vpc: 'v',
      subnet: 'lan',
      lanIp: '10.0.1.254',
      externalSubnets: ['ext'],
      selector: ['node1'],
    }),
    eip('e1', { natGwDp: 'gw', v4ip: '203.0.113.10' }),
    snat('s1', { eip: 'e1', internalCIDR: '10.0.1.0/24' }),
    dnat('d1', { eip: 'e2', externalPort: 80, internalIp: '10.0.1.5', internalPort: 80 }),
    ...extra,
  ]).valid;
const gateway = (): GatewayDesired => buildNatDesired(set(), node).gateways.get('gw')!;

const opts = { owner: 'o', table: 't', applied: undefined };
const absent: Observation = EMPTY;
const link = (name: string, mac: string) => ({
  index: 2,
  name,
  kind: 'veth',
  mtu: 1500,
  mac,
  up: true,
  operState: 6,
  masterIndex: undefined,
  linkIndex: undefined,
});

/** What a converged namespace looks like. */
function converged(gw: GatewayDesired): Observation {
  return {
    exists: true,
    marker: markerOf('o', 'gw'),
    forwarding: true,
    lan: link('net1', '02:00:00:00:00:01'),
    wan: link('net2', gw.wanMac),
    lanAddrs: ['10.0.1.254/24'],
    wanAddrs: ['203.0.113.10/24'],
    routes: [{ dst: 'default', via: '203.0.113.1', dev: 'net2' }],
    nftText: 'table ip t {}',
  };
}

describe('planGateway', () => {
  it('from nothing: every step in order, and every EIP announced', () => {
    const steps = planGateway(gateway(), absent, opts);
    expect(steps.map((s) => s.op)).toEqual([
      'netns',
      'marker',
      'forward',
      'attach-lan',
      'addr',
      'up',
      'attach-wan',
      'mac',
      'addr',
      'up',
      'route',
      'nft',
      'garp',
    ]);
    expect(steps.at(-1)).toEqual({ op: 'garp', ips: ['203.0.113.10'] });
  });

  it('converged: nothing to do', () => {
    const gw = gateway();
    const digest = buildRuleset(gw.rules, { table: 't' }).digest;
    expect(planGateway(gw, converged(gw), { ...opts, applied: { digest, text: 'table ip t {}' } })).toEqual(
      [],
    );
  });

  it('a table edited or flushed by hand, or never applied by this process, is re-applied', () => {
    const gw = gateway();
    const digest = buildRuleset(gw.rules, { table: 't' }).digest;
    const edited = { ...converged(gw), nftText: 'table ip t { chain x {} }' };
    expect(planGateway(gw, edited, { ...opts, applied: { digest, text: 'table ip t {}' } })).toEqual([
      { op: 'nft', digest },
    ]);
    expect(
      planGateway(gw, { ...converged(gw), nftText: undefined }, { ...opts, applied: { digest, text: 'x' } }),
    ).toEqual([{ op: 'nft', digest }]);
    expect(planGateway(gw, converged(gw), opts)).toEqual([{ op: 'nft', digest }]);
  });

  it('a new EIP address is added and announced alone; a stale one and a stale route are removed', () => {
    const gw = buildNatDesired(set([eip('e2', { natGwDp: 'gw', v4ip: '203.0.113.20' })]), node).gateways.get(
      'gw',
    )!;
    const digest = buildRuleset(gw.rules, { table: 't' }).digest;
    const obs = {
      ...converged(gw),
      wanAddrs: ['203.0.113.10/24', '203.0.113.99/24'],
      routes: [...converged(gw).routes, { dst: '192.0.2.0/24', via: '10.0.1.1', dev: 'net1' }],
    };
    const steps = planGateway(gw, obs, { ...opts, applied: { digest, text: obs.nftText! } });
    expect(steps).toEqual([
      { op: 'addr', dev: 'net2', cidr: '203.0.113.20/24' },
      { op: 'addr-del', dev: 'net2', cidr: '203.0.113.99/24' },
      { op: 'route-del', route: { dst: '192.0.2.0/24', via: '10.0.1.1', dev: 'net1' } },
      { op: 'garp', ips: ['203.0.113.20'] },
    ]);
  });

  it('a changed MAC on net2 is set back and every EIP announced again', () => {
    const gw = gateway();
    const digest = buildRuleset(gw.rules, { table: 't' }).digest;
    const obs = { ...converged(gw), wan: link('net2', '02:99:99:99:99:99') };
    expect(planGateway(gw, obs, { ...opts, applied: { digest, text: obs.nftText! } })).toEqual([
      { op: 'mac', dev: 'net2', mac: gw.wanMac },
      { op: 'garp', ips: ['203.0.113.10'] },
    ]);
  });
});

describe('statusOf', () => {
  it('EIPs carry ip, mac and nat kinds; an unallocated EIP and its rules are pending with the reason', () => {
    const d = buildNatDesired(set(), node);
    const s = statusOf(d, new Map());
    expect(s.get('IptablesEIP/e1')).toMatchObject({
      state: 'ready',
      fields: { ip: '203.0.113.10', nat: 'snat', ready: true },
    });
    expect(s.get('IptablesEIP/e2')).toMatchObject({ state: 'pending', fields: { ip: '', ready: false } });
    expect(s.get('IptablesEIP/e2')?.message).toMatch(
      /NAT_EIP_UNALLOCATED: spec.v4ip: waiting for an address from ext/,
    );
    expect(s.get('IptablesDnatRule/d1')).toMatchObject({ state: 'pending', fields: { v4ip: '' } });
    expect(s.get('IptablesSnatRule/s1')).toMatchObject({ state: 'ready', fields: { v4ip: '203.0.113.10' } });
  });

  it('a failed pass marks the gateway and all its objects as errors with the message', () => {
    const s = statusOf(buildNatDesired(set(), node), new Map([['gw', 'nft.apply: boom']]));
    expect(s.get('VpcNatGateway/gw')).toMatchObject({ state: 'error', message: 'nft.apply: boom' });
    expect(s.get('IptablesSnatRule/s1')?.state).toBe('error');
  });
});
