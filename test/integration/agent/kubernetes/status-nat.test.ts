/**
 * NAT status written back from the real NAT reconciler: a gateway built in network namespaces
 * this file creates (real netlink and nft), its per-object status turned into Kube-OVN's fields
 * and written through the fake API server's `/status` (no real API server can run here).
 *
 * - "node": holds `eth1`, the NIC the external network's NAD names as `master`; net2 is a
 *   macvlan of it; "vm": the VPC side, cabled to the gateway's net1 by a veth;
 * - the EIP's `ip` and `mac` are the address and the MAC of net2 in the gateway namespace, its
 *   `nat` the kinds of rule using it; rules carry `v4ip` and `natGwDp`; all `ready`.
 */
import { describe, expect, it } from 'vitest';
import { createMacvlanWan, createNatReconciler, type GatewayDesired } from '../../../../agent/nat/index.js';
import { nextSnapshot, type Snapshot } from '../../../../agent/pipeline/snapshot.js';
import type { PassContext } from '../../../../agent/reconcile/reconciler.js';
import { createStatusWriter } from '../../../../agent/sources/kubernetes/status.js';
import {
  createNetns,
  createVeth,
  getLink,
  listAddresses,
  netnsExists,
  replaceAddress,
  rtnl,
  setLinkUp,
} from '../../../../netlink/index.js';
import { EXT_HOST, plugVeth } from '../../../harness/nat.js';
import { useTestNamespaces } from '../../../harness/netns.js';
import { dnat, eip, nad, natGateway, snat, subnet, vpc } from '../../../unit/agent/resources/helpers.js';
import { until } from '../nb/helpers.js';
import { collector, silent, useFakeApi } from './helpers.js';

const { prefix } = useTestNamespaces('kst');
const NODE = `${prefix}node`;
const EXT = `${prefix}ext`;
const VM = `${prefix}vm`;
const GW_PREFIX = `${prefix}gw-`;
const EIP = '203.0.113.10';

type Status = Record<string, unknown> & { conditions?: Record<string, unknown>[] };

const docs = () => [
  vpc('v'),
  subnet('lan', '10.0.1.0/24', { vpc: 'v' }),
  nad('ext', { cniVersion: '0.3.0', type: 'macvlan', master: 'eth1', mode: 'bridge' }, 'kube-system'),
  subnet('ext', '203.0.113.0/24', { provider: 'ext.kube-system.ovn', gateway: EXT_HOST }),
  natGateway('gw1', {
    vpc: 'v',
    subnet: 'lan',
    lanIp: '10.0.1.254',
    externalSubnets: ['ext'],
    selector: ['kubernetes.io/hostname: node1'],
  }),
  eip('e1', { natGwDp: 'gw1', v4ip: EIP }),
  snat('s1', { eip: 'e1', internalCIDR: '10.0.1.0/24' }),
  dnat('d1', { eip: 'e1', externalPort: 8888, protocol: 'tcp', internalIp: '10.0.1.5', internalPort: 80 }),
];

describe('NAT status from the real NAT reconciler', () => {
  const ctx = useFakeApi();

  it("the node running the gateway writes its EIP's ip/mac/nat and its rules' v4ip, all ready", async () => {
    const { fake } = ctx;
    await createNetns(NODE);
    await createNetns(EXT);
    await createNetns(VM);
    await createVeth(rtnl(NODE), { name: 'eth1', peer: { name: 'eth0', netns: EXT } });
    await setLinkUp(rtnl(NODE), 'eth1');
    await replaceAddress(rtnl(EXT), 'eth0', `${EXT_HOST}/24`);
    await setLinkUp(rtnl(EXT), 'eth0');
    for (const d of docs()) fake.apply(d);
    const source = ctx.source();
    const seen = collector();
    await source.start(seen.on);
    const snapshot: Snapshot = nextSnapshot(undefined, await seen.until((s) => s.complete, 'complete'));
    expect(snapshot.errors.map((e) => e.message)).toEqual([]);

    const rec = createNatReconciler(
      {
        attachLan: async (gw: GatewayDesired) => {
          await plugVeth({ ns: VM, cidrs: ['10.0.1.5/24'], peerNs: gw.netns, peerName: 'net1' });
          return { ifname: 'net1' };
        },
        attachWan: createMacvlanWan({ hostNetns: NODE }),
      },
      { node: { name: 'node1', labels: {} }, netnsPrefix: GW_PREFIX, eipAddresses: () => new Map() },
    );
    const pass = async (input: Snapshot, prune: boolean) => {
      const c: PassContext = { reasons: new Set(['test']), prune };
      return rec.apply(await rec.plan(rec.desired(input)!, c), c);
    };
    const writer = createStatusWriter(
      {
        target: source.statusTarget(),
        log: silent,
        inputs: () => ({
          node: 'node1',
          writer: false,
          snapshot,
          nb: new Map(),
          ipam: { stats: [], allocations: [] },
          nat: rec.status(),
        }),
      },
      { debounceMs: 10, resyncMs: 50 },
    );
    const gwNs = `${GW_PREFIX}gw1`;
    try {
      const result = await pass(snapshot, true);
      expect([...result.errors]).toEqual([]);
      expect(netnsExists(gwNs)).toBe(true);
      writer.start();
      const statusOf = (kind: string, name: string) =>
        fake.list(kind).find((o) => o.metadata.name === name)?.['status'] as Status | undefined;
      await until(() => statusOf('IptablesDnatRule', 'd1')?.['ready'] === true, 'rule status written');
      await until(() => statusOf('IptablesEIP', 'e1')?.['ready'] === true, 'EIP status written');

      const net2 = await getLink(rtnl(gwNs), 'net2');
      const addrs = (await listAddresses(rtnl(gwNs), { link: 'net2' })).map((a) => a.address);
      const e1 = statusOf('IptablesEIP', 'e1')!;
      expect(addrs).toContain(e1['ip']);
      expect(e1).toMatchObject({ ready: true, ip: EIP, mac: net2!.mac });
      expect(String(e1['nat']).split(',').sort()).toEqual(['dnat', 'snat']);
      expect(e1.conditions).toEqual([
        expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Reconciled' }),
      ]);
      for (const [kind, name] of [
        ['IptablesSnatRule', 's1'],
        ['IptablesDnatRule', 'd1'],
      ] as const)
        expect(statusOf(kind, name)).toMatchObject({ ready: true, v4ip: EIP, natGwDp: 'gw1' });
      expect(statusOf('VpcNatGateway', 'gw1')?.conditions?.[0]).toMatchObject({
        type: 'Ready',
        status: 'True',
      });

      // A second pass changes nothing: nothing more is written.
      await pass(snapshot, true);
      await writer.settled();
      const n = fake.statusWrites.length;
      const checks = writer.stats().checks;
      await until(() => writer.stats().checks >= checks + 3, 'more checks');
      await writer.settled();
      expect(fake.statusWrites.length).toBe(n);
    } finally {
      await writer.stop();
      // The gateway removed: nothing left in the namespaces of this file but its own.
      const none = nextSnapshot(undefined, {
        items: docs()
          .slice(0, 4)
          .map((doc, i) => ({ doc, source: { file: 'x', document: i } })),
        errors: [],
        complete: true,
        incomplete: [],
        broken: [],
      });
      await pass(none, true);
      expect(netnsExists(gwNs)).toBe(false);
    }
  });
});
