/**
 * The agent's image as it is deployed: ovn-central and two chassis in containers, the image
 * built from the project's Dockerfile run on each node as the DaemonSet runs it, VMs attached
 * on two subnets of one VPC pinging each other through the VPC's router, on one node and
 * across the nodes.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../agent/sandbox/process.js';
import { useTestNamespaces } from '../harness/netns.js';
import { attachVm } from './attach.js';
import {
  addNodeNetwork,
  agentHttpStatus,
  type ContainerNode,
  execIn,
  startCentral,
  startNode,
  waitFor,
  waitNodeReady,
  writeManifests,
} from './cluster.js';
import { buildImages, containersNamed, type Images, podman, removeContainers } from './podman.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const { prefix } = useTestNamespaces('vct');

let images: Images;
let dir: string | undefined;
let node1: ContainerNode;
let node2: ContainerNode;

beforeAll(async () => {
  images = await buildImages();
  dir = await mkdtemp(path.join(os.tmpdir(), 'vpc-agent-containers-'));
  const opts = { images, prefix, dir };
  const central = await startCentral(opts);
  const manifests = await writeManifests(dir, {
    'vpc-1.yaml': await readFile(path.join(ROOT, 'examples/vpc-two-subnets/vpc-1.yaml'), 'utf8'),
  });
  await addNodeNetwork(opts, central, 'node1', 1);
  await addNodeNetwork(opts, central, 'node2', 2);
  [node1, node2] = await Promise.all([
    startNode(opts, 'node1', 1, [2], manifests),
    startNode(opts, 'node2', 2, [1], manifests),
  ]);
  await Promise.all([waitNodeReady(node1, 120_000), waitNodeReady(node2, 120_000)]);
});

afterAll(async () => {
  // Every container this file made, by the prefix of the names it gave them; the namespaces go
  // with useTestNamespaces (which also checks that the host is as it was).
  await removeContainers(await containersNamed(prefix));
  expect(await containersNamed(prefix)).toEqual([]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the agent image, deployed as a DaemonSet pod on a containerized OVN', () => {
  it('is healthy by its own HEALTHCHECK and serves /healthz and /readyz', async () => {
    const health = await podman(['healthcheck', 'run', node1.agentContainer], { reject: false });
    expect(health.exitCode, health.stdout + health.stderr).toBe(0);
    expect(await agentHttpStatus(node1, '/healthz')).toBe(200);
    expect(await agentHttpStatus(node1, '/readyz')).toBe(200);
  });

  it('carries the client tools the agent runs, and no OVS/OVN daemons', async () => {
    const which = async (tool: string) =>
      (await execIn(node1.agentContainer, ['sh', '-c', `command -v ${tool}`], { reject: false })).exitCode;
    for (const tool of ['vpc-agent', 'ip', 'nft', 'ethtool', 'sysctl', 'conntrack', 'arping', 'ovn-trace'])
      expect(await which(tool), tool).toBe(0);
    for (const daemon of ['ovs-vswitchd', 'ovsdb-server', 'ovn-controller', 'ovn-northd'])
      expect(await which(daemon), daemon).not.toBe(0);
  });

  it('attaches VMs on two subnets of a VPC on two nodes; they ping each other across its router and Geneve', async () => {
    const vm1 = `${prefix}vm1`;
    const vm2 = `${prefix}vm2`;
    const vm3 = `${prefix}vm3`;
    for (const vm of [vm1, vm2, vm3]) await run('ip', ['netns', 'add', vm]);
    const a1 = await attachVm({ node: node1, netns: vm1, network: 'default/vswitch1' });
    const a2 = await attachVm({ node: node1, netns: vm2, network: 'default/vswitch2' });
    const a3 = await attachVm({ node: node2, netns: vm3, network: 'default/vswitch2' });
    expect(a1.ip).toMatch(/^172\.20\.10\./);
    expect(a2.ip).toMatch(/^172\.20\.20\./);
    expect(a3.ip).toMatch(/^172\.20\.20\./);
    expect(a3.ip).not.toBe(a2.ip);
    // The address is in the VM's own namespace, on the host's /run/netns.
    const addr = await run('ip', ['-n', vm1, '-4', '-o', 'addr', 'show', 'dev', a1.ifname]);
    expect(addr.stdout).toContain(`${a1.ip}/${a1.prefix}`);
    const ping = (from: string, to: string) =>
      waitFor(
        `${from} to ping ${to}`,
        async () =>
          (await run('ping', ['-c', '1', '-W', '1', to], { netns: from, reject: false })).exitCode === 0
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
    // Same node, across subnets (the VPC's router).
    await ping(vm1, a2.ip);
    await ping(vm2, a1.ip);
    // Across nodes: node2's agent serves its own VM, and the traffic crosses the Geneve tunnel.
    await ping(vm3, a1.ip);
    await ping(vm1, a3.ip);
    const tunnels = await execIn(node1.chassisContainer, [
      'ovs-vsctl',
      '--timeout=10',
      '--bare',
      '--columns=options',
      'find',
      'Interface',
      'type=geneve',
    ]);
    expect(tunnels.stdout).toContain('remote_ip=198.19.0.3');
  });

  it("runs the DaemonSet's install-cni command: the image's CNI plugin lands as kube-ovn and vpc-agent-cni", async () => {
    const ds = parseAllDocuments(await readFile(path.join(ROOT, 'deploy/daemonset.yaml'), 'utf8'))
      .map(
        (d) =>
          d.toJS() as { kind: string; spec: { template: { spec: { initContainers: InitContainer[] } } } },
      )
      .find((d) => d.kind === 'DaemonSet')!;
    const init = ds.spec.template.spec.initContainers.find((c) => c.name === 'install-cni')!;
    const binDir = path.join(dir!, 'opt-cni-bin');
    await run('mkdir', ['-p', binDir]);
    const mount = init.volumeMounts.find((m) => m.name === 'cni-bin')!.mountPath;
    const r = await podman(
      [
        'run',
        '--rm',
        '--network=none',
        '--user=0',
        `--volume=${binDir}:${mount}`,
        '--entrypoint',
        init.command[0]!,
        images.agent,
        ...init.command.slice(1),
      ],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await readdir(binDir)).sort()).toEqual(['kube-ovn', 'vpc-agent-cni', 'vpc-agent-cni-bin']);
    const inImage = async (file: string) =>
      (await execIn(node1.agentContainer, ['sha256sum', `/opt/vpc-agent/dist/cni/${file}`])).stdout.split(
        ' ',
      )[0];
    const installed = async (name: string) =>
      createHash('sha256')
        .update(await readFile(path.join(binDir, name)))
        .digest('hex');
    const want: Record<string, string> = {
      'kube-ovn': 'vpc-agent-cni-thin',
      'vpc-agent-cni': 'vpc-agent-cni-thin',
      'vpc-agent-cni-bin': 'vpc-agent-cni',
    };
    for (const [name, file] of Object.entries(want)) {
      expect(await installed(name), name).toBe(await inImage(file));
      expect((await stat(path.join(binDir, name))).mode & 0o777).toBe(0o755);
    }
  });
});

interface InitContainer {
  name: string;
  command: string[];
  volumeMounts: { name: string; mountPath: string }[];
}
