/**
 * The agent's watch of this node's Pods and of KubeVirt's VirtualMachines against the FAKE API
 * server (a fake: no real API server runs here): the node field selector, a pod that arrives
 * after it is asked for, and VMs vouched for only after a complete list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkloadWatch, type WorkloadWatch } from '../../../../agent/sources/kubernetes/workloads.js';
import { WORKLOAD_RESOURCES } from '../../../harness/fake-kube-apiserver.js';
import { useFakeApi } from './helpers.js';
import { waitUntil } from '../../../../agent/sandbox/process.js';

const ctx = useFakeApi();
let watch: WorkloadWatch | undefined;
afterEach(async () => {
  await watch?.stop();
  watch = undefined;
});

const pod = (name: string, node: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'vms', labels },
  spec: { nodeName: node },
});
const vm = (name: string) => ({
  apiVersion: 'kubevirt.io/v1',
  kind: 'VirtualMachine',
  metadata: { name, namespace: 'vms' },
});

const start = async (podWaitMs = 2_000) => {
  watch = createWorkloadWatch({
    kubeconfigPath: ctx.kubeconfig,
    node: 'node1',
    podWaitMs,
    backoffInitialMs: 20,
  });
  await watch.start();
  return watch;
};

describe('workload watch', () => {
  it("sees only this node's pods (spec.nodeName), and waits for a pod not delivered yet", async () => {
    for (const r of WORKLOAD_RESOURCES) ctx.fake.serve(r);
    ctx.fake.apply(pod('here', 'node1', { 'vm.kubevirt.io/name': 'vm1' }));
    ctx.fake.apply(pod('there', 'node2'));
    const w = await start();
    expect(await w.pod('vms', 'here')).toMatchObject({
      name: 'here',
      labels: { 'vm.kubevirt.io/name': 'vm1' },
    });
    const lists = ctx.fake.requests.filter((r) => r.path === '/api/v1/pods' && r.query['watch'] !== 'true');
    expect(lists[0]?.query['fieldSelector']).toBe('spec.nodeName=node1');
    const late = w.pod('vms', 'late');
    setTimeout(() => ctx.fake.apply(pod('late', 'node1')), 100);
    expect(await late).toMatchObject({ name: 'late' });
    // Another node's pod never shows up here (watch events are filtered too).
    ctx.fake.apply(pod('there2', 'node2'));
    expect(await w.pod('vms', 'there2')).toBeUndefined();
  });

  it('vouches for the VMs only after a complete list; never when KubeVirt is not installed', async () => {
    ctx.fake.serve(WORKLOAD_RESOURCES[0]!); // pods, but no VirtualMachine kind
    const w = await start(0);
    expect(w.vms()).toBeUndefined();
    ctx.fake.serve(WORKLOAD_RESOURCES[1]!);
    ctx.fake.apply(vm('vm1'));
    await waitUntil(() => w.vms() !== undefined, { what: 'VMs listed', timeoutMs: 10_000 });
    expect([...w.vms()!]).toEqual(['vms/vm1']);
    let changed = 0;
    w.onVmsChange(() => changed++);
    ctx.fake.delete('VirtualMachine', 'vm1', 'vms');
    await waitUntil(() => w.vms()?.size === 0 && changed > 0, { what: 'the VM delete seen' });
  });
});
