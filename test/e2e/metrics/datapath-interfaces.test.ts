/**
 * The datapath and interface collectors against a real ovs-vswitchd (userspace datapath) of a
 * one-node sandbox: two VM namespaces ping each other through br-int, and the scraped counters
 * are present and grow; `promtool check metrics` is clean on the full registry's scrape.
 */
import '../../harness/env.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialHealth, type RunnerHealth } from '../../../agent/reconcile/runner.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import { useSandbox } from '../../harness/index.js';
import {
  promtoolCheckMetrics,
  sampleValue,
  startNodeMetrics,
  type NodeMetrics,
} from '../../harness/node-metrics.js';

const VM1 = { name: 'vm1', mac: '0a:00:00:00:02:0a', cidr: '10.251.0.10/24' };
const VM2 = { name: 'vm2', mac: '0a:00:00:00:02:0b', cidr: '10.251.0.11/24' };
const HEALTHY: RunnerHealth = { ...initialHealth(), passes: 1 };
const ip = (cidr: string) => cidr.split('/')[0]!;
const PLACEMENT: Record<string, { subnet: string; vpc: string }> = {
  vm1: { subnet: 'sub-a', vpc: 'vpc-m' },
  vm2: { subnet: 'sub-a', vpc: 'vpc-m' },
};

describe('datapath and interface metrics on a sandbox node', () => {
  const ctx = useSandbox({ nodes: 1 });
  let m: NodeMetrics;

  beforeAll(async () => {
    const sb = ctx.sandbox;
    await sb.addVm(VM1);
    await sb.addVm(VM2);
    await sb.nbctl(
      '--wait=hv',
      'ls-add',
      'ls-m',
      '--',
      'lsp-add',
      'ls-m',
      'vm1',
      '--',
      'lsp-set-addresses',
      'vm1',
      `${VM1.mac} ${ip(VM1.cidr)}`,
      '--',
      'lsp-add',
      'ls-m',
      'vm2',
      '--',
      'lsp-set-addresses',
      'vm2',
      `${VM2.mac} ${ip(VM2.cidr)}`,
    );
    m = await startNodeMetrics(sb.node(), { lookup: (id) => PLACEMENT[id] });
  });
  afterAll(async () => {
    await m?.close();
  });

  const scrape = () => m.registry.metrics();
  const ping = (count: number) =>
    ctx.sandbox.exec('vm1', 'ping', ['-c', String(count), '-i', '0.05', '-W', '2', '-q', ip(VM2.cidr)], {
      reject: false,
    });
  const hits = (text: string) =>
    sampleValue(text, 'vpc_agent_datapath_lookups_total', { datapath: 'netdev@ovs-netdev', result: 'hit' });
  const vm1Rx = (text: string) =>
    sampleValue(text, 'vpc_agent_interface_rx_bytes_total', { interface: 'h-vm1', port: 'vm1' });

  it('shows the datapath, br-int and both VM ports, labelled with their subnet and VPC', async () => {
    const text = await scrape();
    expect(hits(text)).toBeGreaterThanOrEqual(0);
    expect(
      sampleValue(text, 'vpc_agent_datapath_upcall_flow_limit', { datapath: 'netdev@ovs-netdev' }),
    ).toBeGreaterThan(0);
    expect(sampleValue(text, 'vpc_agent_bridge_ports', { bridge: 'br-int' })).toBe(3);
    // ovn-controller programs br-int: its logical flows become OpenFlow flows.
    expect(sampleValue(text, 'vpc_agent_bridge_openflow_flows', { bridge: 'br-int' })).toBeGreaterThan(50);
    for (const vm of ['vm1', 'vm2']) {
      expect(
        sampleValue(text, 'vpc_agent_interface_link_up', {
          interface: `h-${vm}`,
          port: vm,
          subnet: 'sub-a',
          vpc: 'vpc-m',
        }),
      ).toBe(1);
    }
    expect(sampleValue(text, 'vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(0);
    expect(sampleValue(text, 'vpc_agent_collector_errors_total', { collector: 'interfaces' })).toBe(0);
  });

  it('counts the flows of a bridge limited to OpenFlow 1.0 as ovs-ofctl does', async () => {
    const sb = ctx.sandbox;
    await sb.vsctl(
      'node1',
      'add-br',
      'br-of10',
      '--',
      'set',
      'bridge',
      'br-of10',
      'datapath_type=netdev',
      'protocols=OpenFlow10',
    );
    try {
      const mgmt = `unix:${path.join(sb.node().dir, 'br-of10.mgmt')}`;
      await run('ovs-ofctl', ['add-flow', mgmt, 'priority=10,ip,actions=drop']);
      const agg = (await run('ovs-ofctl', ['dump-aggregate', mgmt])).stdout;
      const expected = Number(/flow_count=(\d+)/.exec(agg)?.[1]);
      expect(expected).toBe(2); // the standalone bridge's NORMAL flow and ours
      const text = await scrape();
      expect(sampleValue(text, 'vpc_agent_bridge_openflow_flows', { bridge: 'br-of10' })).toBe(expected);
      expect(sampleValue(text, 'vpc_agent_bridge_ports', { bridge: 'br-of10' })).toBe(1);
      expect(sampleValue(text, 'vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(0);
    } finally {
      await sb.vsctl('node1', '--if-exists', 'del-br', 'br-of10');
    }
  });

  it('lookups hit and the VM port byte counters grow with traffic between the VMs', async () => {
    const before = await scrape();
    const r = await ping(20);
    expect(r.stdout).toContain('20 received');
    // Datapath counters are read live; Interface statistics are written by vswitchd every 5 s.
    const after = await waitUntil(
      async () => {
        const t = await scrape();
        return (hits(t) ?? 0) > (hits(before) ?? 0) && (vm1Rx(t) ?? 0) > (vm1Rx(before) ?? 0) && t;
      },
      { what: 'datapath hits and h-vm1 rx_bytes to grow', timeoutMs: 20_000, intervalMs: 250 },
    );
    // 20 echo requests of 84 bytes on the wire each at least, sent by vm1 = received by h-vm1.
    expect((vm1Rx(after) ?? 0) - (vm1Rx(before) ?? 0)).toBeGreaterThanOrEqual(20 * 84);
    expect(
      sampleValue(after, 'vpc_agent_interface_tx_packets_total', { interface: 'h-vm1' }),
    ).toBeGreaterThanOrEqual(20);
  });

  it('promtool check metrics is clean on a scrape of the whole registry', async () => {
    // Events the running agent records, so every labelled series and histogram has samples.
    m.metrics.reconcilers.register?.('node-ovs', () => ({ ...HEALTHY }));
    m.metrics.reconcilers.pass('node-ovs', 0.012, true);
    m.metrics.portAddDuration.observe({ result: 'ok' }, 0.4);
    m.metrics.portAddFailures.inc({ code: 'ERR_PORT_TIMEOUT' });
    m.metrics.ovsdbReconnects.inc({ database: 'Open_vSwitch' });
    m.metrics.recordLoadErrors([{ kind: 'Subnet', message: 'bad cidr' }]);
    const text = await scrape();
    expect(text).toContain('vpc_agent_reconcile_pass_seconds_bucket{le="0.025",reconciler="node-ovs"} 1');
    expect(text).toContain('# TYPE vpc_agent_datapath_lookups_total counter');
    expect(text).toContain('# TYPE vpc_agent_interface_rx_bytes_total counter');
    expect(text).toContain('# TYPE vpc_agent_nb_reconcile_passes_total counter');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    const check = await promtoolCheckMetrics(text);
    expect(check.problems).toBe('');
    expect(check.exitCode).toBe(0);
  });
});
