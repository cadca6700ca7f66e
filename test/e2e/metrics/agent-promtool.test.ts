/**
 * The `/metrics` of a real `vpc-agent run` process on a sandbox node with clustered NB and SB
 * (the registry `createMetrics` builds, as served over HTTP), after a workload port was added so
 * the port and reconcile histograms have samples:
 * - `promtool check metrics` is clean;
 * - a real Prometheus scrapes it: the OVN health series (NB members by control socket, SB
 *   members by `_Server`, ovn-controller, ovn-northd, the Southbound counts) are there with the
 *   types the metadata API reports, and the inconsistent-binding gauge rises while a port of
 *   this node is released and then bound on another chassis, and falls back once repaired;
 * - every metric the Grafana dashboard (deploy/grafana/vpc-agent.json) queries exists in the
 *   scrape, and Prometheus accepts and evaluates every one of its queries.
 */
import '../../harness/env.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../agent/sandbox/process.js';
import { useAgentOnSandbox } from '../../harness/agent-on-sandbox.js';
import { useTmpDir } from '../../harness/index.js';
import { promtoolCheckMetrics } from '../../harness/node-metrics.js';
import { startPrometheus, type PrometheusServer } from '../../harness/prometheus.js';
import { dashboardExpressions, exposedTypes, metricFamily, promqlMetricNames } from '../../harness/promql.js';

const env = useAgentOnSandbox({
  prefix: 'mprom',
  sandbox: { clustered: true },
  args: (sb) => [
    ...['--nb-ctl', sb.state.nb!.members.map((m) => m.ctlPath).join(',')],
    ...['--northd-ctl', sb.state.northd!.ctlPath],
    ...['--ovn-rundir', sb.node().dir],
    ...['--ovn-metrics-interval', '500ms'],
  ],
});
const tmp = useTmpDir('mprom-prometheus');
let port = '';

describe('the running agent’s /metrics', () => {
  it('is clean for promtool check metrics, with the text exposition content type', async () => {
    const ns = await env.vm('pm1');
    port = (await env.agent.api.add({ network: 'default/vswitch1', netns: ns })).name;
    const res = await fetch(`http://${env.agent.listen}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/^vpc_agent_ports_add_duration_seconds_count\{result="ok"\} 1$/m);
    expect(text).toContain('# TYPE vpc_agent_reconcile_passes_total counter');
    expect(text).toContain('# TYPE vpc_agent_ovsdb_transaction_duration_seconds histogram');
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
    const check = await promtoolCheckMetrics(text);
    expect(check.problems).toBe('');
    expect(check.exitCode).toBe(0);
  });

  it('every metric the Grafana dashboard queries exists in the scrape', async () => {
    const dashboard = JSON.parse(
      await readFile(path.resolve('deploy/grafana/vpc-agent.json'), 'utf8'),
    ) as unknown;
    const exprs = dashboardExpressions(dashboard);
    expect(exprs.length).toBeGreaterThan(30);
    const types = exposedTypes(await (await fetch(`http://${env.agent.listen}/metrics`)).text());
    const used = new Set(exprs.flatMap(promqlMetricNames));
    expect(used.size).toBeGreaterThan(30);
    const missing = [...used].filter((n) => !types.has(metricFamily(n, types)));
    expect(missing).toEqual([]);
  });

  describe('scraped by a real Prometheus', () => {
    let prom: PrometheusServer;
    beforeAll(async () => {
      prom = await startPrometheus({ dir: tmp.dir, targets: [env.agent.listen] });
    });
    afterAll(() => prom?.stop());

    /** The sum of `expr`'s samples once it satisfies `ok`, polled (Prometheus scrapes every second). */
    const until = (expr: string, ok: (v: number) => boolean, timeoutMs = 30_000) =>
      waitUntil(
        async () => {
          const r = await prom.query(expr);
          const v = r.reduce((n, s) => n + s.value, 0);
          return r.length > 0 && ok(v) ? v : undefined;
        },
        { what: `${expr} in Prometheus`, timeoutMs, intervalMs: 250 },
      );

    it('reports NB/SB members, ovn-controller, northd and the Southbound counts', async () => {
      const NB = 'database="OVN_Northbound"';
      const SB = 'database="OVN_Southbound"';
      await until(`up{job="vpc-agent"}`, (v) => v === 1);
      // NB by control socket: term and backlog too; SB by _Server: role and leader.
      expect(await until(`count(vpc_agent_ovn_db_member_up{${NB}} == 1)`, (v) => v === 3)).toBe(3);
      expect(await until(`sum(vpc_agent_ovn_cluster_leader{${NB}})`, (v) => v === 1)).toBe(1);
      expect(await until(`min(vpc_agent_ovn_cluster_term{${NB}})`, (v) => v >= 1)).toBeGreaterThanOrEqual(1);
      expect(
        await until(`max(vpc_agent_ovn_cluster_uncommitted_entries{${NB}})`, (v) => v >= 0),
      ).toBeGreaterThanOrEqual(0);
      expect(await until(`count(vpc_agent_ovn_cluster_role{${SB},role="follower"})`, (v) => v === 2)).toBe(2);
      expect(await until(`sum(vpc_agent_ovn_cluster_leader{${SB}})`, (v) => v === 1)).toBe(1);
      expect(await prom.query(`vpc_agent_ovn_cluster_term{${SB}}`)).toEqual([]);
      expect(await until('vpc_agent_ovn_controller_up', (v) => v === 1)).toBe(1);
      expect(await until('vpc_agent_ovn_controller_sb_connected', (v) => v === 1)).toBe(1);
      expect(await until('vpc_agent_ovn_northd_active', (v) => v === 1)).toBe(1);
      expect(await until('sum(vpc_agent_ovn_northd_db_connected)', (v) => v === 2)).toBe(2);
      expect(await until('vpc_agent_ovn_chassis', (v) => v === 1)).toBe(1);
      expect(await until('vpc_agent_ovn_logical_flows', (v) => v > 50)).toBeGreaterThan(50);
      expect(await until('vpc_agent_ovn_port_bindings{state="up"}', (v) => v >= 1)).toBeGreaterThanOrEqual(1);
    });

    it('the metadata API reports each OVN health and OVSDB client metric with its type', async () => {
      const want: Record<string, string> = {
        vpc_agent_ovn_db_member_up: 'gauge',
        vpc_agent_ovn_cluster_role: 'gauge',
        vpc_agent_ovn_cluster_leader: 'gauge',
        vpc_agent_ovn_cluster_connected: 'gauge',
        vpc_agent_ovn_cluster_term: 'gauge',
        vpc_agent_ovn_cluster_uncommitted_entries: 'gauge',
        vpc_agent_ovn_cluster_unapplied_entries: 'gauge',
        vpc_agent_ovn_cluster_log_index: 'gauge',
        vpc_agent_ovn_controller_up: 'gauge',
        vpc_agent_ovn_controller_sb_connected: 'gauge',
        vpc_agent_ovn_northd_up: 'gauge',
        vpc_agent_ovn_northd_active: 'gauge',
        vpc_agent_ovn_northd_db_connected: 'gauge',
        vpc_agent_ovn_logical_flows: 'gauge',
        vpc_agent_ovn_chassis: 'gauge',
        vpc_agent_ovn_port_bindings: 'gauge',
        vpc_agent_ovn_inconsistent_port_bindings: 'gauge',
        vpc_agent_ovsdb_transaction_duration_seconds: 'histogram',
        vpc_agent_ovsdb_transaction_errors_total: 'counter',
        vpc_agent_ovsdb_resyncs_total: 'counter',
        vpc_agent_ovsdb_cache_rows: 'gauge',
        vpc_agent_collector_errors_total: 'counter',
      };
      const meta = await waitUntil(
        async () => {
          const md = await prom.metadata();
          return Object.keys(want).every((n) => md[n]) && md;
        },
        { what: 'metadata of the OVN health metrics', timeoutMs: 20_000, intervalMs: 500 },
      );
      const got = Object.fromEntries(Object.keys(want).map((n) => [n, meta[n]![0]!.type]));
      expect(got).toEqual(want);
    });

    it('Prometheus accepts and evaluates every query of the Grafana dashboard', async () => {
      const dashboard = JSON.parse(
        await readFile(path.resolve('deploy/grafana/vpc-agent.json'), 'utf8'),
      ) as unknown;
      const failed: string[] = [];
      let withData = 0;
      for (const expr of dashboardExpressions(dashboard)) {
        // Grafana's variables, as Grafana substitutes them.
        const q = expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '5s');
        try {
          if ((await prom.query(q)).length > 0) withData++;
        } catch (err) {
          failed.push(`${q}: ${(err as Error).message}`);
        }
      }
      expect(failed).toEqual([]);
      expect(withData).toBeGreaterThan(20);
    });

    it('the inconsistent-binding gauge rises while a port of this node is bound elsewhere, and falls back once repaired', async () => {
      const sb = env.sandbox;
      const gauge = (reason: string) => `vpc_agent_ovn_inconsistent_port_bindings{reason="${reason}"}`;
      await until(`sum(vpc_agent_ovn_inconsistent_port_bindings)`, (v) => v === 0);
      // Another chassis, without an ovn-controller: only what the test writes binds there.
      await sb.sbctl('chassis-add', 'elsewhere', 'geneve', '198.18.0.250');
      try {
        // Requested elsewhere: node1's ovn-controller releases the port...
        await sb.nbctl('set', 'Logical_Switch_Port', port, 'options:requested-chassis=elsewhere');
        expect(await until(gauge('unbound'), (v) => v === 1)).toBe(1);
        // ...and it is bound on the other chassis.
        await sb.sbctl('lsp-bind', port, 'elsewhere');
        expect(await until(gauge('other_chassis'), (v) => v === 1)).toBe(1);
        expect(await until(gauge('unbound'), (v) => v === 0)).toBe(0);
      } finally {
        // Repaired: unbound there, requested here again; node1's ovn-controller claims it back.
        await sb.sbctl('--if-exists', 'lsp-unbind', port);
        await sb.nbctl('set', 'Logical_Switch_Port', port, 'options:requested-chassis=node1');
        await sb.sbctl('chassis-del', 'elsewhere');
      }
      expect(await until(`sum(vpc_agent_ovn_inconsistent_port_bindings)`, (v) => v === 0)).toBe(0);
      expect(await until('vpc_agent_ovn_port_bindings{state="up"}', (v) => v >= 1)).toBeGreaterThanOrEqual(1);
    });
  });
});
