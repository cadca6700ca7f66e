/**
 * Private `ovsdb-server` instances (standalone or RAFT clustered) for the sandbox and tests.
 *
 * Each server lives in a caller-given directory with `<name>.db/.sock/.ctl/.pid/.log`, runs
 * with `--detach --pidfile` (so it survives the starting process and `sandbox down` can stop
 * it by PID), and is considered ready only when its unix socket answers `list-dbs` and every
 * TCP port it was given is really bound by that PID (ports are probed free first, then
 * verified, and re-picked on a clash). Never the system instance: nothing under /var/run.
 *
 * Database notation and remotes: RFC 7047 §1; active/passive remote syntax: ovsdb-server(1)
 * "--remote"; clustered databases: ovsdb(7) "Clustered Database Service Model",
 * ovsdb-tool(1) `create-cluster`/`join-cluster`, ovsdb-server(1) `cluster/status`.
 */
import { mkdir, rm, access } from 'node:fs/promises';
import path from 'node:path';
import { log } from './log.js';
import {
  freePort,
  isAlive,
  listeningTcpPorts,
  readPidFile,
  run,
  signalPid,
  stopPid,
  waitUntil,
} from './process.js';

export interface OvsdbServerOptions {
  /** Private directory (created if missing); files `<name>.db/.sock/.ctl/.pid/.log` inside. */
  dir: string;
  /** Short name, e.g. `nb`. */
  name: string;
  /**
   * Path to a `.ovsschema` file; the database is created from it if `<name>.db` is missing.
   * Unused for a relay.
   */
  schema: string;
  /**
   * Serve `database` as a relay of `source` (ovsdb-server(1) "relay:<db>:<remotes>", OVS
   * ≥ 2.16): no file of its own; reads are served from its copy, writes forwarded to the source.
   */
  relay?: { database: string; source: string };
  /** Also listen on `ptcp:<free port>:127.0.0.1`. */
  tcp?: boolean;
  /**
   * Extra `--remote` values, e.g. `pssl:0:127.0.0.1` (port 0 is replaced by a concrete free
   * port so that restarts reuse it); pass `--private-key` etc. in `extraArgs`.
   */
  extraRemotes?: string[];
  extraArgs?: string[];
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
}

export interface OvsdbServerHandle {
  name: string;
  /** Current PID (changes after {@link OvsdbServerHandle.restart}). */
  pid: number;
  dbPath: string;
  ctlPath: string;
  logPath: string;
  /** `unix:/abs/path.sock` */
  unixRemote: string;
  /** `tcp:127.0.0.1:PORT` when `tcp` was requested. */
  tcpRemote?: string;
  /** Active forms of every listening remote (unix, tcp, and extra ones such as `ssl:127.0.0.1:PORT`). */
  remotes: string[];
  /** SIGTERM then SIGKILL by PID, zombie-aware; idempotent. */
  stop(): Promise<void>;
  /** Abrupt stop (default SIGKILL), for failover tests; waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same db file with the same remotes and ports (stops it first if alive). */
  restart(): Promise<void>;
}

/** Internal: what is needed to (re)launch one server. */
interface ServerConfig {
  name: string;
  dir: string;
  dbPath: string;
  sockPath: string;
  ctlPath: string;
  pidPath: string;
  logPath: string;
  /** Concrete passive remotes, e.g. `ptcp:41234:127.0.0.1`. */
  passiveRemotes: string[];
  /** Ports that must be bound by the process before it counts as ready. */
  ports: number[];
  extraArgs: string[];
  netns?: string;
}

const PORT_REMOTE = /^(ptcp|pssl):(\d+)(?::(.*))?$/;

/** Returns the database name declared in a schema file (`ovsdb-tool schema-name`). */
export async function schemaName(schema: string): Promise<string> {
  return (await run('ovsdb-tool', ['schema-name', schema])).stdout.trim();
}

/** Converts a passive remote (`punix:`, `ptcp:PORT:IP`, `pssl:PORT:IP`) to the matching active one. */
export function activeRemote(passive: string): string {
  if (passive.startsWith('punix:')) return `unix:${passive.slice('punix:'.length)}`;
  const m = PORT_REMOTE.exec(passive);
  if (!m) return passive;
  const host = m[3] && m[3] !== '0.0.0.0' ? m[3] : '127.0.0.1';
  return `${m[1] === 'ptcp' ? 'tcp' : 'ssl'}:${host.includes(':') ? `[${host}]` : host}:${m[2]}`;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Builds the config, replacing every port 0 with a free port. */
async function makeConfig(
  opts: OvsdbServerOptions,
  dbPath: string,
  requiredPorts: number[] = [],
): Promise<ServerConfig> {
  const dir = path.resolve(opts.dir);
  const file = (ext: string) => path.join(dir, `${opts.name}.${ext}`);
  const passive = [`punix:${file('sock')}`];
  const ports = [...requiredPorts];
  const wanted = [...(opts.tcp ? ['ptcp:0:127.0.0.1'] : []), ...(opts.extraRemotes ?? [])];
  for (const r of wanted) {
    const m = PORT_REMOTE.exec(r);
    if (m && m[2] === '0') {
      const port = await freePort();
      ports.push(port);
      passive.push(`${m[1]}:${port}${m[3] !== undefined ? `:${m[3]}` : ''}`);
    } else {
      if (m) ports.push(Number(m[2]));
      passive.push(r);
    }
  }
  return {
    name: opts.name,
    dir,
    dbPath,
    sockPath: file('sock'),
    ctlPath: file('ctl'),
    pidPath: file('pid'),
    logPath: file('log'),
    passiveRemotes: passive,
    ports,
    extraArgs: opts.extraArgs ?? [],
    netns: opts.netns,
  };
}

/** Thrown when a port the server was given is held by someone else. */
class PortClashError extends Error {}

/** Launches one detached ovsdb-server and waits until it is ready; returns its PID. */
async function launch(cfg: ServerConfig): Promise<number> {
  await rm(cfg.sockPath, { force: true });
  await rm(cfg.ctlPath, { force: true });
  const args = [
    '--detach',
    '--no-chdir',
    `--pidfile=${cfg.pidPath}`,
    `--unixctl=${cfg.ctlPath}`,
    `--log-file=${cfg.logPath}`,
    ...cfg.passiveRemotes.map((r) => `--remote=${r}`),
    ...cfg.extraArgs,
    cfg.dbPath,
  ];
  await run('ovsdb-server', args, { netns: cfg.netns });
  const pid = await readPidFile(cfg.pidPath);
  log.debug({ name: cfg.name, pid, remotes: cfg.passiveRemotes }, 'ovsdb-server started');
  try {
    await waitUntil(
      async () =>
        (await isAlive(pid)) &&
        (await run('ovsdb-client', ['--timeout=2', 'list-dbs', `unix:${cfg.sockPath}`])),
      { what: `ovsdb-server ${cfg.name} to answer on ${cfg.sockPath}`, timeoutMs: 20_000 },
    );
    if (cfg.ports.length > 0) {
      const bound = await waitUntil(
        async () => {
          const have = await listeningTcpPorts(pid);
          return cfg.ports.every((p) => have.includes(p)) ? true : undefined;
        },
        { what: `ovsdb-server ${cfg.name} to bind ports ${cfg.ports.join(',')}`, timeoutMs: 3_000 },
      ).catch(() => false);
      if (!bound)
        throw new PortClashError(`ovsdb-server ${cfg.name}: ports ${cfg.ports.join(',')} not bound`);
    }
  } catch (err) {
    await stopPid(pid);
    throw err;
  }
  return pid;
}

function makeHandle(cfg: ServerConfig, pid: number): OvsdbServerHandle {
  const remotes = cfg.passiveRemotes.map(activeRemote);
  const tcpRemote = remotes.find((r) => r.startsWith('tcp:'));
  const handle: OvsdbServerHandle = {
    name: cfg.name,
    pid,
    dbPath: cfg.dbPath,
    ctlPath: cfg.ctlPath,
    logPath: cfg.logPath,
    unixRemote: `unix:${cfg.sockPath}`,
    ...(tcpRemote ? { tcpRemote } : {}),
    remotes,
    async stop() {
      await stopPid(handle.pid);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      signalPid(handle.pid, signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') {
        await waitUntil(async () => !(await isAlive(handle.pid)), { what: `pid ${handle.pid} to die` });
      }
    },
    async restart() {
      await stopPid(handle.pid);
      handle.pid = await launch(cfg);
    },
  };
  return handle;
}

/**
 * Starts a standalone ovsdb-server on `<dir>/<name>.db` (created from `schema` if missing).
 * Resolves once the unix socket answers and all TCP ports are bound.
 */
export async function startOvsdbServer(opts: OvsdbServerOptions): Promise<OvsdbServerHandle> {
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const dbPath = opts.relay
    ? `relay:${opts.relay.database}:${opts.relay.source}`
    : path.join(dir, `${opts.name}.db`);
  if (!opts.relay && !(await exists(dbPath))) await run('ovsdb-tool', ['create', dbPath, opts.schema]);
  for (let attempt = 1; ; attempt++) {
    const cfg = await makeConfig(opts, dbPath);
    try {
      return makeHandle(cfg, await launch(cfg));
    } catch (err) {
      if (!(err instanceof PortClashError) || attempt >= 3) throw err;
      log.warn({ name: opts.name, attempt }, 'port clash, retrying with new ports');
    }
  }
}

export interface OvsdbClusterOptions {
  dir: string;
  /** Members are named `<name>1..<name>N` (files `<dir>/<name>1.db` ...). */
  name: string;
  schema: string;
  /** Number of members (default 3). */
  size?: number;
  /** Each member also listens on a TCP client port. */
  tcp?: boolean;
}

export interface OvsdbClusterHandle {
  members: OvsdbServerHandle[];
  /** Each member's client remotes: for member i, its `unix:` then (if `tcp`) its `tcp:` remote. */
  remotes: string[];
  /** Schema database name, e.g. `OVN_Northbound`. */
  dbName: string;
  /** RAFT addresses `tcp:127.0.0.1:PORT`, one per member. */
  raftAddresses: string[];
  /** Index of the member that reports `Role: leader` (`cluster/status`), or -1 if none does now. */
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

/** Parses `ovs-appctl cluster/status` output into the few fields the sandbox needs. */
export function parseClusterStatus(text: string): { role?: string; status?: string; leader?: string } {
  const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(text)?.[1]?.trim();
  return { role: field('Role'), status: field('Status'), leader: field('Leader') };
}

/** Runs `cluster/status <db>` against one member; undefined if it does not answer. */
export async function clusterStatus(member: Pick<OvsdbServerHandle, 'pid' | 'ctlPath'>, dbName: string) {
  if (!(await isAlive(member.pid))) return undefined;
  const res = await run('ovs-appctl', ['--timeout=5', '-t', member.ctlPath, 'cluster/status', dbName], {
    reject: false,
  });
  return res.exitCode === 0 ? parseClusterStatus(res.stdout) : undefined;
}

/**
 * Starts a RAFT cluster of `size` ovsdb-servers on 127.0.0.1: member 1 from
 * `ovsdb-tool create-cluster`, the others from `join-cluster`. Resolves once every member
 * reports `Status: cluster member` and one of them is the leader.
 */
export async function startOvsdbCluster(opts: OvsdbClusterOptions): Promise<OvsdbClusterHandle> {
  const size = opts.size ?? 3;
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const dbName = await schemaName(opts.schema);
  for (let attempt = 1; ; attempt++) {
    const members: OvsdbServerHandle[] = [];
    try {
      return await startClusterOnce(opts, dir, size, dbName, members);
    } catch (err) {
      await Promise.all(members.map((m) => m.stop()));
      if (!(err instanceof PortClashError) || attempt >= 3) throw err;
      log.warn({ name: opts.name, attempt }, 'raft port clash, retrying with new ports');
    }
  }
}

async function startClusterOnce(
  opts: OvsdbClusterOptions,
  dir: string,
  size: number,
  dbName: string,
  members: OvsdbServerHandle[],
): Promise<OvsdbClusterHandle> {
  const raftPorts: number[] = [];
  while (raftPorts.length < size) {
    const p = await freePort();
    if (!raftPorts.includes(p)) raftPorts.push(p);
  }
  const raft = raftPorts.map((p) => `tcp:127.0.0.1:${p}`);
  for (let i = 0; i < size; i++) {
    const name = `${opts.name}${i + 1}`;
    const dbPath = path.join(dir, `${name}.db`);
    await rm(dbPath, { force: true });
    if (i === 0) await run('ovsdb-tool', ['create-cluster', dbPath, opts.schema, raft[0]!]);
    else await run('ovsdb-tool', ['join-cluster', dbPath, dbName, raft[i]!, ...raft.slice(0, i)]);
    const cfg = await makeConfig({ dir, name, schema: opts.schema, tcp: opts.tcp }, dbPath, [raftPorts[i]!]);
    members.push(makeHandle(cfg, await launch(cfg)));
  }
  const cluster: OvsdbClusterHandle = {
    members,
    remotes: members.flatMap((m) => [m.unixRemote, ...(m.tcpRemote ? [m.tcpRemote] : [])]),
    dbName,
    raftAddresses: raft,
    async leaderIndex() {
      const st = await Promise.all(members.map((m) => clusterStatus(m, dbName)));
      return st.findIndex((s) => s?.role === 'leader');
    },
    async stop() {
      await Promise.all(members.map((m) => m.stop()));
    },
  };
  await waitUntil(
    async () => {
      const st = await Promise.all(members.map((m) => clusterStatus(m, dbName)));
      const joined = st.every((s) => s?.status === 'cluster member');
      return joined && st.some((s) => s?.role === 'leader');
    },
    { what: `cluster ${opts.name} to elect a leader with all ${size} members joined`, timeoutMs: 30_000 },
  );
  return cluster;
}

/** Waits until some member of the cluster is leader and returns its index. */
export async function waitForLeader(cluster: OvsdbClusterHandle, timeoutMs = 30_000): Promise<number> {
  return waitUntil(
    async () => {
      const i = await cluster.leaderIndex();
      return i >= 0 ? i : undefined;
    },
    { what: 'a cluster leader', timeoutMs, intervalMs: 100 },
  );
}
