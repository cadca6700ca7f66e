/**
 * Who a CNI attachment belongs to, from its pod — pure. A KubeVirt VM's pods (virt-launcher)
 * come and go with every start, migration and re-creation; the VM keeps its address, MAC and LSP
 * name because they are keyed by the VM, not by the pod:
 *
 * - the VM: the pod label `vm.kubevirt.io/name`, else its owner of kind VirtualMachineInstance
 *   (a VMI has its VM's name), in the pod's namespace;
 * - LSP name `<vm>.<namespace>.<provider>` (Kube-OVN's name with the VM in the pod's place);
 * - IPAM owner `kubevirt/<namespace>/<vm>/<nad namespace>/<nad>`: the same on every node, so
 *   a VM started elsewhere asks for its own address again;
 * - requested address and MAC from the pod annotations `<provider>.kubernetes.io/ip_address`
 *   and `…/mac_address` (`ovn.kubernetes.io/…` on the default provider), as Kube-OVN reads them.
 */

/** What the agent keeps of a pod (its node's pods, from the API server). */
export interface PodInfo {
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  owners: readonly { kind: string; name: string }[];
}

export interface VmRef {
  namespace: string;
  name: string;
}

export interface WorkloadIdentity {
  /** Set when the pod runs a KubeVirt VM. */
  vm?: VmRef;
  /** Requested by annotation. */
  ip?: string;
  mac?: string;
}

/** The label KubeVirt puts on a VM's virt-launcher pods. */
export const VM_NAME_LABEL = 'vm.kubevirt.io/name';
/** Prefix of the IPAM owners of VM ports. */
export const VM_OWNER_PREFIX = 'kubevirt/';

export function vmOf(pod: PodInfo): VmRef | undefined {
  const byLabel = pod.labels[VM_NAME_LABEL];
  if (byLabel) return { namespace: pod.namespace, name: byLabel };
  const vmi = pod.owners.find((o) => o.kind === 'VirtualMachineInstance');
  return vmi ? { namespace: pod.namespace, name: vmi.name } : undefined;
}

/** `<namespace>/<name>`: how a VM is recorded on its LSP and looked up among the VMs. */
export const vmKey = (vm: VmRef): string => `${vm.namespace}/${vm.name}`;

export function workloadIdentity(pod: PodInfo | undefined, provider: string): WorkloadIdentity {
  if (!pod) return {};
  const vm = vmOf(pod);
  const ip = pod.annotations[`${provider}.kubernetes.io/ip_address`];
  const mac = pod.annotations[`${provider}.kubernetes.io/mac_address`];
  return { ...(vm ? { vm } : {}), ...(ip ? { ip } : {}), ...(mac ? { mac } : {}) };
}

/** IPAM owner of VM `vm`'s port on `network` (`<namespace>/<nad>`), the same on every node. */
export function vmIpamOwner(vm: VmRef, network: string): string {
  return `${VM_OWNER_PREFIX}${vm.namespace}/${vm.name}/${network}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const stringMap = (v: unknown): Record<string, string> =>
  isObject(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};

/** A Pod object (as the API server sends it) → {@link PodInfo}; undefined when it has no name. */
export function podInfoOf(obj: Record<string, unknown>): PodInfo | undefined {
  const md = isObject(obj['metadata']) ? obj['metadata'] : undefined;
  if (!md || typeof md['name'] !== 'string') return undefined;
  const owners = Array.isArray(md['ownerReferences'])
    ? (md['ownerReferences'] as unknown[])
        .filter(isObject)
        .map((o) => ({ kind: String(o['kind']), name: String(o['name']) }))
    : [];
  return {
    namespace: typeof md['namespace'] === 'string' ? md['namespace'] : 'default',
    name: md['name'],
    labels: stringMap(md['labels']),
    annotations: stringMap(md['annotations']),
    owners,
  };
}
