/**
 * "VMs" for the sandbox: network namespaces whose `eth0` is one end of a veth pair whose other
 * end is an OVS port on a node's br-int, bound to an OVN logical switch port through
 * `external_ids:iface-id` (ovn-architecture(7) "Life Cycle of a VIF").
 *
 * Pitfalls handled: TX checksum offload is turned off on the VM's eth0 when the node's br-int
 * is on the userspace datapath (the sandbox's always is), or TCP/UDP arrive there with partial
 * checksums — the same rule as the agent's ports (../node/ovs/datapath.ts); a veth re-created
 * under the name of an existing OVS port is not reopened, so the port is always deleted first.
 */
import { disableTxChecksumFor } from '../node/ovs/datapath.js';
import { type ChassisInfo, vsctl } from './chassis.js';
import { addVethPair, run } from './process.js';

export interface VmOptions {
  /** VM name; the host-side link is `h-<name>` (so at most 13 characters). */
  name: string;
  /** Namespace to create for the VM. */
  netns: string;
  /** OVN logical switch port name (`iface-id`); defaults to `name`. */
  lsp?: string;
  mac: string;
  /** Address with prefix length, e.g. `10.0.0.10/24`. */
  cidr: string;
  gateway?: string;
  mtu?: number;
  /** Called right before the namespace is created, so it can be recorded for cleanup. */
  onNamespace?: (netns: string) => Promise<void> | void;
}

/** A VM as recorded in the sandbox state. */
export interface VmInfo {
  name: string;
  netns: string;
  node: string;
  /** OVS port (host-side veth) on the node's br-int. */
  port: string;
  lsp: string;
  mac: string;
  cidr: string;
  gateway?: string;
}

/** Linux interface names are limited to 15 characters (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

/** Host-side link name for a VM. */
export function vmPortName(vm: string): string {
  const port = `h-${vm}`;
  if (port.length > IFNAME_MAX || !/^[A-Za-z0-9_.-]+$/.test(vm)) {
    throw new Error(`VM name '${vm}' must be ≤ ${IFNAME_MAX - 2} chars of [A-Za-z0-9_.-]`);
  }
  return port;
}

/** br-int's `datapath_type` as `ovs-vsctl get` prints it (an empty string is printed `""`). */
async function brIntDatapathType(node: Pick<ChassisInfo, 'ovsRemote'>): Promise<string> {
  const out = (await vsctl(node, ['get', 'bridge', 'br-int', 'datapath_type'])).trim();
  return out === '""' ? '' : out;
}

/** Creates the VM namespace, the veth pair and the br-int port with its `iface-id`. */
export async function createVm(node: ChassisInfo, opts: VmOptions): Promise<VmInfo> {
  const port = vmPortName(opts.name);
  const lsp = opts.lsp ?? opts.name;
  const ns = opts.netns;
  await opts.onNamespace?.(ns);
  await run('ip', ['netns', 'add', ns]);
  try {
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await addVethPair(node.netns, port, ns, 'eth0');
    const eth0 = ['address', opts.mac, 'mtu', String(opts.mtu ?? 1500)];
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', ...eth0]);
    await run('ip', ['-n', ns, 'addr', 'add', opts.cidr, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    if (opts.gateway) await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', opts.gateway]);
    if (disableTxChecksumFor(await brIntDatapathType(node))) {
      await run('ethtool', ['-K', 'eth0', 'tx', 'off'], { netns: ns });
    }
    await run('ip', ['-n', node.netns, 'link', 'set', port, 'up']);
    await vsctl(node, [
      '--if-exists',
      'del-port',
      'br-int',
      port,
      '--',
      'add-port',
      'br-int',
      port,
      '--',
      'set',
      'interface',
      port,
      `external_ids:iface-id=${lsp}`,
    ]);
  } catch (err) {
    await run('ip', ['netns', 'del', ns], { reject: false });
    throw err;
  }
  return {
    name: opts.name,
    netns: ns,
    node: node.name,
    port,
    lsp,
    mac: opts.mac,
    cidr: opts.cidr,
    ...(opts.gateway ? { gateway: opts.gateway } : {}),
  };
}

/** Removes the VM's OVS port, then its namespace (which takes the veth pair with it). Idempotent. */
export async function deleteVm(node: Pick<ChassisInfo, 'ovsRemote' | 'netns'>, vm: VmInfo): Promise<void> {
  await run(
    'ovs-vsctl',
    [`--db=${node.ovsRemote}`, '--timeout=10', '--if-exists', 'del-port', 'br-int', vm.port],
    {
      reject: false,
    },
  );
  await run('ip', ['netns', 'del', vm.netns], { reject: false });
  await run('ip', ['-n', node.netns, 'link', 'del', vm.port], { reject: false });
}
