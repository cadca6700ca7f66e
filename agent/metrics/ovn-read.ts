/**
 * What the OVN health collector (./ovn-health.ts) reads, and from where: its configuration (from
 * the agent's remotes and flags), and {@link readOvnHealth}, one read of every source in
 * parallel — NB/SB members (./ovn-cluster.ts), ovn-controller and ovn-northd over their control
 * sockets (./ovn-parse.ts), the Southbound counts and this node's bindings (./ovn-sb.ts). Never
 * throws: what fails is listed in the sample's `errors`.
 */
import { findUnixctlSocket, parseRemotes, unixctlBatch, type TlsOptions } from '../../ovsdb/index.js';
import { readMember, type MemberSample, type MemberSource } from './ovn-cluster.js';
import { parseConnectionStatus, parseNorthdStatus, type NorthdState } from './ovn-parse.js';
import { readBindings, readSbCounts, type BindingSample, type SbSource } from './ovn-sb.js';

/** What {@link readOvnHealth} reads besides its config. */
export interface OvnReadDeps {
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
  deps: OvnReadDeps = {},
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
