/**
 * A VPC NAT gateway moving between nodes, end to end: two sandbox nodes, each with an agent
 * process, share one external segment (a bridge in an "external host" namespace, 203.0.113.1,
 * with each node's `eth1` plugged in). The seeds' gateway (examples/vpc-nat-gateway, external
 * network moved to 203.0.113.0/24) first selects node1. One VM on each node, each with a
 * DNAT rule of its own (EIP:8888 → the VM on node1, EIP:8889 → the VM on node2).
 *
 * Checked: the gateway runs where its selector points and nowhere else; moving the selector to
 * node2 removes it from node1 and builds it on node2 with the same EIP and net2 MAC, announces
 * the EIP on the segment (gratuitous ARP, request and reply), and SNAT and DNAT work again; a
 * selector matching both nodes keeps it where it runs; when that node's agent dies with its
 * node (agent killed, its namespaces gone), the other candidate takes the gateway over.
 *
 * The sandbox's nodes have no tunnel between them yet, so traffic is checked with the VM on
 * the gateway's node. The agents share this host's /run/netns, so each gets its own gateway
 * namespace prefix.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { addVethPair, run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  cleanUpAgent,
  createVmNamespace,
  find,
  hvSync,
  readExample,
  startAgentProcess,
  writeManifest,
  type AgentProcess,
  type Manifest,
} from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';
import { captureArp, httpGet, startHttpServer, stopAll } from '../../harness/nat.js';

const ctx = useSandbox({ nodes: 2 });
const tmp = useTmpDir('natmove');
const HOST = '203.0.113.1';
const EIP = '203.0.113.200';
const VM_IP: Record<string, string> = { node1: '172.30.10.20', node2: '172.30.10.21' };
const DNAT_PORT: Record<string, number> = { node1: 8888, node2: 8889 };
const PREFIX: Record<string, string> = { node1: 'n1gw-', node2: 'n2gw-' };
const gwNetns = (node: string) => `${PREFIX[node]}gw1`;
const agents = new Map<string, AgentProcess>();
let extNs = '';
const vms = new Map<string, PortResult>();
let docs: Manifest[];
let manifests = '';

const netnsExists = async (name: string) =>
  (await run('ip', ['netns', 'list'])).stdout.split('\n').some((l) => l.split(' ')[0] === name);
const holdsEip = async (netns: string) =>
  (await run('ip', ['-n', netns, '-br', 'addr'], { reject: false })).stdout.includes(EIP);
const net2Mac = async (netns: string) =>
  /link\/ether (\S+)/.exec((await run('ip', ['-n', netns, 'link', 'show', 'net2'])).stdout)![1]!;

/** The source address the external host sees for a request from `node`'s VM (SNAT), or undefined. */
const seenFrom = async (node: string) =>
  (await httpGet(vms.get(node)!.netns, `http://${HOST}:8080/`, { timeoutS: 1 }))?.split(' ')[1];

/** SNAT and DNAT work for the VM on `node` (the gateway's node). */
async function natWorks(node: string): Promise<void> {
  await waitUntil(async () => (await seenFrom(node)) === EIP, {
    what: `SNAT via ${node}`,
    timeoutMs: 60_000,
  });
  const url = `http://${EIP}:${DNAT_PORT[node]}/`;
  await waitUntil(async () => (await httpGet(extNs, url, { timeoutS: 1 })) !== undefined, {
    what: `DNAT via ${node}`,
    timeoutMs: 30_000,
  });
  expect(await httpGet(extNs, url)).toBe(`vm-${node} ${HOST}`);
}

/** Each agent's latest snapshot number (`/debug/state`). */
async function snapshotSeqs(): Promise<number[]> {
  return Promise.all(
    [...agents.values()].map(async (a) => {
      const state = (await (await fetch(`http://${a.listen}/debug/state`)).json()) as {
        snapshot?: { seq: number };
      };
      return state.snapshot?.seq ?? -1;
    }),
  );
}

async function selectNodes(selector: string): Promise<void> {
  find(docs, 'VpcNatGateway', 'gw1').spec['selector'] = [selector];
  await writeManifest(manifests, 'nat.yaml', docs);
}

beforeAll(async () => {
  const sb = ctx.sandbox;
  extNs = `${sb.state.id}-ext`;
  await run('ip', ['netns', 'add', extNs]);
  await run('ip', ['-n', extNs, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', extNs, 'link', 'add', 'br0', 'type', 'bridge']);
  await run('ip', ['-n', extNs, 'addr', 'add', `${HOST}/24`, 'dev', 'br0']);
  await run('ip', ['-n', extNs, 'link', 'set', 'br0', 'up']);
  for (const node of ['node1', 'node2']) {
    await addVethPair(sb.node(node).netns, 'eth1', extNs, node);
    await run('ip', ['-n', sb.node(node).netns, 'link', 'set', 'eth1', 'up']);
    await run('ip', ['-n', extNs, 'link', 'set', node, 'master', 'br0', 'up']);
  }
  await startHttpServer(extNs, 8080, 'host');

  docs = await readExample('vpc-nat-gateway');
  const ext = find(docs, 'Subnet', 'subnetexternal');
  ext.spec['cidrBlock'] = '203.0.113.0/24';
  ext.spec['gateway'] = HOST;
  find(docs, 'IptablesEIP', 'eip-gw1').spec['v4ip'] = EIP;
  const dnat = find(docs, 'IptablesDnatRule', 'dnat-web');
  dnat.spec['internalIp'] = VM_IP['node1'];
  docs.push({
    ...dnat,
    metadata: { name: 'dnat-web-node2' },
    spec: { ...dnat.spec, externalPort: String(DNAT_PORT['node2']), internalIp: VM_IP['node2'] },
  });
  manifests = path.join(tmp.dir, 'manifests');
  await selectNodes('kubernetes.io/hostname: node1');
  for (const node of ['node1', 'node2']) {
    await mkdir(path.join(tmp.dir, node), { recursive: true });
    agents.set(
      node,
      await startAgentProcess({
        sandbox: sb,
        dir: path.join(tmp.dir, node),
        node,
        manifests,
        args: ['--nat-netns-prefix', PREFIX[node]!],
      }),
    );
  }
  for (const node of ['node1', 'node2']) {
    const vm = await agents.get(node)!.api.add({
      network: 'default/natgw-lan',
      netns: await createVmNamespace(sb, `natmove${node}`),
      ip: VM_IP[node]!,
    });
    vms.set(node, vm);
    await startHttpServer(vm.netns, 80, `vm-${node}`);
  }
});

afterAll(async () => {
  await stopAll();
  for (const [node, agent] of agents) {
    const vm = vms.get(node);
    await cleanUpAgent(agent, vm ? [vm.netns] : []);
  }
  if (extNs) await run('ip', ['netns', 'del', extNs], { reject: false });
  for (const node of ['node1', 'node2']) await run('ip', ['netns', 'del', gwNetns(node)], { reject: false });
});

describe('a VPC NAT gateway moving between nodes', () => {
  it('runs on the node its selector names, and nowhere else', async () => {
    await waitUntil(() => holdsEip(gwNetns('node1')), { what: 'the gateway on node1', timeoutMs: 60_000 });
    expect(await netnsExists(gwNetns('node2'))).toBe(false);
    await hvSync(ctx.sandbox);
    await natWorks('node1');
  });

  it('moving the selector to node2 moves it: same EIP and MAC, announced, SNAT and DNAT work again', async () => {
    const mac = await net2Mac(gwNetns('node1'));
    const arp = await captureArp(extNs, 'br0');
    await selectNodes('kubernetes.io/hostname: node2');
    await waitUntil(() => holdsEip(gwNetns('node2')), { what: 'the gateway on node2', timeoutMs: 60_000 });
    await waitUntil(async () => !(await netnsExists(gwNetns('node1'))), {
      what: 'the gateway gone from node1',
      timeoutMs: 30_000,
    });
    expect(await net2Mac(gwNetns('node2'))).toBe(mac);
    await waitUntil(
      () =>
        [1, 2].every((op) =>
          arp.seen().some((a) => a.op === op && a.senderIp === EIP && a.senderMac === mac),
        ),
      { what: 'gratuitous ARP request and reply for the EIP from node2', timeoutMs: 10_000 },
    );
    await arp.stop();
    await natWorks('node2');
  });

  it('a selector matching both nodes keeps it where it runs', async () => {
    const before = await snapshotSeqs();
    await selectNodes('kubernetes.io/os: linux');
    await waitUntil(async () => (await snapshotSeqs()).every((seq, i) => seq > before[i]!), {
      what: 'both agents loaded the new selector',
      timeoutMs: 30_000,
    });
    await natWorks('node2');
    expect(await holdsEip(gwNetns('node2'))).toBe(true);
    expect(await netnsExists(gwNetns('node1'))).toBe(false);
  });

  it('node2 dies (agent killed, its namespaces gone): node1 takes it over, traffic flows', async () => {
    const node2 = agents.get('node2')!;
    await node2.kill();
    await run('ip', ['netns', 'del', gwNetns('node2')]);
    await waitUntil(() => holdsEip(gwNetns('node1')), {
      what: 'the gateway back on node1',
      timeoutMs: 60_000,
    });
    await natWorks('node1');
  });
});
