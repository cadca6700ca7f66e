/**
 * A real Prometheus server scrapes the agent's metrics endpoint (the full registry with the
 * datapath and interface collectors on a sandbox node's ovs-vswitchd) every second while two VM
 * namespaces ping each other: through Prometheus' HTTP API, the target is up, `rate()` of the
 * VM port's bytes and of datapath hits is positive, and every metric's type is what the agent
 * declares.
 */
import '../../harness/env.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDebugServer, type DebugServer } from '../../../agent/metrics/index.js';
import { waitUntil } from '../../../agent/sandbox/process.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';
import { startNodeMetrics, type NodeMetrics } from '../../harness/node-metrics.js';
import { startPrometheus, type PrometheusServer } from '../../harness/prometheus.js';

const VM1 = { name: 'pvm1', mac: '0a:00:00:00:03:0a', cidr: '10.252.0.10/24' };
const VM2 = { name: 'pvm2', mac: '0a:00:00:00:03:0b', cidr: '10.252.0.11/24' };
const ip = (cidr: string) => cidr.split('/')[0]!;

describe('a real Prometheus scraping the agent', () => {
  const ctx = useSandbox({ nodes: 1 });
  const tmp = useTmpDir('prom');
  let m: NodeMetrics;
  let http: DebugServer;
  let prom: PrometheusServer;
  let ping: ChildProcess | undefined;

  beforeAll(async () => {
    const sb = ctx.sandbox;
    await sb.addVm(VM1);
    await sb.addVm(VM2);
    const lsp = (vm: typeof VM1) => [
      '--',
      'lsp-add',
      'ls-p',
      vm.name,
      '--',
      'lsp-set-addresses',
      vm.name,
      `${vm.mac} ${ip(vm.cidr)}`,
    ];
    await sb.nbctl('--wait=hv', 'ls-add', 'ls-p', ...lsp(VM1), ...lsp(VM2));
    m = await startNodeMetrics(sb.node(), {
      minIntervalMs: 500,
      lookup: (id) => (id.startsWith('pvm') ? { subnet: 'sub-p', vpc: 'vpc-p' } : undefined),
    });
    http = await createDebugServer(
      {
        ready: () => ({ ready: true, reasons: [], databases: {}, writer: true }),
        debug: () => ({}),
        registry: m.registry,
      },
      '127.0.0.1:0',
    );
    // Steady traffic for the whole file: 10 pings a second from pvm1 to pvm2, stopped by PID after.
    const vm1 = sb.state.vms.find((v) => v.name === VM1.name)!;
    ping = spawn('ip', ['netns', 'exec', vm1.netns, 'ping', '-q', '-i', '0.1', '-c', '600', ip(VM2.cidr)], {
      stdio: 'ignore',
    });
    prom = await startPrometheus({ dir: tmp.dir, targets: [http.address] });
  });
  afterAll(async () => {
    if (ping?.pid !== undefined && ping.exitCode === null) ping.kill('SIGTERM');
    await prom?.stop();
    await http?.close();
    await m?.close();
  });

  /** The first sample of `expr` once it satisfies `ok`, polled (Prometheus scrapes every second). */
  const until = (expr: string, ok: (v: number) => boolean, timeoutMs = 30_000) =>
    waitUntil(
      async () => {
        const r = await prom.query(expr);
        return r.length > 0 && ok(r[0]!.value) ? r[0]! : undefined;
      },
      { what: `${expr} in Prometheus`, timeoutMs, intervalMs: 500 },
    );

  it('up == 1 for the agent target', async () => {
    const up = await until('up{job="vpc-agent"}', (v) => v === 1);
    expect(up.metric['instance']).toBe(http.address);
  });

  it('rate() of the VM port’s received bytes and of datapath hits is positive', async () => {
    // vswitchd writes Interface statistics every 5 s: a 15 s window holds at least two of them.
    const rx = await until(
      'rate(vpc_agent_interface_rx_bytes_total{interface="h-pvm1",port="pvm1",subnet="sub-p",vpc="vpc-p"}[15s])',
      (v) => v > 0,
      45_000,
    );
    expect(rx.value).toBeGreaterThan(0);
    const hits = await until(
      'rate(vpc_agent_datapath_lookups_total{datapath="netdev@ovs-netdev",result="hit"}[5s])',
      (v) => v > 0,
    );
    expect(hits.value).toBeGreaterThan(0);
    const flows = await until('vpc_agent_bridge_openflow_flows{bridge="br-int"}', (v) => v > 0);
    expect(flows.value).toBeGreaterThan(50);
  });

  it('the metadata API reports every metric with the type the agent declares', async () => {
    const text = await m.registry.metrics();
    const declared = new Map<string, string>();
    for (const line of text.split('\n')) {
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t) declared.set(t[1]!, t[2]!);
    }
    expect(declared.get('vpc_agent_datapath_lookups_total')).toBe('counter');
    expect(declared.get('vpc_agent_interface_rx_bytes_total')).toBe('counter');
    // Metadata comes from scrapes; wait for one that saw the whole registry.
    const meta = await waitUntil(
      async () => {
        const md = await prom.metadata();
        return [...declared.keys()].every((n) => md[n]) && md;
      },
      { what: 'metadata of every declared metric', timeoutMs: 20_000, intervalMs: 500 },
    );
    const wrong = [...declared].filter(([name, type]) => meta[name]!.some((e) => e.type !== type));
    expect(wrong).toEqual([]);
    for (const name of [
      'vpc_agent_datapath_lookups_total',
      'vpc_agent_interface_rx_bytes_total',
      'vpc_agent_interface_tx_packets_total',
      'vpc_agent_collector_errors_total',
    ]) {
      expect(meta[name]?.[0]?.type, name).toBe('counter');
    }
    for (const name of [
      'vpc_agent_datapath_flows',
      'vpc_agent_bridge_openflow_flows',
      'vpc_agent_interface_link_up',
    ]) {
      expect(meta[name]?.[0]?.type, name).toBe('gauge');
    }
  });
});
