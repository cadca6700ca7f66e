/**
 * OVN health metrics (docs/metrics.md "OVN health"), read at scrape time through one shared
 * {@link createSampler} — a refresh at most once per `minIntervalMs` however many scrapes
 * arrive, concurrent scrapes sharing the refresh in flight:
 * - every NB and SB member: up, RAFT role, term, leader, majority contact, commit and apply
 *   backlog (./ovn-cluster.ts: `cluster/status` over the member's control socket, else its
 *   `_Server` row);
 * - ovn-controller of this node: up (its control socket answers) and its Southbound session
 *   (`connection-status`);
 * - ovn-northd, where its control socket is given or found by pidfile (it runs on the central
 *   nodes only): up, active (`status`) and its NB/SB sessions;
 * - from the Southbound (./ovn-sb.ts): logical flows and chassis (one counting transaction on a
 *   short connection), this chassis' bindings (the agent's SB cache) and this node's ports bound
 *   elsewhere or not at all.
 * Every source is read in parallel and never fails the others: one that cannot be read counts
 * `vpc_agent_collector_errors_total{collector="ovn"}` and its series are left out (an
 * unreachable daemon is `…_up 0`, not an absent series).
 */
import { Gauge, type Registry } from 'prom-client';
import { findUnixctlSocket, parseRemotes, unixctlBatch, type TlsOptions } from '../../ovsdb/index.js';
import type { Logger } from '../log.js';
import { readMember, type MemberSample, type MemberSource } from './ovn-cluster.js';
import { parseConnectionStatus, parseNorthdStatus, type NorthdState } from './ovn-parse.js';
import { readBindings, readSbCounts, type BindingSample, type SbSource } from './ovn-sb.js';
import { collectorMetrics, createSampler, type Sampler } from './sampler.js';

export interface OvnHealthConfig {
  /** NB and SB members to read: a control socket each where reachable, else a remote. */
  members?: MemberSource[];
  /** ovn-controller's control socket; default: found by pidfile in `runDirs`. */
  controllerCtl?: string;
  /** ovn-northd's control socket; default: found by pidfile in `runDirs`, else no northd series. */
  northdCtl?: string;
  /** Where ovn-controller and ovn-northd keep pidfile and socket (OVN_RUNDIR), in order. */
  runDirs?: string[];
  /** This node's chassis (`system-id`), for the bindings. */
  chassis?: string;
  /** Serve a refresh younger than this from the cache (default 10 s). */
  minIntervalMs?: number;
  /** Per request (default 2000 ms). */
  timeoutMs?: number;
  /** For `ssl:` remotes. */
  tls?: TlsOptions;
  /** SB remotes, for the logical flow and chassis counts (./ovn-sb.ts `readSbCounts`). */
  sbRemotes?: string | readonly string[];
}

export interface OvnHealthDeps {
  registry: Registry;
  log?: Logger;
  /** The agent's SB client: this chassis' bindings from its cache, the missing ports by select. */
  sb?: SbSource;
  /** This node's ports (LSP names), whose bindings should be on this chassis. */
  nodePorts?: () => Iterable<string>;
  /**
   * Whether this agent reads the cluster-wide values — logical flow and chassis counts, and
   * members known only by remote — (default: always). The agent answers "while it is the NB
   * writer": one agent of the deployment asks, not every node.
   */
  clusterWide?: () => boolean;
}

export interface DaemonSample {
  up: boolean;
  /** ovn-controller: its SB session; northd: its NB and SB sessions. */
  sbConnected?: boolean;
  nbConnected?: boolean;
  /** northd only. */
  state?: NorthdState;
}

export interface OvnHealthSample {
  members: MemberSample[];
  controller?: DaemonSample;
  northd?: DaemonSample;
  sb?: { logicalFlows: number; chassis: number };
  bindings?: BindingSample;
  errors: { source: string; message: string }[];
  seconds: number;
}

export interface OvnHealthCollector {
  sample(): Promise<OvnHealthSample>;
  readonly sampler: Sampler<OvnHealthSample>;
}

/**
 * OVN health values change on elections, restarts and binding moves, not every second, and
 * ten seconds bounds the extra load on the databases (one short connection per member read by
 * remote, and the flow count, on the NB writer only).
 */
export const OVN_HEALTH_INTERVAL_MS = 10_000;
const DEFAULTS = { minIntervalMs: OVN_HEALTH_INTERVAL_MS, timeoutMs: 2000, runDirs: ['/var/run/ovn'] };
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The control socket of `program`: given, else by pidfile in the first run dir that has one. */
async function locate(program: string, given: string | undefined, runDirs: readonly string[]) {
  if (given) return given;
  let first: unknown;
  for (const runDir of runDirs) {
    try {
      return await findUnixctlSocket(program, { runDir });
    } catch (err) {
      first ??= err;
    }
  }
  throw first ?? new Error(`${program}: no run directory to look in`);
}

/** A pidfile of `program` exists in one of `runDirs` (the daemon runs, or ran, on this host). */
async function hasPidfile(program: string, runDirs: readonly string[]): Promise<boolean> {
  for (const runDir of runDirs) {
    try {
      await findUnixctlSocket(program, { runDir });
      return true;
    } catch (err) {
      if (!/cannot read pidfile/.test(errorText(err))) return true;
    }
  }
  return false;
}

/** Reads every source once; never throws (failures go to `errors`). */
export async function readOvnHealth(
  config: OvnHealthConfig,
  deps: Pick<OvnHealthDeps, 'sb' | 'nodePorts' | 'clusterWide'> = {},
): Promise<OvnHealthSample> {
  const t0 = performance.now();
  const clusterWide = deps.clusterWide?.() ?? true;
  const timeoutMs = config.timeoutMs ?? DEFAULTS.timeoutMs;
  const runDirs = config.runDirs ?? DEFAULTS.runDirs;
  const errors: OvnHealthSample['errors'] = [];
  const fail = (source: string, err: unknown) => errors.push({ source, message: errorText(err) });

  const members = Promise.all(
    (config.members ?? [])
      .filter((m) => clusterWide || 'ctl' in m)
      .map((m) => readMember(m, { timeoutMs, ...(config.tls ? { tls: config.tls } : {}) })),
  );

  const controller = (async (): Promise<DaemonSample | undefined> => {
    if (!config.controllerCtl && !deps.sb) return undefined;
    try {
      const socket = await locate('ovn-controller', config.controllerCtl, runDirs);
      const [status] = await unixctlBatch(socket, [{ command: 'connection-status' }], { timeoutMs });
      if (!status!.ok) throw status!.error;
      return { up: true, sbConnected: parseConnectionStatus('connection-status', status!.output) };
    } catch (err) {
      fail('ovn-controller', err);
      return { up: false };
    }
  })();

  const northd = (async (): Promise<DaemonSample | undefined> => {
    if (!config.northdCtl && !(await hasPidfile('ovn-northd', runDirs))) return undefined;
    try {
      const socket = await locate('ovn-northd', config.northdCtl, runDirs);
      const out = await unixctlBatch(
        socket,
        ['status', 'nb-connection-status', 'sb-connection-status'].map((command) => ({ command })),
        { timeoutMs },
      );
      const text = (i: number) => {
        const o = out[i]!;
        if (!o.ok) throw o.error;
        return o.output;
      };
      const s: DaemonSample = { up: true, state: parseNorthdStatus(text(0)) };
      // Each session on its own: a partial reply keeps what it has.
      try {
        s.nbConnected = parseConnectionStatus('nb-connection-status', text(1));
      } catch (err) {
        fail('ovn-northd', err);
      }
      try {
        s.sbConnected = parseConnectionStatus('sb-connection-status', text(2));
      } catch (err) {
        fail('ovn-northd', err);
      }
      return s;
    } catch (err) {
      fail('ovn-northd', err);
      return { up: false };
    }
  })();

  const sbCounts = (async () => {
    if (!config.sbRemotes || !clusterWide) return undefined;
    try {
      return await readSbCounts(config.sbRemotes, { timeoutMs, ...(config.tls ? { tls: config.tls } : {}) });
    } catch (err) {
      return void fail('southbound', err);
    }
  })();

  const bindings = (async () => {
    if (!deps.sb || !deps.nodePorts || !config.chassis || !deps.sb.isOnline) return undefined;
    try {
      return await readBindings(deps.sb, config.chassis, deps.nodePorts(), timeoutMs);
    } catch (err) {
      return void fail('bindings', err);
    }
  })();

  const sample: OvnHealthSample = { members: await members, errors, seconds: 0 };
  for (const m of sample.members) if (m.error) fail(`${m.database} ${m.member}`, m.error);
  const [c, n, s, b] = await Promise.all([controller, northd, sbCounts, bindings]);
  if (c) sample.controller = c;
  if (n) sample.northd = n;
  if (s) sample.sb = s;
  if (b) sample.bindings = b;
  sample.seconds = (performance.now() - t0) / 1000;
  return sample;
}

type Labels<L extends string> = Partial<Record<L, string | number>>;

/**
 * The members to read: per database, its control sockets when given (`nbCtl`, `sbCtl`: the
 * servers on this host), else every remote of the database (through `_Server`).
 */
export function ovnMembers(o: {
  nb?: string | readonly string[];
  sb?: string | readonly string[];
  nbCtl?: readonly string[];
  sbCtl?: readonly string[];
}): MemberSource[] {
  const out: MemberSource[] = [];
  const add = (
    database: MemberSource['database'],
    ctl: readonly string[] | undefined,
    remotes: string | readonly string[] | undefined,
  ) => {
    if (ctl && ctl.length > 0) for (const c of ctl) out.push({ database, ctl: c });
    else if (remotes) for (const r of parseRemotes(remotes)) out.push({ database, remote: r.text });
  };
  add('OVN_Northbound', o.nbCtl, o.nb);
  add('OVN_Southbound', o.sbCtl, o.sb);
  return out;
}

/** What the operator tells the agent about the OVN daemons on its host (`vpc-agent run` flags). */
export interface OvnHealthFlags {
  /** Control sockets of the NB servers on this host (`--nb-ctl`); else NB members by remote. */
  nbCtl?: string[];
  /** Likewise for SB (`--sb-ctl`). */
  sbCtl?: string[];
  /** ovn-northd's control socket (`--northd-ctl`); else found by pidfile in the run directory. */
  northdCtl?: string;
  /** OVN_RUNDIR of ovn-controller and ovn-northd (`--ovn-rundir`, default `/var/run/ovn`). */
  runDir?: string;
  /** Refresh at most this often (default 10 s). */
  intervalMs?: number;
}

/** The collector's config from the agent's remotes, TLS and flags. */
export function ovnHealthConfig(
  config: { nb?: string | string[]; sb?: string | string[]; tls?: TlsOptions; ovnHealth?: OvnHealthFlags },
  chassis: string,
): OvnHealthConfig {
  const f = config.ovnHealth ?? {};
  return {
    members: ovnMembers({
      ...(config.nb ? { nb: config.nb } : {}),
      ...(config.sb ? { sb: config.sb } : {}),
      ...(f.nbCtl ? { nbCtl: f.nbCtl } : {}),
      ...(f.sbCtl ? { sbCtl: f.sbCtl } : {}),
    }),
    chassis,
    ...(config.sb ? { sbRemotes: config.sb } : {}),
    ...(f.northdCtl ? { northdCtl: f.northdCtl } : {}),
    ...(f.runDir ? { runDirs: [f.runDir] } : {}),
    ...(f.intervalMs !== undefined ? { minIntervalMs: f.intervalMs } : {}),
    ...(config.tls ? { tls: config.tls } : {}),
  };
}

/** Registers the OVN health metrics on `deps.registry`; see docs/metrics.md "OVN health". */
export function createOvnHealthCollector(
  deps: OvnHealthDeps,
  config: OvnHealthConfig = {},
): OvnHealthCollector {
  const shared = collectorMetrics(deps.registry);
  const registers = [deps.registry];
  let lastErrors = '';
  const sampler = createSampler(
    async () => {
      const s = await readOvnHealth(config, deps);
      shared.refreshSeconds.set({ collector: 'ovn' }, s.seconds);
      shared.errors.inc({ collector: 'ovn' }, s.errors.length);
      const now = s.errors.map((e) => `${e.source}: ${e.message}`).join('; ');
      if (now !== lastErrors && now)
        deps.log?.warn({ errors: s.errors }, 'OVN health metrics: sources failed');
      lastErrors = now;
      return s;
    },
    { minIntervalMs: config.minIntervalMs ?? DEFAULTS.minIntervalMs },
  );
  shared.track(sampler);
  shared.errors.inc({ collector: 'ovn' }, 0);

  /** A gauge whose series `fill` sets from the current sample at each scrape. */
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (s: OvnHealthSample, set: (labels: Labels<L>, v: number) => void) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await sampler.get();
        this.reset();
        // prom-client's reset() gives a gauge without labels a 0 sample; an unknown value
        // (a daemon this host does not run) must be absent instead, so start empty.
        if (labelNames.length === 0) (this as unknown as { hashMap: object }).hashMap = {};
        fill(s, (labels, v) => this.set(labels, v));
      },
    });
  const member = (m: MemberSample) => ({ database: m.database, member: m.member });
  const perMember =
    (pick: (m: MemberSample) => number | boolean | undefined) =>
    (s: OvnHealthSample, set: (l: Labels<'database' | 'member'>, v: number) => void) => {
      for (const m of s.members) {
        const v = pick(m);
        if (v !== undefined) set(member(m), Number(v));
      }
    };
  const DB = ['database', 'member'] as const;

  gauge(
    'vpc_agent_ovn_db_member_up',
    'Whether an NB/SB database member answered (1) or not (0), by database and member',
    DB,
    perMember((m) => m.up),
  );
  gauge(
    'vpc_agent_ovn_cluster_role',
    'RAFT role of a database member (1 for its role: leader, follower, candidate; standalone for a database that is not clustered), by database and member',
    ['database', 'member', 'role'],
    (s, set) => {
      for (const m of s.members) {
        const role = m.model === 'standalone' ? 'standalone' : m.role;
        if (role) set({ ...member(m), role }, 1);
      }
    },
  );
  gauge(
    'vpc_agent_ovn_cluster_leader',
    'Whether a clustered database member is the leader, by database and member',
    DB,
    perMember((m) => m.leader),
  );
  gauge(
    'vpc_agent_ovn_cluster_connected',
    'Whether a clustered database member is in the cluster and in contact with a majority, by database and member',
    DB,
    perMember((m) => m.connected),
  );
  gauge(
    'vpc_agent_ovn_cluster_term',
    'RAFT term of a clustered database member (control socket only), by database and member',
    DB,
    perMember((m) => m.term),
  );
  gauge(
    'vpc_agent_ovn_cluster_uncommitted_entries',
    'Log entries a member appended but a majority has not committed yet (control socket only), by database and member',
    DB,
    perMember((m) => m.uncommitted),
  );
  gauge(
    'vpc_agent_ovn_cluster_unapplied_entries',
    'Log entries committed but not yet applied to a member’s database (control socket only), by database and member',
    DB,
    perMember((m) => m.unapplied),
  );
  gauge(
    'vpc_agent_ovn_cluster_log_index',
    'Last log index of a clustered database member, by database and member',
    DB,
    perMember((m) => m.index),
  );

  gauge(
    'vpc_agent_ovn_controller_up',
    'Whether this node’s ovn-controller answers on its control socket',
    [],
    (s, set) => {
      if (s.controller) set({}, s.controller.up ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_controller_sb_connected',
    'Whether this node’s ovn-controller is connected to the Southbound',
    [],
    (s, set) => {
      if (s.controller?.sbConnected !== undefined) set({}, s.controller.sbConnected ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_northd_up',
    'Whether ovn-northd on this host answers on its control socket',
    [],
    (s, set) => {
      if (s.northd) set({}, s.northd.up ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_northd_active',
    'Whether ovn-northd on this host is the active instance (0: standby or paused)',
    [],
    (s, set) => {
      if (s.northd?.state) set({}, s.northd.state === 'active' ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_northd_db_connected',
    'Whether ovn-northd on this host is connected to a database, by database',
    ['database'],
    (s, set) => {
      if (s.northd?.nbConnected !== undefined)
        set({ database: 'OVN_Northbound' }, s.northd.nbConnected ? 1 : 0);
      if (s.northd?.sbConnected !== undefined)
        set({ database: 'OVN_Southbound' }, s.northd.sbConnected ? 1 : 0);
    },
  );
  gauge('vpc_agent_ovn_logical_flows', 'Logical flows in the Southbound', [], (s, set) => {
    if (s.sb) set({}, s.sb.logicalFlows);
  });
  gauge('vpc_agent_ovn_chassis', 'Chassis registered in the Southbound', [], (s, set) => {
    if (s.sb) set({}, s.sb.chassis);
  });
  gauge(
    'vpc_agent_ovn_port_bindings',
    'Port bindings on this chassis, by state (up: ovn-controller installed the port’s flows)',
    ['state'],
    (s, set) => {
      if (!s.bindings) return;
      set({ state: 'up' }, s.bindings.here.up);
      set({ state: 'down' }, s.bindings.here.down);
    },
  );
  gauge(
    'vpc_agent_ovn_inconsistent_port_bindings',
    'Ports of this node not bound on this chassis, by reason (other_chassis, unbound, no_binding)',
    ['reason'],
    (s, set) => {
      if (!s.bindings) return;
      for (const [reason, n] of Object.entries(s.bindings.inconsistent)) set({ reason }, n);
    },
  );

  return { sample: () => sampler.get(), sampler };
}
