/**
 * KubeVirt identity end to end: two sandbox nodes, each with the agent as a real process reading
 * the FAKE Kubernetes API server (a fake: no real API server runs here) — the seeds'
 * vpc-two-subnets resources, this node's Pods, and VirtualMachines — and the CNI plugin run as a
 * runtime runs it for virt-launcher pods (namespaces this test makes).
 *
 * Checked: a VM's port is named after the VM and keeps its address and MAC across a pod's DEL and
 * a new pod (another name, another namespace), also when the new pod runs on the other node
 * (which takes the LSP over); the address and MAC annotations are honoured; a VM deleted for good
 * frees its address (another VM gets it), and nothing is freed while the VM still exists.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostIfname } from '../../../agent/node/ports/names.js';
import { listManifestFiles } from '../../../agent/resources/index.js';
import { decodeManifestText } from '../../../agent/resources/loader.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import { nbRows, ping, startAgentProcess, type AgentProcess } from '../../harness/agent.js';
import { buildCniBundle, installCniPlugin, invokeCni } from '../../harness/cni.js';
import {
  AGENT_RESOURCES,
  startFakeKubeApiServer,
  WORKLOAD_RESOURCES,
  type FakeKubeApiServer,
} from '../../harness/fake-kube-apiserver.js';
import { made, useSandbox, useTmpDir } from '../../harness/index.js';

const ctx = useSandbox({ nodes: 2 });
const tmp = useTmpDir('kubevirt');

let fake: FakeKubeApiServer | undefined;
let bin: string | undefined;
const agents = new Map<string, AgentProcess>();
const namespaces: string[] = [];
const LSP = 'vm1.vms.vswitch1.default.ovn';

const agent = (node: string) => made(agents.get(node), `agent on ${node}`);

/** A virt-launcher pod of `vm` on `node` in the fake API, and its sandbox namespace. */
async function launcherPod(vm: string, pod: string, node: string, annotations: Record<string, string> = {}) {
  made(fake, 'fake').apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod,
      namespace: 'vms',
      labels: { 'kubevirt.io': 'virt-launcher', 'vm.kubevirt.io/name': vm },
      annotations,
      ownerReferences: [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: vm, uid: 'x' }],
    },
    spec: { nodeName: node },
  });
  const ns = `${ctx.sandbox.state.id}-${pod}`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  namespaces.push(ns);
  return `/var/run/netns/${ns}`;
}

const vmObject = (name: string) => ({
  apiVersion: 'kubevirt.io/v1',
  kind: 'VirtualMachine',
  metadata: { name, namespace: 'vms' },
  spec: { running: true },
});

function cni(node: string, command: 'ADD' | 'DEL', pod: string, netns: string) {
  return invokeCni(made(bin, 'plugin'), 'kube-ovn', {
    command,
    containerId: `ctr-${pod}`,
    netns,
    ifname: 'eth0',
    args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'vms', K8S_POD_NAME: pod },
    config: {
      cniVersion: '1.0.0',
      name: 'vswitch1',
      type: 'kube-ovn',
      server_socket: agent(node).cniSocket,
      provider: 'vswitch1.default.ovn',
    },
  });
}

async function add(node: string, pod: string, netns: string) {
  const r = await cni(node, 'ADD', pod, netns);
  if (r.exitCode !== 0)
    throw new Error(`ADD ${pod} on ${node}: ${JSON.stringify(r.out)}\n${await agent(node).log()}`);
  const ip = (r.out?.['ips'] as { address: string }[])[0]!.address.split('/')[0]!;
  const mac = (r.out?.['interfaces'] as { mac: string }[])[0]!.mac;
  return { ip, mac };
}

const lsp = async (name: string) =>
  (await nbRows(ctx.sandbox, 'Logical_Switch_Port')).find((r) => r['name'] === name);

beforeAll(async () => {
  fake = await startFakeKubeApiServer();
  for (const r of [...AGENT_RESOURCES, ...WORKLOAD_RESOURCES]) fake.serve(r);
  for (const file of await listManifestFiles(path.resolve('examples/vpc-two-subnets'))) {
    const { docs } = decodeManifestText(await readFile(file, 'utf8'), file);
    for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
  }
  fake.apply(vmObject('vm1'));
  fake.apply(vmObject('vm2'));
  const kubeconfig = path.join(tmp.dir, 'kubeconfig');
  await fake.writeKubeconfig(kubeconfig);
  await buildCniBundle();
  bin = await installCniPlugin(tmp.dir);
  for (const node of ['node1', 'node2']) {
    const dir = path.join(tmp.dir, node);
    await run('mkdir', ['-p', dir]);
    agents.set(node, await startAgentProcess({ sandbox: ctx.sandbox, dir, node, kubeconfig }));
  }
});

afterAll(async () => {
  for (const a of agents.values()) await a.stop();
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns], { reject: false });
  await fake?.stop();
});

describe('KubeVirt VMs keep their address and MAC', () => {
  let first: { ip: string; mac: string };

  it('names the port after the VM, not the pod', async () => {
    const netns = await launcherPod('vm1', 'virt-launcher-vm1-aaaaa', 'node1');
    first = await add('node1', 'virt-launcher-vm1-aaaaa', netns);
    expect(first.ip).toMatch(/^172\.20\.10\./);
    const row = await lsp(LSP);
    expect(row?.external_ids).toMatchObject({
      'vpc-agent.io/vm': 'vms/vm1',
      'vpc-agent.io/pod': 'vms/virt-launcher-vm1-aaaaa',
    });
    expect((await nbRows(ctx.sandbox, 'Logical_Switch_Port')).map((r) => r['name'])).not.toContain(
      'virt-launcher-vm1-aaaaa.vms.vswitch1.default.ovn',
    );
  });

  it('stop/start: DEL keeps the LSP (retained, no host state); the next pod gets the same IP and MAC', async () => {
    const del = await cni(
      'node1',
      'DEL',
      'virt-launcher-vm1-aaaaa',
      `/var/run/netns/${ctx.sandbox.state.id}-virt-launcher-vm1-aaaaa`,
    );
    expect(del.exitCode, JSON.stringify(del.out)).toBe(0);
    const row = await lsp(LSP);
    expect(row?.external_ids?.['vpc-agent.io/retained']).toBe('true');
    expect(row?.external_ids?.['vpc-agent.io/container-id']).toBeUndefined();
    expect((await ctx.sandbox.vsctl('node1', 'list-ports', 'br-int')).split('\n')).not.toContain(
      hostIfname(LSP),
    );
    expect((await run('ip', ['-n', ctx.sandbox.node('node1').netns, '-o', 'link'])).stdout).not.toContain(
      hostIfname(LSP),
    );
    made(fake, 'fake').delete('Pod', 'virt-launcher-vm1-aaaaa', 'vms');
    const netns = await launcherPod('vm1', 'virt-launcher-vm1-bbbbb', 'node1');
    const again = await add('node1', 'virt-launcher-vm1-bbbbb', netns);
    expect(again).toEqual(first);
    const now = await lsp(LSP);
    expect(now?._uuid).toBe(row?._uuid);
    expect(now?.external_ids?.['vpc-agent.io/retained']).toBeUndefined();
  });

  it('honours the address and MAC annotations; the VMs ping each other', async () => {
    const netns = await launcherPod('vm2', 'virt-launcher-vm2-ccccc', 'node1', {
      'vswitch1.default.ovn.kubernetes.io/ip_address': '172.20.10.77',
      'vswitch1.default.ovn.kubernetes.io/mac_address': '0a:00:00:00:07:77',
    });
    const vm2 = await add('node1', 'virt-launcher-vm2-ccccc', netns);
    expect(vm2).toEqual({ ip: '172.20.10.77', mac: '0a:00:00:00:07:77' });
    await waitUntil(() => ping(path.basename(netns), first.ip, 1), { what: 'vm2 → vm1', timeoutMs: 20_000 });
  });

  it('a VM started on the other node takes its port over, with the same IP and MAC', async () => {
    const del = await cni(
      'node1',
      'DEL',
      'virt-launcher-vm1-bbbbb',
      `/var/run/netns/${ctx.sandbox.state.id}-virt-launcher-vm1-bbbbb`,
    );
    expect(del.exitCode).toBe(0);
    made(fake, 'fake').delete('Pod', 'virt-launcher-vm1-bbbbb', 'vms');
    const netns = await launcherPod('vm1', 'virt-launcher-vm1-ddddd', 'node2');
    const moved = await add('node2', 'virt-launcher-vm1-ddddd', netns);
    expect(moved).toEqual(first);
    const row = await lsp(LSP);
    expect(row?.external_ids?.['vpc-agent.io/owner']).toMatch(/\/node\/node2$/);
    expect((row?.['options'] as Record<string, string>)['requested-chassis']).toBe('node2');
    expect((await agent('node1').api.list()).map((p) => p.name)).not.toContain(LSP);
  });

  it('a VM deleted for good frees its address; a VM that still exists keeps it', async () => {
    const del = await cni(
      'node2',
      'DEL',
      'virt-launcher-vm1-ddddd',
      `/var/run/netns/${ctx.sandbox.state.id}-virt-launcher-vm1-ddddd`,
    );
    expect(del.exitCode).toBe(0);
    made(fake, 'fake').delete('Pod', 'virt-launcher-vm1-ddddd', 'vms');
    // Still a VM: still retained.
    expect((await lsp(LSP))?.external_ids?.['vpc-agent.io/retained']).toBe('true');
    made(fake, 'fake').delete('VirtualMachine', 'vm1', 'vms');
    await waitUntil(async () => (await lsp(LSP)) === undefined, {
      what: 'the LSP of deleted vm1 removed',
      timeoutMs: 20_000,
    });
    // Its address is free: another VM asking for it gets it.
    made(fake, 'fake').apply(vmObject('vm3'));
    const netns = await launcherPod('vm3', 'virt-launcher-vm3-eeeee', 'node1', {
      'vswitch1.default.ovn.kubernetes.io/ip_address': first.ip,
    });
    const vm3 = await add('node1', 'virt-launcher-vm3-eeeee', netns);
    expect(vm3.ip).toBe(first.ip);
  });
});
