/**
 * The sandbox's OVN control plane ("ovn-central"): Northbound and Southbound ovsdb-servers
 * (standalone, or 3-member RAFT clusters) plus `ovn-northd`, all as plain detached processes
 * in a private directory. Ready when `ovn-nbctl --wait=sb sync` returns, i.e. northd has
 * translated NB into SB (ovn-nbctl(8) "--wait").
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { log } from './log.js';
import { startOvsdbCluster, startOvsdbServer, type OvsdbServerHandle } from './ovsdb-server.js';
import { readPidFile, run, stopPid } from './process.js';

/** Schemas shipped by the Debian packages (ovn-common, openvswitch-common). */
export const SCHEMAS = {
  nb: '/usr/share/ovn/ovn-nb.ovsschema',
  sb: '/usr/share/ovn/ovn-sb.ovsschema',
  vswitch: '/usr/share/openvswitch/vswitch.ovsschema',
} as const;

/** Endpoints of one OVN database (standalone or clustered). */
export interface DbEndpoints {
  /** Unix remotes, one per member (usable from any network namespace on this host). */
  unix: string[];
  /** TCP remotes on 127.0.0.1, one per member (root network namespace only). */
  tcp: string[];
  /** Value for `--db=` / `ovn-remote`: the unix remotes joined by commas. */
  db: string;
  /** The ovsdb-server processes. */
  members: { name: string; pid: number; ctlPath: string; logPath: string; dbPath: string }[];
}

/** A process the sandbox started, as recorded in the state file. */
export interface ProcessRecord {
  name: string;
  pid: number;
}

export interface CentralOptions {
  dir: string;
  clustered?: boolean;
  /** Called as soon as each process (or cluster) is up, so its PID can be recorded. */
  onProcess?: (procs: ProcessRecord[]) => Promise<void> | void;
}

export interface CentralHandle {
  nb: DbEndpoints;
  sb: DbEndpoints;
  northd: { pid: number; ctlPath: string; logPath: string };
  servers: OvsdbServerHandle[];
  stop(): Promise<void>;
}

function endpoints(members: OvsdbServerHandle[]): DbEndpoints {
  const unix = members.map((m) => m.unixRemote);
  return {
    unix,
    tcp: members.flatMap((m) => (m.tcpRemote ? [m.tcpRemote] : [])),
    db: unix.join(','),
    members: members.map((m) => ({
      name: m.name,
      pid: m.pid,
      ctlPath: m.ctlPath,
      logPath: m.logPath,
      dbPath: m.dbPath,
    })),
  };
}

async function startDb(dir: string, name: 'nb' | 'sb', clustered: boolean): Promise<OvsdbServerHandle[]> {
  if (clustered) return (await startOvsdbCluster({ dir, name, schema: SCHEMAS[name], tcp: true })).members;
  return [await startOvsdbServer({ dir, name, schema: SCHEMAS[name], tcp: true })];
}

/** Starts NB, SB and ovn-northd in `dir`; resolves when `ovn-nbctl --wait=sb sync` succeeds. */
export async function startCentral(opts: CentralOptions): Promise<CentralHandle> {
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const servers: OvsdbServerHandle[] = [];
  const record = async (hs: { name: string; pid: number }[]) =>
    opts.onProcess?.(hs.map((h) => ({ name: h.name, pid: h.pid })));
  const t0 = Date.now();
  let northdPid: number | undefined;
  try {
    const [nbServers, sbServers] = await Promise.all(
      (['nb', 'sb'] as const).map(async (n) => {
        const hs = await startDb(dir, n, opts.clustered ?? false);
        servers.push(...hs);
        await record(hs.map((h) => ({ name: `central/${h.name}`, pid: h.pid })));
        return hs;
      }),
    );
    const nb = endpoints(nbServers!);
    const sb = endpoints(sbServers!);
    const northd = {
      pidPath: path.join(dir, 'ovn-northd.pid'),
      ctlPath: path.join(dir, 'ovn-northd.ctl'),
      logPath: path.join(dir, 'ovn-northd.log'),
    };
    await run('ovn-northd', [
      '--detach',
      '--no-chdir',
      `--pidfile=${northd.pidPath}`,
      `--unixctl=${northd.ctlPath}`,
      `--log-file=${northd.logPath}`,
      `--ovnnb-db=${nb.db}`,
      `--ovnsb-db=${sb.db}`,
    ]);
    const pid = await readPidFile(northd.pidPath);
    northdPid = pid;
    await record([{ name: 'central/ovn-northd', pid }]);
    await run('ovn-nbctl', [`--db=${nb.db}`, '--timeout=30', '--wait=sb', 'sync'], { timeoutMs: 35_000 });
    log.info({ clustered: opts.clustered ?? false, ms: Date.now() - t0 }, 'ovn-central ready');
    return {
      nb,
      sb,
      northd: { pid, ctlPath: northd.ctlPath, logPath: northd.logPath },
      servers,
      async stop() {
        await stopPid(pid);
        await Promise.all(servers.map((s) => s.stop()));
      },
    };
  } catch (err) {
    if (northdPid !== undefined) await stopPid(northdPid);
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
}
