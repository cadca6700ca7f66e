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

  it("follows this node's labels (its Node object only), not its status", async () => {
    for (const r of WORKLOAD_RESOURCES) ctx.fake.serve(r);
    const node = (name: string, labels: Record<string, string>, ready = 'True') => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels },
      status: { conditions: [{ type: 'Ready', status: ready }] },
    });
    ctx.fake.apply(node('node1', { 'topology.kubernetes.io/zone': 'a' }));
    ctx.fake.apply(node('node2', { 'topology.kubernetes.io/zone': 'b' }));
    const w = await start(0);
    await waitUntil(() => w.nodeLabels() !== undefined, { what: 'the Node listed', timeoutMs: 10_000 });
    expect(w.nodeLabels()).toEqual({ 'topology.kubernetes.io/zone': 'a' });
    const seen: Record<string, string>[] = [];
    w.onNodeLabels((l) => seen.push({ ...l }));
    ctx.fake.apply(node('node1', { 'topology.kubernetes.io/zone': 'a' }, 'False'));
    ctx.fake.apply(node('node2', { 'topology.kubernetes.io/zone': 'c' }));
    ctx.fake.apply(node('node1', { 'topology.kubernetes.io/zone': 'a', gw: 'yes' }));
    await waitUntil(() => seen.length > 0, { what: 'the label change seen', timeoutMs: 10_000 });
    // The status change and the other node made no call; the label change one.
    expect(seen).toEqual([{ 'topology.kubernetes.io/zone': 'a', gw: 'yes' }]);
  });
});
