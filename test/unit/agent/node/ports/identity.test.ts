import { describe, expect, it } from 'vitest';
import {
  podInfoOf,
  vmIpamOwner,
  vmOf,
  workloadIdentity,
  type PodInfo,
} from '../../../../../agent/node/ports/identity.js';
import { podPortName } from '../../../../../agent/node/ports/names.js';

const pod = (over: Partial<PodInfo> = {}): PodInfo => ({
  namespace: 'vms',
  name: 'virt-launcher-vm1-abcde',
  labels: {},
  annotations: {},
  owners: [],
  ...over,
});

describe('workload identity of a pod', () => {
  it('finds the VM by label, else by its VirtualMachineInstance owner; a plain pod has none', () => {
    expect(vmOf(pod({ labels: { 'vm.kubevirt.io/name': 'vm1' } }))).toEqual({
      namespace: 'vms',
      name: 'vm1',
    });
    expect(vmOf(pod({ owners: [{ kind: 'VirtualMachineInstance', name: 'vm2' }] }))).toEqual({
      namespace: 'vms',
      name: 'vm2',
    });
    expect(vmOf(pod({ owners: [{ kind: 'ReplicaSet', name: 'rs' }] }))).toBeUndefined();
  });

  it("reads the provider's address annotations (ovn.kubernetes.io for the default provider)", () => {
    const annotations = {
      'vswitch1.default.ovn.kubernetes.io/ip_address': '172.20.10.77',
      'vswitch1.default.ovn.kubernetes.io/mac_address': '0a:00:00:00:07:77',
      'ovn.kubernetes.io/ip_address': '10.16.0.5',
    };
    expect(workloadIdentity(pod({ annotations }), 'vswitch1.default.ovn')).toEqual({
      ip: '172.20.10.77',
      mac: '0a:00:00:00:07:77',
    });
    expect(workloadIdentity(pod({ annotations }), 'ovn')).toEqual({ ip: '10.16.0.5' });
    expect(workloadIdentity(undefined, 'ovn')).toEqual({});
  });

  it('keys a VM port by the VM: LSP name and an IPAM owner that no node or pod name is part of', () => {
    expect(podPortName('vm1', 'vms', 'vswitch1.default.ovn')).toBe('vm1.vms.vswitch1.default.ovn');
    expect(podPortName('pod', 'ns', 'ovn')).toBe('pod.ns');
    expect(vmIpamOwner({ namespace: 'vms', name: 'vm1' }, 'default/vswitch1')).toBe(
      'kubevirt/vms/vm1/default/vswitch1',
    );
  });

  it('reads a Pod object as the API server sends it', () => {
    expect(
      podInfoOf({
        metadata: {
          name: 'p',
          namespace: 'vms',
          labels: { a: 'b', n: 1 },
          annotations: { x: 'y' },
          ownerReferences: [{ kind: 'VirtualMachineInstance', name: 'vm1', uid: 'u' }],
        },
      }),
    ).toEqual({
      namespace: 'vms',
      name: 'p',
      labels: { a: 'b' },
      annotations: { x: 'y' },
      owners: [{ kind: 'VirtualMachineInstance', name: 'vm1' }],
    });
    expect(podInfoOf({ metadata: {} })).toBeUndefined();
  });
});
