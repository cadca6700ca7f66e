/**
 * A sandbox "node" (OVN chassis): its own network namespace with a private Open_vSwitch
 * ovsdb-server, `ovs-vswitchd` on the userspace datapath and `ovn-controller`.
 *
 * Recipe (facts established on Debian 12 with
 * OVS 3.1 / OVN 23.03):
 * - no openvswitch kernel module: `ovs-vswitchd --disable-system`, every bridge
 *   `datapath_type=netdev`, vswitchd runs inside the namespace so its taps live there;
 * - OVS_RUNDIR = OVN_RUNDIR = the node directory: ovn-controller finds `br-int.mgmt` there
 *   and names its control socket `ovn-controller.<pid>.ctl` (23.03 rejects `--unixctl`);
 * - br-int (netdev, `fail_mode=secure`) exists before ovn-controller starts;
 * - chassis configuration is the `external_ids` of the Open_vSwitch row
 *   (ovn-controller(8) "Configuration": system-id, ovn-remote, ovn-encap-type/-ip,
 *   ovn-bridge-datapath-type).
 * Multi-node Geneve (an underlay bridge `br-phy` holding the encap IP) is added later on top
 * of {@link ChassisInfo}; nothing here assumes a single node.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SCHEMAS, type ProcessRecord } from './central.js';
import { log } from './log.js';
import { startOvsdbServer } from './ovsdb-server.js';
import { readPidFile, run, stopPid, waitUntil } from './process.js';

/** Everything needed to talk to one chassis; JSON-serialisable (stored in the state file). */
export interface ChassisInfo {
  /** Node name = OVN chassis name = `external_ids:system-id`. */
  name: string;
  netns: string;
  encapIp: string;
  /** OVS_RUNDIR / OVN_RUNDIR / logs / conf.db of this node. */
  dir: string;
  /** `unix:` remote of the node's Open_vSwitch database. */
  ovsRemote: string;
  pids: { ovsdb: number; vswitchd: number; controller: number };
  vswitchdCtl: string;
  controllerCtl: string;
}

export interface ChassisOptions {
  name: string;
  /** Network namespace to create (must not exist). */
  netns: string;
  /** Node directory (created). */
  dir: string;
  encapIp: string;
  /** SB remote(s) for `ovn-remote` (unix remotes: the namespace has its own loopback). */
  sbDb: string;
  /** Called right before the namespace is created, so it can be recorded for cleanup. */
  onNamespace?: (netns: string) => Promise<void> | void;
  /** Called as soon as each daemon runs. */
  onProcess?: (procs: ProcessRecord[]) => Promise<void> | void;
}

/** Arguments selecting a node's Open_vSwitch database for `ovs-vsctl`, with a timeout. */
export function vsctlArgs(node: Pick<ChassisInfo, 'ovsRemote'>): string[] {
  return [`--db=${node.ovsRemote}`, '--timeout=20'];
}

/** Runs `ovs-vsctl` against a node's database. */
export async function vsctl(node: Pick<ChassisInfo, 'ovsRemote'>, args: string[]): Promise<string> {
  return (await run('ovs-vsctl', [...vsctlArgs(node), ...args])).stdout;
}

/** Runs `ovs-ofctl <cmd> br-int ...` through the node's `br-int.mgmt` socket. */
export async function ofctl(
  node: Pick<ChassisInfo, 'dir'>,
  cmd: string,
  args: string[] = [],
): Promise<string> {
  return (await run('ovs-ofctl', [cmd, `unix:${path.join(node.dir, 'br-int.mgmt')}`, ...args])).stdout;
}

/** Starts a chassis; resolves once the SB has its Chassis row and br-int has OpenFlow flows. */
export async function startChassis(opts: ChassisOptions): Promise<ChassisInfo> {
  const t0 = Date.now();
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  await opts.onNamespace?.(opts.netns);
  await run('ip', ['netns', 'add', opts.netns]);
  await run('ip', ['-n', opts.netns, 'link', 'set', 'lo', 'up']);
  const env = { OVS_RUNDIR: dir, OVN_RUNDIR: dir, OVS_LOGDIR: dir, OVN_LOGDIR: dir, OVS_DBDIR: dir };
  const started: number[] = [];
  const record = async (name: string, pid: number) => {
    started.push(pid);
    await opts.onProcess?.([{ name: `${opts.name}/${name}`, pid }]);
  };
  try {
    const db = await startOvsdbServer({ dir, name: 'conf', schema: SCHEMAS.vswitch, netns: opts.netns });
    await record('ovsdb-server', db.pid);
    const node = { ovsRemote: db.unixRemote };
    // One transaction, before vswitchd/ovn-controller run: chassis identity and br-int.
    await vsctl(node, [
      '--no-wait',
      'init',
      '--',
      'set',
      'open_vswitch',
      '.',
      `external_ids:system-id=${opts.name}`,
      `external_ids:hostname=${opts.name}`,
      `external_ids:ovn-remote=${opts.sbDb}`,
      'external_ids:ovn-encap-type=geneve',
      `external_ids:ovn-encap-ip=${opts.encapIp}`,
      'external_ids:ovn-bridge-datapath-type=netdev',
      '--',
      '--may-exist',
      'add-br',
      'br-int',
      '--',
      'set',
      'bridge',
      'br-int',
      'datapath_type=netdev',
      'fail_mode=secure',
      'other-config:disable-in-band=true',
    ]);
    const vswitchdPid = path.join(dir, 'ovs-vswitchd.pid');
    const vswitchdCtl = path.join(dir, 'ovs-vswitchd.ctl');
    await run(
      'ovs-vswitchd',
      [
        '--disable-system',
        '--detach',
        '--no-chdir',
        `--pidfile=${vswitchdPid}`,
        `--unixctl=${vswitchdCtl}`,
        `--log-file=${path.join(dir, 'ovs-vswitchd.log')}`,
        db.unixRemote,
      ],
      { netns: opts.netns, env },
    );
    const vswitchd = await readPidFile(vswitchdPid);
    await record('ovs-vswitchd', vswitchd);
    const controllerPid = path.join(dir, 'ovn-controller.pid');
    await run(
      'ovn-controller',
      [
        '--detach',
        '--no-chdir',
        `--pidfile=${controllerPid}`,
        `--log-file=${path.join(dir, 'ovn-controller.log')}`,
        db.unixRemote,
      ],
      { netns: opts.netns, env },
    );
    const controller = await readPidFile(controllerPid);
    await record('ovn-controller', controller);
    const info: ChassisInfo = {
      name: opts.name,
      netns: opts.netns,
      encapIp: opts.encapIp,
      dir,
      ovsRemote: db.unixRemote,
      pids: { ovsdb: db.pid, vswitchd, controller },
      vswitchdCtl,
      controllerCtl: path.join(dir, `ovn-controller.${controller}.ctl`),
    };
    await waitChassisReady(info, opts.sbDb);
    log.info({ node: opts.name, netns: opts.netns, ms: Date.now() - t0 }, 'chassis ready');
    return info;
  } catch (err) {
    for (const pid of started.reverse()) await stopPid(pid);
    await run('ip', ['netns', 'del', opts.netns], { reject: false });
    throw err;
  }
}

/** Waits for the SB Chassis row named after the node and for flows on br-int. */
export async function waitChassisReady(info: ChassisInfo, sbDb: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      const out = await run('ovn-sbctl', [
        `--db=${sbDb}`,
        '--timeout=5',
        '--bare',
        '--columns=name',
        'list',
        'chassis',
      ]);
      return out.stdout.split('\n').some((l) => l.trim() === info.name);
    },
    { what: `SB Chassis row ${info.name}`, timeoutMs },
  );
  await waitUntil(async () => (await ofctl(info, 'dump-flows')).includes('table='), {
    what: `OpenFlow flows on br-int of ${info.name}`,
    timeoutMs,
  });
}

/** Stops a chassis' daemons (ovn-controller first) and deletes its namespace; tolerant of partial state. */
export async function stopChassis(info: Pick<ChassisInfo, 'pids' | 'netns'>): Promise<void> {
  await stopPid(info.pids.controller);
  await stopPid(info.pids.vswitchd);
  await stopPid(info.pids.ovsdb);
  await run('ip', ['netns', 'del', info.netns], { reject: false });
}
