/** The metrics registry: names, labels and collect() values read from fake subsystem stats. */
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricSources } from '../../../../agent/metrics/index.js';
import type { ReconcileStats } from '../../../../agent/nb/reconcile/index.js';

function reconcileStats(): ReconcileStats {
  return {
    passes: 0,
    transactions: 0,
    failures: 0,
    ops: { insert: 0, update: 0, delete: 0, mutate: 0, wait: 0 },
    last: undefined,
    recent: [],
    lastErrors: [],
  };
}

function pass(seq: number, durationMs: number, at = '2024-05-01T10:00:00.000Z') {
  return {
    seq,
    at,
    durationMs,
    planMs: 1,
    attempts: 1,
    sent: true,
    counts: { insert: 1, update: 0, delete: 0, mutate: 0, wait: 0 },
    desiredRows: 3,
    problems: 0,
  };
}

/** `name{labels} value` lines of the exposition, without comments. */
async function samples(m: ReturnType<typeof createMetrics>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await m.registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const noProcess = { processMetrics: false };

describe('createMetrics', () => {
  it('uses its own registry, not the global one, and documents every metric', async () => {
    const a = createMetrics({}, noProcess);
    const b = createMetrics({}, noProcess);
    expect(a.registry).not.toBe(b.registry);
    const names = (await a.registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      'vpc_agent_ipam_addresses',
      'vpc_agent_nb_desired_rows',
      'vpc_agent_nb_owned_rows',
      'vpc_agent_nb_reconcile_failures_total',
      'vpc_agent_nb_reconcile_last_pass_timestamp_seconds',
      'vpc_agent_nb_reconcile_ops_total',
      'vpc_agent_nb_reconcile_pass_duration_seconds',
      'vpc_agent_nb_reconcile_passes_total',
      'vpc_agent_nb_reconcile_transactions_total',
      'vpc_agent_nb_writer',
      'vpc_agent_ovsdb_cache_rows',
      'vpc_agent_ovsdb_connected',
      'vpc_agent_ovsdb_echoes_answered_total',
      'vpc_agent_ovsdb_leader_changes_total',
      'vpc_agent_ovsdb_messages_received_total',
      'vpc_agent_ovsdb_probes_sent_total',
      'vpc_agent_ovsdb_received_bytes_total',
      'vpc_agent_ovsdb_reconnects_total',
      'vpc_agent_ovsdb_resyncs_total',
      'vpc_agent_ovsdb_sent_bytes_total',
      'vpc_agent_ovsdb_transaction_duration_seconds',
      'vpc_agent_ovsdb_transaction_errors_total',
      'vpc_agent_ports_add_duration_seconds',
      'vpc_agent_ports_add_failures_total',
      'vpc_agent_ports_allocated',
      'vpc_agent_reconcile_healthy',
      'vpc_agent_reconcile_pass_seconds',
      'vpc_agent_reconcile_passes_total',
      'vpc_agent_resources_blocked_deletes',
      'vpc_agent_resources_errors_total',
      'vpc_agent_resources_valid',
      'vpc_agent_resources_validation_errors',
    ]);
    for (const n of names) {
      expect(n).toMatch(/^vpc_agent_[a-z]+_[a-z_]+$/);
    }
  });

  it('registers the process metrics unless asked not to', async () => {
    const m = createMetrics();
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names).toContain('process_resident_memory_bytes');
  });

  it('fills point-in-time gauges from the sources at each scrape', async () => {
    let writer = true;
    let used = 3;
    const sources: MetricSources = {
      resources: () => ({ valid: { Vpc: 1, Subnet: 2 }, errors: { Subnet: 1 } }),
      blockedDeletes: () => [
        { kind: 'Vpc', name: 'vpc-1', dependents: [], message: 'm' },
        { kind: 'Vpc', name: 'vpc-2', dependents: [], message: 'm' },
      ],
      ipam: () => [
        {
          subnet: 's1',
          cidr: '10.0.0.0/24',
          size: 256n,
          allocatable: 250n,
          used,
          available: 250n - BigInt(used),
        },
      ],
      isWriter: () => writer,
      rows: () => ({ desired: { Logical_Router: 1 }, owned: { Logical_Router: 1, Logical_Switch: 2 } }),
      ovsdb: () => [
        {
          database: 'OVN_Northbound',
          online: true,
          traffic: { bytesIn: 5000 + used, bytesOut: 700, messagesIn: 12, echoesAnswered: 2, probesSent: 1 },
        },
        { database: 'Open_vSwitch', online: false },
      ],
      ports: () => 7,
    };
    const m = createMetrics(sources, noProcess);
    let s = await samples(m);
    expect(s.get('vpc_agent_resources_valid{kind="Subnet"}')).toBe(2);
    expect(s.get('vpc_agent_resources_valid{kind="Vpc"}')).toBe(1);
    expect(s.get('vpc_agent_resources_validation_errors{kind="Subnet"}')).toBe(1);
    expect(s.get('vpc_agent_resources_blocked_deletes{kind="Vpc"}')).toBe(2);
    expect(s.get('vpc_agent_ipam_addresses{subnet="s1",state="used"}')).toBe(3);
    expect(s.get('vpc_agent_ipam_addresses{subnet="s1",state="available"}')).toBe(247);
    expect(s.get('vpc_agent_nb_writer')).toBe(1);
    expect(s.get('vpc_agent_nb_owned_rows{table="Logical_Switch"}')).toBe(2);
    expect(s.get('vpc_agent_nb_desired_rows{table="Logical_Router"}')).toBe(1);
    expect(s.get('vpc_agent_ovsdb_connected{database="OVN_Northbound"}')).toBe(1);
    expect(s.get('vpc_agent_ovsdb_connected{database="Open_vSwitch"}')).toBe(0);
    expect(s.get('vpc_agent_ovsdb_received_bytes_total{database="OVN_Northbound"}')).toBe(5003);
    expect(s.get('vpc_agent_ovsdb_sent_bytes_total{database="OVN_Northbound"}')).toBe(700);
    expect(s.get('vpc_agent_ovsdb_messages_received_total{database="OVN_Northbound"}')).toBe(12);
    expect(s.get('vpc_agent_ovsdb_echoes_answered_total{database="OVN_Northbound"}')).toBe(2);
    expect(s.get('vpc_agent_ovsdb_probes_sent_total{database="OVN_Northbound"}')).toBe(1);
    expect(s.has('vpc_agent_ovsdb_received_bytes_total{database="Open_vSwitch"}')).toBe(false);
    expect(s.get('vpc_agent_ports_allocated')).toBe(7);

    writer = false;
    used = 10;
    s = await samples(m);
    expect(s.get('vpc_agent_nb_writer')).toBe(0);
    expect(s.get('vpc_agent_ipam_addresses{subnet="s1",state="available"}')).toBe(240);
  });

  it('reads reconcile totals and observes each finished pass once', async () => {
    const stats = reconcileStats();
    const m = createMetrics({ reconcile: () => stats }, noProcess);
    let s = await samples(m);
    expect(s.get('vpc_agent_nb_reconcile_passes_total')).toBe(0);
    expect(s.get('vpc_agent_nb_reconcile_pass_duration_seconds_count')).toBe(0);
    expect(s.get('vpc_agent_nb_reconcile_last_pass_timestamp_seconds')).toBe(0);

    stats.passes = 2;
    stats.transactions = 1;
    stats.failures = 1;
    stats.ops.insert = 5;
    stats.ops.delete = 2;
    stats.recent.push(pass(1, 20), pass(2, 3000));
    stats.last = stats.recent[1];
    s = await samples(m);
    expect(s.get('vpc_agent_nb_reconcile_passes_total')).toBe(2);
    expect(s.get('vpc_agent_nb_reconcile_transactions_total')).toBe(1);
    expect(s.get('vpc_agent_nb_reconcile_failures_total')).toBe(1);
    expect(s.get('vpc_agent_nb_reconcile_ops_total{kind="insert"}')).toBe(5);
    expect(s.get('vpc_agent_nb_reconcile_ops_total{kind="delete"}')).toBe(2);
    expect(s.get('vpc_agent_nb_reconcile_ops_total{kind="wait"}')).toBe(0);
    expect(s.get('vpc_agent_nb_reconcile_pass_duration_seconds_count')).toBe(2);
    expect(s.get('vpc_agent_nb_reconcile_pass_duration_seconds_sum')).toBeCloseTo(3.02);
    expect(s.get('vpc_agent_nb_reconcile_pass_duration_seconds_bucket{le="0.025"}')).toBe(1);
    expect(s.get('vpc_agent_nb_reconcile_last_pass_timestamp_seconds')).toBe(
      Date.parse('2024-05-01T10:00:00.000Z') / 1000,
    );

    // A second scrape with no new pass observes nothing more.
    s = await samples(m);
    expect(s.get('vpc_agent_nb_reconcile_pass_duration_seconds_count')).toBe(2);
  });

  it('counts each validation error once, when a load first shows it', async () => {
    const m = createMetrics({}, noProcess);
    const e1 = { kind: 'Subnet', message: 'Subnet a: spec.cidrBlock: bad' };
    const e2 = { kind: 'Vpc', message: 'Vpc b: spec.x: unknown field' };
    m.recordLoadErrors([e1]);
    m.recordLoadErrors([e1]);
    m.recordLoadErrors([e1, e2]);
    m.recordLoadErrors([]);
    m.recordLoadErrors([e1]);
    const s = await samples(m);
    expect(s.get('vpc_agent_resources_errors_total{kind="Subnet"}')).toBe(2);
    expect(s.get('vpc_agent_resources_errors_total{kind="Vpc"}')).toBe(1);
  });

  it('renders the text exposition format with HELP and TYPE lines', async () => {
    const m = createMetrics({ isWriter: () => true }, noProcess);
    const text = await m.registry.metrics();
    expect(m.registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE vpc_agent_nb_writer gauge\n');
    expect(text).toContain('# TYPE vpc_agent_resources_errors_total counter\n');
    expect(text).toContain('# TYPE vpc_agent_nb_reconcile_pass_duration_seconds histogram\n');
    expect(text).toMatch(/# HELP vpc_agent_ipam_addresses .+\n/);
  });
});
