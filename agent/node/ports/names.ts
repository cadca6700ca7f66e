/**
 * Names of a workload port, all pure and stable (the same request gives the same names after a
 * retry or an agent restart):
 *
 * - LSP name: Kube-OVN's `<pod>.<namespace>.<provider>` for attachment networks
 *   (`PodNameToPortName`), with the target network namespace in the pod's place and the NAD's
 *   namespace: `vm1.default.vswitch1.default.ovn`;
 * - IPAM owner: `vm/<netns>/<nad-namespace>/<nad-name>` — one address per namespace and
 *   network, so a retried ADD gets the same address back;
 * - host-side veth: `h` + 12 hex digits of sha-256(LSP name) — 13 bytes, inside IFNAMSIZ (15);
 * - interface in the namespace: `eth0` for the first network, then `net1`, `net2`, … (Multus).
 */
import { createHash } from 'node:crypto';

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;
/** Prefix of IPAM owners of workload ports. */
export const PORT_OWNER_PREFIX = 'vm/';

export interface NetworkRef {
  /** NAD namespace. */
  namespace: string;
  /** NAD name. */
  name: string;
}

/** Kubernetes object names (RFC 1123 label / subdomain characters). */
export const K8S_OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses `<namespace>/<nad>`; undefined when malformed. */
export function parseNetwork(text: string): NetworkRef | undefined {
  const parts = text.split('/');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (
    !K8S_OBJECT_NAME.test(namespace) ||
    !K8S_OBJECT_NAME.test(name) ||
    namespace.length > 63 ||
    name.length > 253
  )
    return undefined;
  return { namespace, name };
}

export const formatNetwork = (n: NetworkRef): string => `${n.namespace}/${n.name}`;

/**
 * IPAM owner of the port of `netns` on `network` on `node`: `vm/<node>/<netns>/<ns>/<nad>`
 * (one address per node, namespace and network; a namespace path is URI-encoded whole).
 */
export function portIpamOwner(node: string, netns: string, network: string): string {
  return `${PORT_OWNER_PREFIX}${node}/${encodeURIComponent(netns)}/${network}`;
}

/** IPAM owner of a port that moves between nodes (see `ValidAddRequest.movable`). */
export function movablePortOwner(key: string): string {
  return `movable/${key}`;
}

/** Default LSP name (Kube-OVN style): `<netns>.<nad-namespace>.<provider>`. */
export function defaultPortName(netns: string, network: NetworkRef, provider: string): string {
  return `${netns}.${network.namespace}.${provider}`;
}

/** The provider of Kube-OVN's default network: its ports carry no provider suffix. */
export const DEFAULT_PROVIDER = 'ovn';

/**
 * LSP name of a pod's attachment, as Kube-OVN names it: `<pod>.<namespace>` on the default
 * provider, `<pod>.<namespace>.<provider>` on any other. A KubeVirt VM's ports use the VM's name
 * in the pod's place, so they keep their name across its pods.
 */
export function podPortName(pod: string, namespace: string, provider: string): string {
  return provider === DEFAULT_PROVIDER ? `${pod}.${namespace}` : `${pod}.${namespace}.${provider}`;
}

/** Host-side veth of LSP `lsp`: `h` + 12 hex digits. */
export function hostIfname(lsp: string): string {
  return `h${createHash('sha256').update(lsp).digest('hex').slice(0, 12)}`;
}

/** `eth0`, then `net1`, `net2`, …: the first not in `used`. */
export function nextIfname(used: ReadonlySet<string>): string {
  if (!used.has('eth0')) return 'eth0';
  for (let i = 1; ; i++) if (!used.has(`net${i}`)) return `net${i}`;
}
