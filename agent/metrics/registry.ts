/**
 * The agent's Prometheus metrics (docs/metrics.md): one non-global prom-client `Registry` per
 * agent, so two agents in one process (tests, the sandbox) never share series.
 *
 * Point-in-time values (resources, IPAM, reconcile totals, connection state, blocked deletes)
 * are read from the subsystems' own `stats()` in each metric's `collect()` at scrape time —
 * no timers, and nothing to keep in sync. Only what has no running total elsewhere is
 * recorded as it happens: validation errors seen, reconnects, port adds
 * ({@link AgentMetrics.recordLoad}, ./ovsdb.ts, ./ports.ts).
 *
 * Names follow the Prometheus conventions (https://prometheus.io/docs/practices/naming/):
 * `vpc_agent_<subsystem>_<name>_<unit>`, `_total` for counters, `_seconds` for durations, and
 * the text exposition format 0.0.4 is what `registry.metrics()` renders.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SubnetStats } from '../ipam/index.js';
import type { ReconcileStats } from '../nb/reconcile/index.js';
import type { RunnerHealth, RunnerObserver } from '../reconcile/runner.js';
import type { BlockedDelete } from '../resources/deletes.js';
import { setCounter } from './sampler.js';
import { AgentRegistry } from './series.js';

/** Counts of the last manifest load, by resource kind. */
export interface LoadSummary {
  /** Valid resources by kind (implicit default VPC included). */
  valid: Record<string, number>;
  /** Validation and manifest errors by kind (`manifest` for unreadable files/documents). */
  errors: Record<string, number>;
}

/** An OVSDB client's cumulative traffic (`OvsdbClient.stats()`). */
export interface OvsdbTraffic {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  echoesAnswered: number;
  probesSent: number;
}

/** Where collect() reads from; every source is optional (no source → no samples). */
export interface MetricSources {
  resources?(): LoadSummary | undefined;
  blockedDeletes?(): readonly BlockedDelete[];
  ipam?(): readonly SubnetStats[];
  reconcile?(): ReconcileStats;
  isWriter?(): boolean;
  /** Rows per NB table: owned now (the monitor cache) and desired. */
  rows?(): { desired: Record<string, number>; owned: Record<string, number> };
  /** OVSDB clients by database name: the `connected` gauge and, when given, traffic counters. */
  ovsdb?(): readonly { database: string; online: boolean; traffic?: OvsdbTraffic }[];
  /** Workload ports in the desired NB state. */
  ports?(): number;
}

export interface MetricsOptions {
  /** Also register Node's process metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
}

export interface AgentMetrics {
  readonly registry: Registry;
  /** Replaces the sources collect() reads (set once the subsystems exist). */
  setSources(sources: MetricSources): void;
  /** Counts the errors of a load that the previous load did not have. */
  recordLoadErrors(errors: readonly { kind: string; message: string }[]): void;
  readonly ovsdbReconnects: Counter<'database'>;
  readonly ovsdbLeaderChanges: Counter<'database'>;
  /** Transactions by database: duration (request to reply) and failures by error code. */
  readonly ovsdbTransactionSeconds: Histogram<'database'>;
  readonly ovsdbTransactionErrors: Counter<'database' | 'code'>;
  /** Monitor resyncs after a reconnect: `fast` (monitor_cond_since resumed) or `full`. */
  readonly ovsdbResyncs: Counter<'database' | 'result'>;
  /** The monitor caches whose rows per table `vpc_agent_ovsdb_cache_rows` reports, by database. */
  readonly ovsdbCaches: Map<string, () => { tableNames(): string[]; table(name: string): { size: number } }>;
  readonly portAddDuration: Histogram<'result'>;
  readonly portAddFailures: Counter<'code'>;
  /** Given to every reconcile runner (NB, node OVS, ports, …): passes, durations and health per reconciler. */
  readonly reconcilers: RunnerObserver;
}

/** Buckets of a reconcile pass: a no-op pass takes ms, 10k ports on a busy NB take seconds. */
const PASS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Buckets of an OVSDB transaction: sub-ms on a local server, seconds on a loaded RAFT leader. */
const TXN_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets of a port add: NB round trip + veth + OVS + binding, 50 ms to the 30 s timeout. */
const PORT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/**
 * prom-client's default metrics include gauges named `…_total` (`nodejs_active_handles_total`,
 * `…_requests_total`, `…_resources_total`): a `_total` suffix promises a counter, `promtool
 * check metrics` flags it, and `rate()` on a gauge is wrong. Each is the sum of a per-type gauge
 * registered beside it (`nodejs_active_handles{type}`), so it is dropped: `sum()` gives it.
 */
function dropTotalGauges(registry: Registry): void {
  for (const metric of registry.getMetricsAsArray()) {
    const { name } = metric as unknown as { name: string };
    if (metric instanceof Gauge && name.endsWith('_total')) registry.removeSingleMetric(name);
  }
}

/** Creates the registry and every metric of docs/metrics.md. */
export function createMetrics(sources: MetricSources = {}, options: MetricsOptions = {}): AgentMetrics {
  const registry: Registry = new AgentRegistry();
  let src = sources;
  const registers = [registry];

  // ---- resources -------------------------------------------------------------------------
  new Gauge({
    name: 'vpc_agent_resources_valid',
    help: 'Valid declared resources of the last manifest load (kept blocked deletes included), by kind',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(src.resources?.()?.valid ?? {})) this.set({ kind }, n);
    },
  });
  new Gauge({
    name: 'vpc_agent_resources_validation_errors',
    help: 'Errors of the last manifest load (each skips its resource whole), by kind',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(src.resources?.()?.errors ?? {})) this.set({ kind }, n);
    },
  });
  const errorsTotal = new Counter({
    name: 'vpc_agent_resources_errors_total',
    help: 'Validation errors reported, each counted when a load first shows it, by kind',
    labelNames: ['kind'],
    registers,
  });
  new Gauge({
    name: 'vpc_agent_resources_blocked_deletes',
    help: 'Resources removed from the manifests but kept because others still refer to them, by kind',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      const by: Record<string, number> = {};
      for (const b of src.blockedDeletes?.() ?? []) by[b.kind] = (by[b.kind] ?? 0) + 1;
      for (const [kind, n] of Object.entries(by)) this.set({ kind }, n);
    },
  });

  // ---- IPAM ------------------------------------------------------------------------------
  new Gauge({
    name: 'vpc_agent_ipam_addresses',
    help: 'Allocatable addresses per subnet: used, or available (excludes and gateway left out)',
    labelNames: ['subnet', 'state'],
    registers,
    collect() {
      this.reset();
      for (const s of src.ipam?.() ?? []) {
        this.set({ subnet: s.subnet, state: 'used' }, s.used);
        // A /64 has 2^64 addresses: a float64 sample is as exact as Prometheus can store anyway.
        this.set({ subnet: s.subnet, state: 'available' }, Number(s.available));
      }
    },
  });

  // ---- NB reconcile ----------------------------------------------------------------------
  let lastSeq = 0;
  new Histogram({
    name: 'vpc_agent_nb_reconcile_pass_duration_seconds',
    help: 'Duration of NB reconcile passes (plan + transaction), from the engine’s recent passes',
    buckets: PASS_BUCKETS,
    registers,
    // Observes the passes finished since the previous scrape. The engine keeps only its last
    // few passes (`stats.recent`), so under heavy churn between scrapes some are not observed:
    // `_count` may then lag `vpc_agent_nb_reconcile_passes_total` (docs/metrics.md).
    collect() {
      for (const p of src.reconcile?.().recent ?? []) {
        if (p.seq <= lastSeq) continue;
        this.observe(p.durationMs / 1000);
        lastSeq = p.seq;
      }
    },
  });
  const totals: [string, string, (s: ReconcileStats) => number][] = [
    ['passes', 'NB reconcile passes run', (s) => s.passes],
    ['transactions', 'NB transactions committed by the reconciler', (s) => s.transactions],
    ['failures', 'NB reconcile passes that failed', (s) => s.failures],
  ];
  for (const [name, help, pick] of totals) {
    new Counter({
      name: `vpc_agent_nb_reconcile_${name}_total`,
      help,
      registers,
      collect() {
        const s = src.reconcile?.();
        if (!s) return;
        this.reset();
        setCounter(this, pick(s));
      },
    });
  }
  new Counter({
    name: 'vpc_agent_nb_reconcile_ops_total',
    help: 'Operations sent in committed NB transactions, by kind (insert, update, delete, mutate, wait)',
    labelNames: ['kind'],
    registers,
    collect() {
      const s = src.reconcile?.();
      if (!s) return;
      this.reset();
      for (const [kind, n] of Object.entries(s.ops)) setCounter(this, n, { kind });
    },
  });
  new Gauge({
    name: 'vpc_agent_nb_reconcile_last_pass_timestamp_seconds',
    help: 'Unix time the last NB reconcile pass started (0 before the first)',
    registers,
    collect() {
      this.reset();
      const at = src.reconcile?.().last?.at;
      if (at) this.set(Date.parse(at) / 1000);
    },
  });
  new Gauge({
    name: 'vpc_agent_nb_writer',
    help: '1 while this agent holds the NB writer lock, else 0',
    registers,
    collect() {
      this.reset();
      if (src.isWriter) this.set(src.isWriter() ? 1 : 0);
    },
  });
  for (const which of ['owned', 'desired'] as const) {
    new Gauge({
      name: `vpc_agent_nb_${which}_rows`,
      help: `NB rows ${which === 'owned' ? 'owned by this agent (monitor cache)' : 'in the desired state'}, by table`,
      labelNames: ['table'],
      registers,
      collect() {
        this.reset();
        for (const [table, n] of Object.entries(src.rows?.()[which] ?? {})) this.set({ table }, n);
      },
    });
  }

  // ---- OVSDB connections -----------------------------------------------------------------
  new Gauge({
    name: 'vpc_agent_ovsdb_connected',
    help: '1 while the client of a database has a synced connection, else 0',
    labelNames: ['database'],
    registers,
    collect() {
      this.reset();
      for (const c of src.ovsdb?.() ?? []) this.set({ database: c.database }, c.online ? 1 : 0);
    },
  });
  const traffic: [string, string, keyof OvsdbTraffic][] = [
    ['received_bytes', 'Bytes received from the OVSDB server, over every connection, by database', 'bytesIn'],
    ['sent_bytes', 'Bytes sent to the OVSDB server, over every connection, by database', 'bytesOut'],
    [
      'messages_received',
      'JSON-RPC messages received (replies, updates, requests), by database',
      'messagesIn',
    ],
    ['echoes_answered', 'The server’s inactivity probes (echo) answered, by database', 'echoesAnswered'],
    ['probes_sent', 'Our inactivity probes sent after receive silence, by database', 'probesSent'],
  ];
  for (const [name, help, key] of traffic) {
    new Counter({
      name: `vpc_agent_ovsdb_${name}_total`,
      help,
      labelNames: ['database'],
      registers,
      collect() {
        this.reset();
        for (const c of src.ovsdb?.() ?? []) {
          if (c.traffic) setCounter(this, c.traffic[key], { database: c.database });
        }
      },
    });
  }
  const ovsdbReconnects = new Counter({
    name: 'vpc_agent_ovsdb_reconnects_total',
    help: 'Connections accepted after the first one (failover, server restart), by database',
    labelNames: ['database'],
    registers,
  });
  const ovsdbLeaderChanges = new Counter({
    name: 'vpc_agent_ovsdb_leader_changes_total',
    help: 'Cluster leader changes seen, by database',
    labelNames: ['database'],
    registers,
  });

  const ovsdbTransactionSeconds = new Histogram({
    name: 'vpc_agent_ovsdb_transaction_duration_seconds',
    help: 'Duration of OVSDB transactions, request to reply (failed ones included), by database',
    labelNames: ['database'],
    buckets: TXN_BUCKETS,
    registers,
  });
  const ovsdbTransactionErrors = new Counter({
    name: 'vpc_agent_ovsdb_transaction_errors_total',
    help: 'Failed OVSDB transactions by database and error code (OVSDB_TRY_AGAIN: outcome unknown; OVSDB_TXN_*: refused by the server)',
    labelNames: ['database', 'code'],
    registers,
  });
  const ovsdbResyncs = new Counter({
    name: 'vpc_agent_ovsdb_resyncs_total',
    help: 'Monitor resyncs after a reconnect by database and result: fast (monitor_cond_since resumed from the last transaction id) or full (a complete dump)',
    labelNames: ['database', 'result'],
    registers,
  });
  const ovsdbCaches: AgentMetrics['ovsdbCaches'] = new Map();
  new Gauge({
    name: 'vpc_agent_ovsdb_cache_rows',
    help: 'Rows in the agent’s monitor cache, by database and table',
    labelNames: ['database', 'table'],
    registers,
    collect() {
      this.reset();
      for (const [database, cache] of ovsdbCaches) {
        let c: ReturnType<typeof cache>;
        try {
          c = cache();
        } catch {
          continue; // schema not known yet: no cache
        }
        for (const table of c.tableNames()) this.set({ database, table }, c.table(table).size);
      }
    },
  });

  // ---- ports -----------------------------------------------------------------------------
  new Gauge({
    name: 'vpc_agent_ports_allocated',
    help: 'Workload ports in the desired NB state',
    registers,
    collect() {
      this.reset();
      if (src.ports) this.set(src.ports());
    },
  });
  const portAddDuration = new Histogram({
    name: 'vpc_agent_ports_add_duration_seconds',
    help: 'Duration of port adds (request to ready, or to the error), by result (ok, error)',
    labelNames: ['result'],
    buckets: PORT_BUCKETS,
    registers,
  });
  const portAddFailures = new Counter({
    name: 'vpc_agent_ports_add_failures_total',
    help: 'Port adds that failed, by error code (ERR_PORT_*)',
    labelNames: ['code'],
    registers,
  });

  const runnerPasses = new Counter({
    name: 'vpc_agent_reconcile_passes_total',
    help: 'Reconcile passes by reconciler (nb, node-ovs, ports, …) and result (ok, error)',
    labelNames: ['reconciler', 'result'],
    registers,
  });
  const runnerDuration = new Histogram({
    name: 'vpc_agent_reconcile_pass_seconds',
    help: 'Duration of a reconcile pass, by reconciler',
    labelNames: ['reconciler'],
    buckets: PASS_BUCKETS,
    registers,
  });
  const runnerHealth = new Map<string, () => RunnerHealth>();
  new Gauge({
    name: 'vpc_agent_reconcile_healthy',
    help: 'Whether a reconciler is healthy (1) or has failed its last passes (0)',
    labelNames: ['reconciler'],
    registers,
    collect() {
      this.reset();
      for (const [name, h] of runnerHealth) this.set({ reconciler: name }, h().healthy ? 1 : 0);
    },
  });
  const reconcilers: RunnerObserver = {
    pass(runner, seconds, ok) {
      runnerPasses.inc({ reconciler: runner, result: ok ? 'ok' : 'error' });
      runnerDuration.observe({ reconciler: runner }, seconds);
    },
    register(runner, health) {
      runnerHealth.set(runner, health);
    },
  };

  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    dropTotalGauges(registry);
  }

  let previousErrors = new Set<string>();
  return {
    registry,
    setSources(s) {
      src = s;
    },
    recordLoadErrors(errors) {
      const now = new Set<string>();
      for (const e of errors) {
        const sig = `${e.kind}\0${e.message}`;
        now.add(sig);
        if (!previousErrors.has(sig)) errorsTotal.inc({ kind: e.kind });
      }
      previousErrors = now;
    },
    ovsdbReconnects,
    ovsdbLeaderChanges,
    ovsdbTransactionSeconds,
    ovsdbTransactionErrors,
    ovsdbResyncs,
    ovsdbCaches,
    portAddDuration,
    portAddFailures,
    reconcilers,
  };
}
