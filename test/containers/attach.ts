/**
 * Attaching a VM (a network namespace the "runtime" made under /run/netns) to a network on a
 * node, through the agent in that node's agent container — the one place the container tier
 * attaches, so that it can switch to the CNI plugin invoked as a runtime invokes it
 * (CNI_COMMAND=ADD, CNI_NETNS, CNI_IFNAME, CNI_CONTAINERID, CNI_ARGS, the NAD's config on
 * stdin) without touching the tests.
 */
import type { ContainerNode } from './cluster.js';
import { execIn } from './cluster.js';

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

/** Attaches the VM now, by the agent's local API (`vpc-agent port add` in the agent container). */
export async function attachVm(o: AttachVmOptions): Promise<Attachment> {
  const r = await execIn(
    o.node.agentContainer,
    ['vpc-agent', 'port', 'add', `--network=${o.network}`, `--netns=${o.netns}`],
    { reject: false },
  );
  if (r.exitCode !== 0)
    throw new Error(`port add ${o.network} for ${o.netns} on ${o.node.name} failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout) as Attachment;
}
