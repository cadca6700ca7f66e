/**
 * A "top-of-rack" switch for VLAN tests: its own network namespace with a private Open_vSwitch
 * (ovsdb-server + ovs-vswitchd on the userspace datapath) and one bridge `br-tor`. This kernel
 * has no 802.1Q module, so VLANs live in the switch: trunk ports towards nodes, access ports (`tag`) towards "external hosts", which are
 * plain namespaces with an untagged `eth0` (ovs-vswitchd.conf.db(5) "Port tag/trunks").
 *
 * Put `dir` under a sandbox's state directory and give `netns` the sandbox id prefix: then
 * `destroySandbox` also reaps it if a test dies before {@link Tor.stop}.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SCHEMAS } from '../../agent/sandbox/central.js';
import { startOvsdbServer } from '../../agent/sandbox/ovsdb-server.js';
import { addVethPair, readPidFile, run, stopPid } from '../../agent/sandbox/process.js';

export const TOR_BRIDGE = 'br-tor';

export interface TorOptions {
  /** Private directory (created). */
  dir: string;
  /** Namespace to create for the switch. */
  netns: string;
}

export interface Tor {
  readonly netns: string;
  readonly ovsRemote: string;
  /** Veth `nodeIf` in `nodeNetns` ↔ trunk port on br-tor carrying `vlans`. */
  connectTrunk(opts: { nodeNetns: string; nodeIf: string; port: string; vlans: number[] }): Promise<void>;
  /** A host namespace whose `eth0` (address `cidr`) sits on an access port of `vlan`. */
  addHost(opts: { name: string; netns: string; port: string; vlan: number; cidrs: string[] }): Promise<void>;
  /** `ovs-appctl fdb/show br-tor` rows: port, VLAN, MAC. */
  fdb(): Promise<{ port: number; vlan: number; mac: string }[]>;
  vsctl(...args: string[]): Promise<string>;
  /** Stops the daemons and deletes the switch's and its hosts' namespaces. Idempotent. */
  stop(): Promise<void>;
}

export async function startTor(opts: TorOptions): Promise<Tor> {
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const namespaces = [opts.netns];
  const pids: number[] = [];
  await run('ip', ['netns', 'add', opts.netns]);
  const stop = async () => {
    for (const pid of pids.splice(0).reverse()) await stopPid(pid);
    for (const ns of namespaces.splice(0)) await run('ip', ['netns', 'del', ns], { reject: false });
  };
  try {
    await run('ip', ['-n', opts.netns, 'link', 'set', 'lo', 'up']);
    const db = await startOvsdbServer({ dir, name: 'conf', schema: SCHEMAS.vswitch, netns: opts.netns });
    pids.push(db.pid);
    const vsctl = async (...args: string[]) =>
      (await run('ovs-vsctl', [`--db=${db.unixRemote}`, '--timeout=20', ...args])).stdout.trim();
    await vsctl('--no-wait', 'init');
    const env = { OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
    const pidFile = path.join(dir, 'ovs-vswitchd.pid');
    const ctl = path.join(dir, 'ovs-vswitchd.ctl');
    await run(
      'ovs-vswitchd',
      [
        '--disable-system',
        '--detach',
        '--no-chdir',
        `--pidfile=${pidFile}`,
        `--unixctl=${ctl}`,
        `--log-file=${path.join(dir, 'ovs-vswitchd.log')}`,
        db.unixRemote,
      ],
      { netns: opts.netns, env },
    );
    pids.push(await readPidFile(pidFile));
    // Without --no-wait, ovs-vsctl returns once vswitchd has applied the change.
    await vsctl('add-br', TOR_BRIDGE, '--', 'set', 'bridge', TOR_BRIDGE, 'datapath_type=netdev');

    const tor: Tor = {
      netns: opts.netns,
      ovsRemote: db.unixRemote,
      vsctl,
      async connectTrunk(t) {
        await run('ip', [
          '-n',
          t.nodeNetns,
          'link',
          'add',
          t.nodeIf,
          'type',
          'veth',
          'peer',
          'name',
          t.port,
          'netns',
          opts.netns,
        ]);
        await run('ip', ['-n', t.nodeNetns, 'link', 'set', t.nodeIf, 'up']);
        await run('ip', ['-n', opts.netns, 'link', 'set', t.port, 'up']);
        await vsctl(
          'add-port',
          TOR_BRIDGE,
          t.port,
          '--',
          'set',
          'port',
          t.port,
          `trunks=${t.vlans.join(',')}`,
        );
      },
      async addHost(h) {
        namespaces.push(h.netns);
        await run('ip', ['netns', 'add', h.netns]);
        await run('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
        await addVethPair(opts.netns, h.port, h.netns, 'eth0');
        for (const c of h.cidrs) await run('ip', ['-n', h.netns, 'addr', 'add', c, 'dev', 'eth0']);
        await run('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
        // Partial checksums from a veth would reach the userspace datapath (see vm.ts).
        await run('ethtool', ['-K', 'eth0', 'tx', 'off'], { netns: h.netns });
        await run('ip', ['-n', opts.netns, 'link', 'set', h.port, 'up']);
        await vsctl('add-port', TOR_BRIDGE, h.port, `tag=${h.vlan}`);
      },
      async fdb() {
        const out = (await run('ovs-appctl', [`--target=${ctl}`, 'fdb/show', TOR_BRIDGE])).stdout;
        const rows: { port: number; vlan: number; mac: string }[] = [];
        for (const line of out.split('\n').slice(1)) {
          const m = /^\s*(\d+)\s+(\d+)\s+([0-9a-f:]{17})/i.exec(line);
          if (m) rows.push({ port: Number(m[1]), vlan: Number(m[2]), mac: (m[3] as string).toLowerCase() });
        }
        return rows;
      },
      stop,
    };
    return tor;
  } catch (err) {
    await stop();
    throw err;
  }
}
