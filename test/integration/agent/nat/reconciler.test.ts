/**
 * The NAT gateway reconciler against the real kernel, nft, conntrack and arping, only inside
 * namespaces this file creates:
 * - "node": holds `eth1`, the NIC the external network's NAD names as `master`; net2 is a
 *   macvlan of it (the default attachment), moved into the gateway namespace;
 * - "ext": the external segment's router/host (203.0.113.1), cabled to the node's eth1;
 * - "vm": the VPC side; `attachLan` (here: a veth from the VM into the gateway) plays the part
 *   of the OVN port;
 * - the gateway namespaces themselves, made by the reconciler with this file's prefix.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMacvlanWan,
  createNatReconciler,
  shimName,
  type GatewayDesired,
  type NatReconciler,
} from '../../../../agent/nat/index.js';
import { NAT_TABLE } from '../../../../agent/nat/ruleset.js';
import { createReconcileLoop, type PassContext } from '../../../../agent/reconcile/reconciler.js';
import type { ResourceSet } from '../../../../agent/resources/index.js';
import { waitUntil } from '../../../../agent/sandbox/process.js';
import {
  applyNftScript,
  createNetns,
  createVeth,
  deleteLink,
  deleteNetns,
  getLink,
  listAddresses,
  listLinks,
  listNetns,
  listNftTable,
  netnsExists,
  replaceAddress,
  rtnl,
  setLinkUp,
} from '../../../../netlink/index.js';
import {
  captureArp,
  EXT_HOST,
  httpGet,
  plugVeth,
  startEchoServer,
  startHttpServer,
  startSession,
  stopAll,
} from '../../../harness/nat.js';
import { useTestNamespaces } from '../../../harness/netns.js';
import {
  check,
  dnat,
  eip,
  fip,
  nad,
  natGateway,
  snat,
  subnet,
  vpc,
  type Doc,
} from '../../../unit/agent/resources/helpers.js';

const { prefix } = useTestNamespaces('nrc');
const NODE = `${prefix}node`;
const EXT = `${prefix}ext`;
const VM = `${prefix}vm`;
const GW_PREFIX = `${prefix}gw-`;
const GW_NS = `${GW_PREFIX}gw1`;
const EIP = '203.0.113.10';
const FIP_EIP = '203.0.113.20';
/** The node's own address on the external segment. */
const NODE_IP = '203.0.113.5';

const docs = (over: { dnat?: boolean; gateway?: boolean } = {}): Doc[] => [
  vpc('v'),
  subnet('lan', '10.0.1.0/24', { vpc: 'v' }),
  nad('ext', { cniVersion: '0.3.0', type: 'macvlan', master: 'eth1', mode: 'bridge' }, 'kube-system'),
  subnet('ext', '203.0.113.0/24', { provider: 'ext.kube-system.ovn', gateway: EXT_HOST }),
  ...(over.gateway === false
    ? []
    : [
        natGateway('gw1', {
          vpc: 'v',
          subnet: 'lan',
          lanIp: '10.0.1.254',
          externalSubnets: ['ext'],
          selector: ['kubernetes.io/hostname: node1'],
        }),
        eip('e1', { natGwDp: 'gw1', v4ip: EIP }),
        eip('e2', { natGwDp: 'gw1', v4ip: FIP_EIP }),
        snat('s1', { eip: 'e1', internalCIDR: '10.0.1.0/24' }),
        ...(over.dnat === false
          ? []
          : [
              dnat('d1', {
                eip: 'e1',
                externalPort: 8888,
                protocol: 'tcp',
                internalIp: '10.0.1.5',
                internalPort: 80,
              }),
            ]),
        fip('f1', { eip: 'e2', internalIp: '10.0.1.6' }),
      ]),
];

const load = (d: Doc[]): ResourceSet => {
  const r = check(d);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.valid;
};

const lanAttaches: string[] = [];
let rec: NatReconciler;

/** One pass of the reconciler, as the loop runs it; returns the steps planned. */
async function pass(set: ResourceSet, prune = true) {
  const ctx: PassContext = { reasons: new Set(['test']), prune };
  const d = rec.desired(set)!;
  const plan = await rec.plan(d, ctx);
  const result = await rec.apply(plan, ctx);
  return { plan, result, steps: [...plan.steps.values()].flat().map((s) => s.op) };
}

async function trafficWorks(): Promise<void> {
  expect(await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.5' })).toBe(`ext ${EIP}`);
  expect(await httpGet(EXT, `http://${EIP}:8888/`)).toBe(`vm ${EXT_HOST}`);
  expect(await httpGet(EXT, `http://${FIP_EIP}/`)).toBe(`vm ${EXT_HOST}`);
  expect(await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.6' })).toBe(`ext ${FIP_EIP}`);
}

beforeAll(async () => {
  await createNetns(NODE);
  await createNetns(EXT);
  await createNetns(VM);
  await createVeth(rtnl(NODE), { name: 'eth1', peer: { name: 'eth0', netns: EXT } });
  await setLinkUp(rtnl(NODE), 'eth1');
  await replaceAddress(rtnl(NODE), 'eth1', `${NODE_IP}/24`);
  await replaceAddress(rtnl(EXT), 'eth0', `${EXT_HOST}/24`);
  await setLinkUp(rtnl(EXT), 'eth0');
  rec = createNatReconciler(
    {
      attachLan: async (gw: GatewayDesired) => {
        lanAttaches.push(gw.netns);
        await plugVeth({
          ns: VM,
          cidrs: ['10.0.1.5/24', '10.0.1.6/24'],
          peerNs: gw.netns,
          peerName: 'net1',
          defaultVia: gw.lan.ip,
        });
        return { ifname: 'net1' };
      },
      attachWan: createMacvlanWan({ hostNetns: NODE }),
    },
    {
      node: { name: 'node1', labels: {} },
      netnsPrefix: GW_PREFIX,
      hairpin: { hostNetns: NODE },
      eipAddresses: () => new Map(),
    },
  );
  await startHttpServer(EXT, 80, 'ext');
  await startHttpServer(VM, 80, 'vm');
});

afterAll(async () => {
  await stopAll();
});

describe('NAT gateway reconciler', () => {
  it('builds the gateway: namespace, legs, EIPs, routes, table, and announces every EIP both ways', async () => {
    const arp = await captureArp(EXT, 'eth0');
    const { steps, result } = await pass(load(docs()));
    expect(steps).toContain('netns');
    expect(result.errors.size).toBe(0);
    const gw = rec.desired(load(docs()))!.gateways.get('gw1')!;
    const net2 = await getLink(rtnl(GW_NS), 'net2');
    expect(net2?.kind).toBe('macvlan');
    expect(net2?.mac).toBe(gw.wanMac);
    expect((await listAddresses(rtnl(GW_NS), { link: 'net2', family: 4 })).map((a) => a.cidr).sort()).toEqual(
      [`${EIP}/24`, `${FIP_EIP}/24`],
    );
    await trafficWorks();
    for (const ip of [EIP, FIP_EIP])
      for (const op of [1, 2])
        await waitUntil(
          () => arp.seen().some((a) => a.op === op && a.senderIp === ip && a.senderMac === gw.wanMac),
          {
            what: `GARP op ${op} for ${ip}`,
            timeoutMs: 5_000,
          },
        );
    await arp.stop();
    const status = rec.status();
    expect(status.get('IptablesEIP/e1')).toMatchObject({
      state: 'ready',
      fields: { ip: EIP, mac: gw.wanMac, nat: 'dnat,snat', ready: true },
    });
    expect(status.get('IptablesFIPRule/f1')).toMatchObject({ state: 'ready', fields: { v4ip: FIP_EIP } });
    expect(status.get('VpcNatGateway/gw1')?.state).toBe('ready');
  });

  it('a second pass has nothing to do', async () => {
    const { steps } = await pass(load(docs()));
    expect(steps).toEqual([]);
  });

  it('an agent restart (a new reconciler) re-applies only the table: same EIPs, no GARP, no session cut', async () => {
    await startEchoServer(EXT, 7);
    const session = await startSession(VM, EXT_HOST, 7);
    const fresh = createNatReconciler(
      {
        attachLan: () => Promise.reject(new Error('net1 exists: not called')),
        attachWan: createMacvlanWan({ hostNetns: NODE }),
      },
      {
        node: { name: 'node1', labels: {} },
        netnsPrefix: GW_PREFIX,
        hairpin: { hostNetns: NODE },
        eipAddresses: () => new Map(),
      },
    );
    const ctx: PassContext = { reasons: new Set(['start']), prune: true };
    const plan = await fresh.plan(fresh.desired(load(docs()))!, ctx);
    expect([...plan.steps.values()].flat()).toEqual([{ op: 'nft', digest: expect.any(String) }]);
    await fresh.apply(plan, ctx);
    const echoed = session.echoed();
    await waitUntil(() => session.echoed() > echoed + 2, {
      what: 'SNAT session still echoing',
      timeoutMs: 5_000,
    });
    await session.stop();
    await trafficWorks();
  });

  it('the node reaches a DNAT service on its own EIP through its shim (and only through it)', async () => {
    expect(await httpGet(NODE, `http://${EIP}:8888/`)).toBe(`vm ${NODE_IP}`);
    const shim = shimName('eth1');
    await deleteLink(rtnl(NODE), shim);
    expect(await httpGet(NODE, `http://${EIP}:8888/`, { timeoutS: 1 })).toBeUndefined();
    const { result } = await pass(load(docs()));
    expect(result.hairpin).toEqual([
      `shim ${shim} on eth1`,
      `route ${EIP} dev ${shim}`,
      `route ${FIP_EIP} dev ${shim}`,
    ]);
    expect(await httpGet(NODE, `http://${EIP}:8888/`)).toBe(`vm ${NODE_IP}`);
  });

  it('a namespace deleted out of band is rebuilt with the same EIPs and MAC, and traffic works', async () => {
    const before = await getLink(rtnl(GW_NS), 'net2');
    // as an operator would: not through this process (whose cached sockets it would close)
    await execa('ip', ['netns', 'delete', GW_NS]);
    expect(netnsExists(GW_NS)).toBe(false);
    const { steps } = await pass(load(docs()));
    expect(steps.slice(0, 2)).toEqual(['netns', 'marker']);
    expect((await getLink(rtnl(GW_NS), 'net2'))?.mac).toBe(before?.mac);
    await trafficWorks();
  });

  it('`nft flush ruleset` inside it is repaired on the next pass', async () => {
    await applyNftScript(GW_NS, 'flush ruleset\n');
    expect(await httpGet(EXT, `http://${EIP}:8888/`, { timeoutS: 1 })).toBeUndefined();
    const { steps } = await pass(load(docs()));
    expect(steps).toEqual(['nft']);
    await trafficWorks();
  });

  it('removing the DNAT rule closes the port; the rest keeps working', async () => {
    const { steps } = await pass(load(docs({ dnat: false })));
    expect(steps).toEqual(['nft']);
    expect(await httpGet(EXT, `http://${EIP}:8888/`, { timeoutS: 1 })).toBeUndefined();
    expect(await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.5' })).toBe(`ext ${EIP}`);
    expect(rec.status().has('IptablesDnatRule/d1')).toBe(false);
  });

  it('under the reconcile loop, a namespace deleted by hand comes back by itself (drift watch)', async () => {
    const loop = createReconcileLoop(rec, { runner: { resyncMs: 0, debounceMs: 20 } });
    loop.set(load(docs({ dnat: false })), { complete: true });
    loop.start();
    try {
      await loop.settled();
      await execa('ip', ['netns', 'delete', GW_NS]);
      await waitUntil(
        async () =>
          netnsExists(GW_NS) &&
          (await httpGet(EXT, `http://${FIP_EIP}/`, { timeoutS: 1 })) === `vm ${EXT_HOST}`,
        { what: 'gateway rebuilt by the loop', timeoutMs: 20_000 },
      );
    } finally {
      await loop.stop();
    }
  });

  it('an incomplete load prunes nothing; a namespace with the prefix but without the marker is never touched', async () => {
    const foreign = `${GW_PREFIX}foreign`;
    await createNetns(foreign);
    await pass(load(docs({ gateway: false })), false);
    expect(netnsExists(GW_NS)).toBe(true);
    await pass(load(docs({ gateway: false })), true);
    expect(netnsExists(foreign)).toBe(true);
    await deleteNetns(foreign);
  });

  it('deleting the gateway leaves nothing: no namespace, no table, no links', async () => {
    // (the previous pass with prune removed it; check everything it had is gone)
    expect(listNetns().filter((n) => n.startsWith(GW_PREFIX))).toEqual([]);
    expect((await listLinks(rtnl(NODE))).map((l) => l.name).sort()).toEqual(['eth1', 'lo']);
    expect(await getLink(rtnl(VM), 'eth0')).toBeUndefined();
    expect(await httpGet(EXT, `http://${FIP_EIP}/`, { timeoutS: 1 })).toBeUndefined();
    expect(rec.status().size).toBe(0);
    // and it comes back whole when the resources return
    await pass(load(docs()));
    expect(await listNftTable(GW_NS, 'ip', NAT_TABLE)).toBeDefined();
    await trafficWorks();
    await pass(load(docs({ gateway: false })), true);
    expect(netnsExists(GW_NS)).toBe(false);
  });
});
