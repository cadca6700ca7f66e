/**
 * The peer: a port attached the way shell-driven CNI agents do it — one process per command,
 * the address picked by the script (no IPAM), nothing cached between ports:
 *
 * 1. `ovn-nbctl lsp-add <ls> <lsp>`, 2. `ovn-nbctl lsp-set-addresses <lsp> "<mac> <ip>"`;
 * 3. `ip link add <host> type veth peer name <tmp>` (in the node's namespace),
 *    `ip link set <tmp> netns <vm>`, `ip link set <tmp> name eth0 address <mac> mtu 1400`,
 *    `ip addr add`, `ip link set eth0 up`, `ip route add default via <gw>`,
 *    `ethtool -K eth0 tx off` (ip netns exec), `ip link set <host> up`;
 * 4. `ovs-vsctl add-port br-int <host> -- set interface <host> external_ids:iface-id=<lsp>`
 *    (without `--no-wait`: it returns once ovs-vswitchd applied the change);
 * 5. `ovn-sbctl wait-until Port_Binding <lsp> up=true` — the Southbound `up` column that
 *    ovn-controller sets once the port's flows are installed (ovn-sb(5)), the same condition our
 *    agent waits for. `wait-until` monitors the row rather than polling with `get` in a loop,
 *    which is the faster of the two shell options (`--wait=hv` on the NB side would not cover
 *    the OVS port added after it).
 *
 * Every step's wall time is recorded under its name (`lsp-add`, `veth`, …) for the breakdown.
 */
import { run } from '../../agent/sandbox/process.js';
import type { Sandbox } from '../../agent/sandbox/sandbox.js';
import type { PortDriver, PortOutcome, PortSpec } from './measure.js';
import { PORT_MTU, SUBNETS, shellAddress, shellTopologyArgs } from './topology.js';

export interface ShellDriver extends PortDriver {
  /** Processes started so far (every command counts one). */
  readonly processes: number;
}

/** Creates the router and switches (not timed) and returns the driver. */
export async function createShellDriver(sandbox: Sandbox): Promise<ShellDriver> {
  const nbDb = sandbox.state.nb!.db;
  const sbDb = sandbox.state.sb!.db;
  const node = sandbox.node('node1');
  await run('ovn-nbctl', [`--db=${nbDb}`, '--timeout=30', ...shellTopologyArgs()]);
  let processes = 0;

  const timed = async (steps: Record<string, number>, key: string, fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    steps[key] = Math.round(((steps[key] ?? 0) + performance.now() - t) * 10) / 10;
  };
  const cmd = (file: string, args: string[], netns?: string) => {
    processes++;
    return run(file, args, { timeoutMs: 60_000, ...(netns ? { netns } : {}) });
  };
  const nbctl = (...args: string[]) => cmd('ovn-nbctl', [`--db=${nbDb}`, '--timeout=30', ...args]);
  const ip = (netns: string, ...args: string[]) => cmd('ip', ['-n', netns, ...args]);

  async function addPort(spec: PortSpec): Promise<PortOutcome> {
    const steps: Record<string, number> = {};
    const ls = SUBNETS[spec.subnet]!.name;
    const lsp = `${spec.netns}.${ls}`;
    const { ip: addr, mac, cidr } = shellAddress(spec);
    const host = `hs${spec.index.toString(16).padStart(6, '0')}`;
    const tmp = `ps${spec.index.toString(16).padStart(6, '0')}`;
    const vm = spec.netns;

    await timed(steps, 'lsp-add', () => nbctl('lsp-add', ls, lsp));
    await timed(steps, 'lsp-set-addresses', () => nbctl('lsp-set-addresses', lsp, `${mac} ${addr}`));
    await timed(steps, 'veth', async () => {
      await ip(node.netns, 'link', 'add', host, 'mtu', String(PORT_MTU), 'type', 'veth', 'peer', 'name', tmp);
      await ip(node.netns, 'link', 'set', tmp, 'netns', vm);
      await ip(vm, 'link', 'set', tmp, 'name', 'eth0', 'address', mac, 'mtu', String(PORT_MTU));
      await ip(vm, 'addr', 'add', cidr, 'dev', 'eth0');
      await ip(vm, 'link', 'set', 'eth0', 'up');
      await ip(vm, 'route', 'add', 'default', 'via', spec.gateway);
      await cmd('ethtool', ['-K', 'eth0', 'tx', 'off'], vm);
      await ip(node.netns, 'link', 'set', host, 'up');
    });
    await timed(steps, 'ovs-vsctl', () =>
      cmd('ovs-vsctl', [
        `--db=${node.ovsRemote}`,
        '--timeout=30',
        'add-port',
        'br-int',
        host,
        '--',
        'set',
        'Interface',
        host,
        `external_ids:iface-id=${lsp}`,
      ]),
    );
    await timed(steps, 'sb-wait-up', () =>
      cmd('ovn-sbctl', [`--db=${sbDb}`, '--timeout=60', 'wait-until', 'Port_Binding', lsp, 'up=true']),
    );
    return { ip: addr, steps };
  }

  return {
    id: 'shell',
    addPort,
    get processes() {
      return processes;
    },
  };
}
