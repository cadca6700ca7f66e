/**
 * The API resources the Kubernetes source watches: the `kubeovn.io/v1` kinds the agent supports
 * (cluster-scoped, as Kube-OVN defines them) and `k8s.cni.cncf.io/v1`
 * NetworkAttachmentDefinitions (namespaced, watched in every namespace).
 */

export interface WatchedKind {
  /** `kind` as in a manifest, e.g. `Subnet`. */
  kind: string;
  group: string;
  version: string;
  /** The resource name in URLs (the CRD's `spec.names.plural`). */
  plural: string;
  namespaced: boolean;
}

const kubeovn = (kind: string, plural: string): WatchedKind => ({
  kind,
  group: 'kubeovn.io',
  version: 'v1',
  plural,
  namespaced: false,
});

/** In the order the snapshot lists them (parents before children, as in the examples). */
export const WATCHED_KINDS: readonly WatchedKind[] = [
  kubeovn('Vpc', 'vpcs'),
  kubeovn('Subnet', 'subnets'),
  {
    kind: 'NetworkAttachmentDefinition',
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    plural: 'network-attachment-definitions',
    namespaced: true,
  },
  kubeovn('ProviderNetwork', 'provider-networks'),
  kubeovn('Vlan', 'vlans'),
  kubeovn('VpcNatGateway', 'vpc-nat-gateways'),
  kubeovn('IptablesEIP', 'iptables-eips'),
  kubeovn('IptablesSnatRule', 'iptables-snat-rules'),
  kubeovn('IptablesDnatRule', 'iptables-dnat-rules'),
  kubeovn('IptablesFIPRule', 'iptables-fip-rules'),
];

export const apiVersionOf = (k: WatchedKind): string => (k.group ? `${k.group}/${k.version}` : k.version);

/** The collection URL path, across all namespaces for namespaced kinds. */
export function collectionPath(k: WatchedKind): string {
  return k.group ? `/apis/${k.group}/${k.version}/${k.plural}` : `/api/${k.version}/${k.plural}`;
}

/** The key of an object in its kind: `name`, or `namespace/name` for namespaced kinds. */
export function objectKey(k: WatchedKind, meta: { name?: unknown; namespace?: unknown }): string {
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (!k.namespaced) return name;
  const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  return `${ns}/${name}`;
}
