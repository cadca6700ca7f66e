/**
 * Attaching a VM (a network namespace the "runtime" made under /run/netns) to a network on a
 * node, as a container runtime does through Multus: the CNI plugin from the agent image (its
 * thin form, `kube-ovn`, as install-cni puts it on nodes), run on
 * the host with CNI_COMMAND=ADD, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS in its
 * environment and the NetworkAttachmentDefinition's config on stdin (`server_socket`: the
 * node's /run/openvswitch/kube-ovn-daemon.sock, where the agent container listens).
 */
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../agent/sandbox/process.js';
import type { ContainerNode } from './cluster.js';
import { podman } from './podman.js';

export interface AttachVmOptions {
  node: ContainerNode;
  /** The VM's namespace (its name under /run/netns). */
  netns: string;
  /** The NetworkAttachmentDefinition, `<namespace>/<name>`. */
  network: string;
}

/** What the attach gave the VM. */
export interface Attachment {
  ip: string;
  prefix: number;
  mac: string;
  gateway: string;
  ifname: string;
}

/**
 * The image's plugin as install-cni lays it out (the thin form as `kube-ovn`, the self-contained
 * one beside it as `vpc-agent-cni-bin`), copied out once per cluster; returns `kube-ovn`.
 */
async function pluginOf(node: ContainerNode): Promise<string> {
  const bin = path.join(path.dirname(node.runDir), 'opt-cni-bin-attach');
  const file = path.join(bin, 'kube-ovn');
  const present = await access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!present) {
    await mkdir(bin, { recursive: true });
    const from = (f: string) => `${node.agentContainer}:/opt/vpc-agent/dist/cni/${f}`;
    await podman(['cp', from('vpc-agent-cni'), path.join(bin, 'vpc-agent-cni-bin')]);
    await podman(['cp', from('vpc-agent-cni-thin'), file]);
  }
  return file;
}

interface CniResult {
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
}

/** Attaches the VM now: CNI ADD through the plugin, as a runtime invokes it. */
export async function attachVm(o: AttachVmOptions): Promise<Attachment> {
  const [nadNamespace, nadName] = o.network.split('/') as [string, string];
  const config = {
    cniVersion: '1.0.0',
    name: nadName,
    type: 'kube-ovn',
    server_socket: path.join(o.node.runDir, 'openvswitch', 'kube-ovn-daemon.sock'),
    provider: `${nadName}.${nadNamespace}.ovn`,
  };
  const r = await run(await pluginOf(o.node), [], {
    reject: false,
    input: JSON.stringify(config),
    env: {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: `ctr-${o.netns}`,
      CNI_NETNS: `/run/netns/${o.netns}`,
      CNI_IFNAME: 'eth0',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${nadNamespace};K8S_POD_NAME=${o.netns}`,
      CNI_PATH: '/opt/cni/bin',
    },
  });
  if (r.exitCode !== 0)
    throw new Error(`CNI ADD ${o.network} for ${o.netns} on ${o.node.name} failed: ${r.stdout || r.stderr}`);
  const result = JSON.parse(r.stdout) as CniResult;
  const ip = result.ips?.[0];
  const iface = result.interfaces?.[ip?.interface ?? -1];
  if (!ip || !iface) throw new Error(`CNI ADD for ${o.netns}: no address in the result ${r.stdout}`);
  const [addr, prefix] = ip.address.split('/') as [string, string];
  return {
    ip: addr,
    prefix: Number(prefix),
    mac: iface.mac ?? '',
    gateway: ip.gateway ?? '',
    ifname: iface.name,
  };
}
