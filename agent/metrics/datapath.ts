/**
 * Datapath metrics read from ovs-vswitchd at scrape time, without spawning a process:
 * - over its unixctl socket, in ONE connection per refresh (`unixctlBatch`): `dpctl/show`
 *   (lookups hit/missed/lost, flows, masks where the datapath counts them), `ofproto/list` (the
 *   bridges) and `upcall/show` (flow limit, dump duration);
 * - per bridge, one OpenFlow table-statistics request on `<runDir>/<bridge>.mgmt` (./openflow.ts):
 *   the flow count without dumping a flow, on a connection kept open between refreshes
 *   (`close()` ends them).
 * Port counts per bridge come from the Open_vSwitch database instead (./interfaces.ts): pushed
 * by ovsdb-server when they change, they cost vswitchd nothing, where `dpif/show` formats every
 * port of every bridge at each refresh (~7 ms of its CPU at 1,000 ports).
 * Every metric's `collect()` awaits one shared {@link createSampler}: a refresh at most once per
 * `minIntervalMs` however many scrapes arrive, concurrent scrapes sharing the refresh in flight.
 *
 * A source that fails (socket gone, command unknown, reply unreadable) is counted in
 * `vpc_agent_collector_errors_total{collector="datapath"}` once per refresh and its series are
 * left out of that scrape; every other series still appears. OVS running totals are exposed as
 * counters through {@link setCounter} (never as gauges), point-in-time values as gauges.
 */
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { findUnixctlSocket, unixctlBatch, type UnixctlOutcome } from '../../ovsdb/index.js';
import type { Logger } from '../log.js';
import {
  parseDpctlShow,
  parseOfprotoList,
  parseUpcallShow,
  type DpctlDatapath,
  type UpcallDatapath,
} from './datapath-parse.js';
import { createOpenflowSession, type OpenflowSession } from './openflow.js';
import { collectorMetrics, createSampler, setCounter, type Sampler } from './sampler.js';

export interface DatapathCollectorOptions {
  /**
   * ovs-vswitchd's control socket. Default: located in `runDir` at every refresh, from its
   * pidfile (`ovs-vswitchd.<pid>.ctl`) else `ovs-vswitchd.ctl`, so a restarted vswitchd is found again.
   */
  socket?: string;
  /** OVS run directory: the pidfile, control socket and `<bridge>.mgmt` sockets (default `/var/run/openvswitch`). */
  runDir?: string;
  /** Serve a refresh younger than this from the cache (default 5000 ms: vswitchd's own stats interval). */
  minIntervalMs?: number;
  /** Per request (default 2000 ms: a scrape should never wait on a stuck daemon for long). */
  timeoutMs?: number;
  /** Read per-bridge OpenFlow flow counts (default true). */
  openflow?: boolean;
}

/** One bridge of a sample. */
export interface BridgeSample {
  name: string;
  /** Flows over every table. */
  flows: number;
}

/** What one refresh read. */
export interface DatapathSample {
  datapaths: DpctlDatapath[];
  upcalls: UpcallDatapath[];
  bridges: BridgeSample[];
  /** The sources that failed, with why. */
  errors: { source: string; message: string }[];
  seconds: number;
}

export interface DatapathCollector {
  /** The current sample (cached, or refreshed as a scrape would). */
  sample(): Promise<DatapathSample>;
  readonly sampler: Sampler<DatapathSample>;
  /** Closes the OpenFlow connections kept between refreshes (call on shutdown). */
  close(): void;
}

const DEFAULTS = { runDir: '/var/run/openvswitch', minIntervalMs: 5000, timeoutMs: 2000 };
const COMMANDS = ['dpctl/show', 'ofproto/list', 'upcall/show'] as const;
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Reads every source once; never throws (failures go to `errors`). */
export async function readDatapath(
  options: DatapathCollectorOptions = {},
  /** OpenFlow sessions by bridge, kept between reads (default: one-shot connections). */
  sessions?: Map<string, OpenflowSession>,
): Promise<DatapathSample> {
  const t0 = performance.now();
  const runDir = options.runDir ?? DEFAULTS.runDir;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const sample: DatapathSample = { datapaths: [], upcalls: [], bridges: [], errors: [], seconds: 0 };
  const fail = (source: string, err: unknown) => sample.errors.push({ source, message: errorText(err) });
  const finish = () => ({ ...sample, seconds: (performance.now() - t0) / 1000 });

  // The OpenFlow reads start at once, beside the unixctl batch, on the bridges whose management
  // socket exists (vswitchd makes `<bridge>.mgmt` for each bridge and removes it with the bridge):
  // a refresh then costs the slower of the two, not their sum.
  const mgmtDir = options.runDir ?? (options.socket ? path.dirname(options.socket) : runDir);
  const flowsP =
    options.openflow === false ? Promise.resolve(new Map()) : readFlows(mgmtDir, timeoutMs, sessions);

  let outcomes: UnixctlOutcome[] | undefined;
  try {
    const socket = options.socket ?? (await locateVswitchd(runDir));
    outcomes = await unixctlBatch(
      socket,
      COMMANDS.map((command) => ({ command })),
      { timeoutMs },
    );
  } catch (err) {
    fail('unixctl', err);
  }
  const read = <T>(i: number, parse: (text: string) => T): T | undefined => {
    const o = outcomes?.[i];
    if (!o) return undefined;
    if (!o.ok) return void fail(COMMANDS[i]!, o.error);
    try {
      return parse(o.output);
    } catch (err) {
      return void fail(COMMANDS[i]!, err);
    }
  };
  sample.datapaths = read(0, parseDpctlShow) ?? [];
  const bridges = read(1, parseOfprotoList);
  sample.upcalls = read(2, parseUpcallShow) ?? [];

  const flows = await flowsP;
  if (bridges) {
    // The bridges vswitchd has; a missing or failed OpenFlow read of one of them is an error.
    for (const name of bridges) {
      const f = flows.get(name);
      if (options.openflow === false) continue;
      if (typeof f === 'number') sample.bridges.push({ name, flows: f });
      else
        fail(
          `openflow ${name}`,
          f ?? new Error(`no management socket ${path.join(mgmtDir, `${name}.mgmt`)}`),
        );
    }
  } else {
    // ofproto/list failed: the bridges that answered OpenFlow.
    for (const [name, f] of flows) if (typeof f === 'number') sample.bridges.push({ name, flows: f });
  }
  return finish();
}

/**
 * vswitchd's control socket in `runDir`: `ovs-vswitchd.<pid>.ctl` from its pidfile (its default
 * name), else `ovs-vswitchd.ctl` (a vswitchd started with `--unixctl` so, as the sandbox does).
 */
async function locateVswitchd(runDir: string): Promise<string> {
  try {
    return await findUnixctlSocket('ovs-vswitchd', { runDir });
  } catch (err) {
    const fixed = path.join(runDir, 'ovs-vswitchd.ctl');
    if (
      await access(fixed).then(
        () => true,
        () => false,
      )
    )
      return fixed;
    throw err;
  }
}

/**
 * Flow counts by bridge, for every `<bridge>.mgmt` socket in `dir`; a failed read maps to its
 * error. With `sessions`, connections are reused and those of vanished bridges closed.
 */
async function readFlows(
  dir: string,
  timeoutMs: number,
  sessions?: Map<string, OpenflowSession>,
): Promise<Map<string, number | Error>> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.mgmt'))
    .map((f) => f.slice(0, -'.mgmt'.length));
  if (sessions) {
    for (const [name, s] of sessions) {
      if (!names.includes(name)) {
        s.close();
        sessions.delete(name);
      }
    }
  }
  const out = new Map<string, number | Error>();
  await Promise.all(
    names.map(async (name) => {
      let session = sessions?.get(name);
      if (!session) {
        session = createOpenflowSession(path.join(dir, `${name}.mgmt`));
        sessions?.set(name, session);
      }
      try {
        const tables = await session.tableStats({ timeoutMs });
        out.set(
          name,
          tables.reduce((n, t) => n + t.active, 0),
        );
      } catch (err) {
        out.set(name, err instanceof Error ? err : new Error(String(err)));
      } finally {
        if (!sessions) session.close();
      }
    }),
  );
  return out;
}

/** Registers the datapath metrics on `deps.registry`; see docs/metrics.md "Datapath". */
export function createDatapathCollector(
  deps: { registry: Registry; log?: Logger },
  options: DatapathCollectorOptions = {},
): DatapathCollector {
  const shared = collectorMetrics(deps.registry);
  const registers = [deps.registry];
  let lastErrors = '';
  const sessions = new Map<string, OpenflowSession>();
  const sampler = createSampler(
    async () => {
      const s = await readDatapath(options, sessions);
      shared.refreshSeconds.set({ collector: 'datapath' }, s.seconds);
      shared.errors.inc({ collector: 'datapath' }, s.errors.length);
      // Warn when the set of failures changes, not at every scrape of a lasting failure.
      const now = s.errors.map((e) => `${e.source}: ${e.message}`).join('; ');
      if (now !== lastErrors && now) deps.log?.warn({ errors: s.errors }, 'datapath metrics: sources failed');
      lastErrors = now;
      return s;
    },
    { minIntervalMs: options.minIntervalMs ?? DEFAULTS.minIntervalMs },
  );
  shared.track(sampler);
  shared.errors.inc({ collector: 'datapath' }, 0);

  new Counter({
    name: 'vpc_agent_datapath_lookups_total',
    help: 'Datapath flow-table lookups by datapath and result: hit (a datapath flow matched), missed (sent to userspace), lost (dropped before userspace)',
    labelNames: ['datapath', 'result'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const dp of s.datapaths) {
        if (!dp.lookups) continue;
        for (const result of ['hit', 'missed', 'lost'] as const) {
          setCounter(this, dp.lookups[result], { datapath: dp.name, result });
        }
      }
    },
  });
  new Gauge({
    name: 'vpc_agent_datapath_flows',
    help: 'Flows installed in the datapath, by datapath',
    labelNames: ['datapath'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const dp of s.datapaths) if (dp.flows !== undefined) this.set({ datapath: dp.name }, dp.flows);
    },
  });
  new Counter({
    name: 'vpc_agent_datapath_masks_hit_total',
    help: 'Masks visited by datapath lookups (only datapaths that count them: the Linux kernel datapath), by datapath',
    labelNames: ['datapath'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const dp of s.datapaths) if (dp.masks) setCounter(this, dp.masks.hit, { datapath: dp.name });
    },
  });
  new Gauge({
    name: 'vpc_agent_datapath_masks',
    help: 'Masks (megaflow subtables) in the datapath (only datapaths that count them), by datapath',
    labelNames: ['datapath'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const dp of s.datapaths) if (dp.masks) this.set({ datapath: dp.name }, dp.masks.total);
    },
  });
  new Gauge({
    name: 'vpc_agent_datapath_upcall_flow_limit',
    help: 'Datapath flows ovs-vswitchd allows now (it lowers the limit when revalidation is slow), by datapath',
    labelNames: ['datapath'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const u of s.upcalls) if (u.flows) this.set({ datapath: u.name }, u.flows.limit);
    },
  });
  new Gauge({
    name: 'vpc_agent_datapath_upcall_dump_duration_seconds',
    help: 'Duration of the last datapath flow dump (revalidation), by datapath',
    labelNames: ['datapath'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const u of s.upcalls) {
        if (u.dumpDurationSeconds !== undefined) this.set({ datapath: u.name }, u.dumpDurationSeconds);
      }
    },
  });
  new Gauge({
    name: 'vpc_agent_bridge_openflow_flows',
    help: 'OpenFlow flows of a bridge over all its tables (table statistics), by bridge',
    labelNames: ['bridge'],
    registers,
    async collect() {
      const s = await sampler.get();
      this.reset();
      for (const b of s.bridges) this.set({ bridge: b.name }, b.flows);
    },
  });
  return {
    sample: () => sampler.get(),
    sampler,
    close() {
      for (const session of sessions.values()) session.close();
      sessions.clear();
    },
  };
}
