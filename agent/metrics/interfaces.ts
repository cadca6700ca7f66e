/**
 * Interface metrics from the node's Open_vSwitch database: rx/tx packets, bytes, drops and
 * errors per interface (counters), link state, MTU and OpenFlow port (gauges), labelled with
 * the interface and, where known, the VM port (`external_ids:iface-id`), its subnet and VPC.
 *
 * The values come from an OVSDB monitor of `Interface` ({@link INTERFACE_METRICS_MONITOR}) on a
 * client of its own: ovs-vswitchd rewrites `statistics` of every interface every
 * `other_config:stats-update-interval` (5 s by default), and a client of its own keeps those
 * updates away from the node reconciler's cache (which monitors configuration columns only and
 * wakes on each change). A scrape reads the cache — no request to any daemon — and the series
 * are computed once per cache change ({@link DatabaseCache.seqno}), not once per metric.
 *
 * Cardinality is bounded: at most `maxInterfaces` interfaces get per-interface series (VM ports
 * first, then by name); the rest are counted in `vpc_agent_interface_series_dropped`.
 * `perInterface: false` drops every per-interface series and keeps the node-level ones.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ClientMonitorConfig, Row } from '../../ovsdb/index.js';
import type { Logger } from '../log.js';
import { collectorMetrics } from './sampler.js';
import { formatLabels, SnapshotMetric, type Series } from './series.js';

/**
 * The monitor of the interface client: the `Interface` columns the metrics read, and each
 * bridge's `ports` (their count per bridge), nothing else.
 */
export const INTERFACE_METRICS_MONITOR: ClientMonitorConfig = {
  tables: {
    Interface: { columns: ['name', 'statistics', 'link_state', 'mtu', 'ofport', 'external_ids'] },
    Bridge: { columns: ['name', 'ports'] },
  },
};

/** The `external_ids` key binding an interface to an OVN logical switch port (ovn-architecture(7)). */
const IFACE_ID = 'iface-id';

/** What the agent knows of a VM port, by LSP name (`iface-id`). */
export interface PortPlacement {
  subnet?: string;
  vpc?: string;
}

/** What the collector reads: an `OvsdbClient` monitoring {@link INTERFACE_METRICS_MONITOR} fits. */
export interface InterfaceRowsSource {
  readonly isOnline: boolean;
  readonly cache: { readonly seqno: number; rows(table: string): Iterable<Row> };
}

export interface InterfaceCollectorOptions {
  /** Subnet and VPC of a VM port by its LSP name; undefined when unknown. Called once per interface per cache change. */
  lookup?: (ifaceId: string) => PortPlacement | undefined;
  /** Per-interface series (default true); false keeps only the node-level series. */
  perInterface?: boolean;
  /** Interfaces with series at most (default 2000: a dense node's VMs plus its tunnels and bridges). */
  maxInterfaces?: number;
}

/** The statistics keys exported, as ovs-vswitchd names them in `Interface:statistics`. */
export const INTERFACE_STATS = [
  'rx_packets',
  'rx_bytes',
  'rx_dropped',
  'rx_errors',
  'tx_packets',
  'tx_bytes',
  'tx_dropped',
  'tx_errors',
] as const;
export type InterfaceStat = (typeof INTERFACE_STATS)[number];

export interface InterfaceLabels {
  interface: string;
  /** LSP name (`iface-id`), `''` for interfaces that are not VM ports. */
  port: string;
  subnet: string;
  vpc: string;
}

export interface InterfaceSample {
  labels: InterfaceLabels;
  /** `labels` in exposition format, formatted once per snapshot. */
  text: string;
  stats: Partial<Record<InterfaceStat, number>>;
  linkState?: 'up' | 'down';
  mtu?: number;
  ofport?: number;
}

export interface InterfaceSnapshot {
  /** Interfaces with series, in output order. */
  interfaces: InterfaceSample[];
  /** Interfaces by `link_state` (`unknown`: not reported, e.g. patch ports). */
  byLinkState: Record<'up' | 'down' | 'unknown', number>;
  /** Interfaces left without series by `maxInterfaces` or `perInterface: false`. */
  dropped: number;
  /** Rows skipped because they cannot be read (no name). */
  invalid: number;
  /** Ports (`Bridge.ports`, the bridge's local port included) by bridge name. */
  bridges: Record<string, number>;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Ports per bridge from `Bridge` rows (pure); rows without a name are skipped. */
export function bridgePorts(rows: Iterable<Row>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) {
    const name = row['name'];
    if (typeof name !== 'string' || name === '') continue;
    const ports = row['ports'];
    // A set of uuids: an array, or a bare uuid string when it holds exactly one (RFC 7047 §5.1).
    out[name] = Array.isArray(ports) ? ports.length : typeof ports === 'string' ? 1 : 0;
  }
  return out;
}

/** Builds the series of `rows` (pure): the unit tests feed it recorded and broken rows. */
export function interfaceSnapshot(
  rows: Iterable<Row>,
  options: InterfaceCollectorOptions = {},
  bridges: Iterable<Row> = [],
): InterfaceSnapshot {
  const all: InterfaceSample[] = [];
  const byLinkState = { up: 0, down: 0, unknown: 0 };
  let invalid = 0;
  for (const row of rows) {
    const name = row['name'];
    if (typeof name !== 'string' || name === '') {
      invalid++;
      continue;
    }
    const ids = isRecord(row['external_ids']) ? row['external_ids'] : {};
    const port = typeof ids[IFACE_ID] === 'string' ? ids[IFACE_ID] : '';
    const placement = port ? options.lookup?.(port) : undefined;
    const stats: InterfaceSample['stats'] = {};
    const raw = isRecord(row['statistics']) ? row['statistics'] : {};
    for (const key of INTERFACE_STATS) if (isCount(raw[key])) stats[key] = raw[key];
    const link = row['link_state'];
    const labels = { interface: name, port, subnet: placement?.subnet ?? '', vpc: placement?.vpc ?? '' };
    const sample: InterfaceSample = { labels, text: formatLabels({ ...labels }), stats };
    if (link === 'up' || link === 'down') {
      sample.linkState = link;
      byLinkState[link]++;
    } else byLinkState.unknown++;
    if (isCount(row['mtu'])) sample.mtu = row['mtu'];
    if (typeof row['ofport'] === 'number' && Number.isSafeInteger(row['ofport']))
      sample.ofport = row['ofport'];
    all.push(sample);
  }
  // VM ports first, then by name: the cut keeps the interfaces operators care about, stably.
  all.sort(
    (a, b) =>
      Number(b.labels.port !== '') - Number(a.labels.port !== '') ||
      (a.labels.interface < b.labels.interface ? -1 : a.labels.interface > b.labels.interface ? 1 : 0),
  );
  const keep = options.perInterface === false ? 0 : Math.max(0, options.maxInterfaces ?? 2000);
  return {
    interfaces: all.slice(0, keep),
    byLinkState,
    dropped: Math.max(0, all.length - keep),
    invalid,
    bridges: bridgePorts(bridges),
  };
}

export interface InterfaceCollector {
  /** The series a scrape would show now. */
  snapshot(): InterfaceSnapshot;
}

const EMPTY: InterfaceSnapshot = {
  interfaces: [],
  byLinkState: { up: 0, down: 0, unknown: 0 },
  dropped: 0,
  invalid: 0,
  bridges: {},
};

/** Registers the interface metrics on `deps.registry`, read from `deps.source`'s cache. */
export function createInterfaceCollector(
  deps: { registry: Registry; source: InterfaceRowsSource; log?: Logger },
  options: InterfaceCollectorOptions = {},
): InterfaceCollector {
  const shared = collectorMetrics(deps.registry);
  const registers = [deps.registry];
  /**
   * Recomputed when the cache changed or after 5 s (the lookup's answers may have changed); a
   * failed read is remembered 1 s, so one scrape counts one error, not one per metric.
   */
  let memo: { seqno: number; at: number; snap: InterfaceSnapshot; failed: boolean } | undefined;
  let warned = false;
  const snapshot = (): InterfaceSnapshot => {
    const t0 = performance.now();
    const now = Date.now();
    try {
      if (!deps.source.isOnline) throw new Error('the Open_vSwitch client is not connected');
      const seqno = deps.source.cache.seqno;
      if (memo && !memo.failed && memo.seqno === seqno && now - memo.at < 5000) return memo.snap;
      const snap = interfaceSnapshot(
        deps.source.cache.rows('Interface'),
        options,
        deps.source.cache.rows('Bridge'),
      );
      memo = { seqno, at: now, snap, failed: false };
      warned = false;
      shared.refreshSeconds.set({ collector: 'interfaces' }, (performance.now() - t0) / 1000);
      return snap;
    } catch (err) {
      if (memo?.failed && now - memo.at < 1000) return memo.snap;
      memo = { seqno: -1, at: now, snap: EMPTY, failed: true };
      shared.errors.inc({ collector: 'interfaces' });
      if (!warned) deps.log?.warn({ err }, 'interface metrics: cannot read the Interface table');
      warned = true;
      return EMPTY;
    }
  };
  shared.track({ get: () => Promise.resolve(snapshot()) });
  shared.errors.inc({ collector: 'interfaces' }, 0);

  new Gauge({
    name: 'vpc_agent_interfaces',
    help: 'Interfaces in the Open_vSwitch database, by link state (up, down, unknown)',
    labelNames: ['link_state'],
    registers,
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(snapshot().byLinkState)) this.set({ link_state: state }, n);
    },
  });
  new Gauge({
    name: 'vpc_agent_interface_series_dropped',
    help: 'Interfaces without per-interface series (over the maxInterfaces limit, or per-interface series off)',
    registers,
    collect() {
      this.set(snapshot().dropped);
    },
  });
  new Gauge({
    name: 'vpc_agent_bridge_ports',
    help: 'Ports of a bridge in the Open_vSwitch database (its local port included), by bridge',
    labelNames: ['bridge'],
    registers,
    collect() {
      this.reset();
      for (const [bridge, n] of Object.entries(snapshot().bridges)) this.set({ bridge }, n);
    },
  });
  // Per-interface series: SnapshotMetrics (./series.ts), rendered from the snapshot's label
  // text — thousands of series without prom-client's per-series hashing and formatting.
  const perInterface = (
    name: string,
    help: string,
    type: 'counter' | 'gauge',
    pick: (i: InterfaceSample) => number | undefined,
  ) =>
    new SnapshotMetric({
      name,
      help,
      type,
      registers,
      series: function* (): Iterable<Series> {
        for (const i of snapshot().interfaces) {
          const value = pick(i);
          if (value !== undefined) yield { labels: { ...i.labels }, text: i.text, value };
        }
      },
    });
  for (const stat of INTERFACE_STATS) {
    const [dir, what] = stat.split('_') as [string, string];
    const subject =
      what === 'bytes' || what === 'packets' ? what[0]!.toUpperCase() + what.slice(1) : `Packets ${what}`;
    perInterface(
      `vpc_agent_interface_${stat}_total`,
      `${subject} ${dir === 'rx' ? 'received' : 'transmitted'} by an interface, as ovs-vswitchd counts them`,
      'counter',
      (i) => i.stats[stat],
    );
  }
  perInterface(
    'vpc_agent_interface_link_up',
    '1 while an interface’s link is up, 0 while down (interfaces reporting a link state)',
    'gauge',
    (i) => (i.linkState ? (i.linkState === 'up' ? 1 : 0) : undefined),
  );
  perInterface('vpc_agent_interface_mtu_bytes', 'MTU of an interface', 'gauge', (i) => i.mtu);
  perInterface(
    'vpc_agent_interface_ofport',
    'OpenFlow port number of an interface (-1: ovs-vswitchd could not add it)',
    'gauge',
    (i) => i.ofport,
  );
  return { snapshot };
}
