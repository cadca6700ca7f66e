/**
 * The peer: a port attached the way shell-driven CNI agents do it, by `./shell-attach.sh` — a
 * bash script run once per port (as a CNI binary would be), which forks one process per command
 * with the address picked by the bench (no IPAM) and nothing cached between ports:
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
 *    agent waits for. `wait-until` monitors the row rather than polling `get` in a loop, the
 *    faster of the two shell options (`--wait=hv` on the NB side would not cover the OVS port
 *    added after it).
 *
 * bash rather than one Node spawn per command: measured here, a command costs ~1.6 ms forked
 * by bash and ~5 ms through execa, which would charge Node's spawn overhead to the shell side.
 * The script prints each step's wall time (`<step> <ms>`) for the breakdown.
 */
import path from 'node:path';
import { run } from '../../agent/sandbox/process.js';
import type { Sandbox } from '../../agent/sandbox/sandbox.js';
import type { PortDriver, PortOutcome, PortSpec } from './measure.js';
import { PORT_MTU, SUBNETS, shellAddress, shellTopologyArgs } from './topology.js';

const SCRIPT = path.join(import.meta.dirname, 'shell-attach.sh');
/** Processes per port: bash plus the 12 commands it runs. */
export const SHELL_PROCESSES_PER_PORT = 13;

/** Creates the router and switches (not timed) and returns the driver. */
export async function createShellDriver(sandbox: Sandbox): Promise<PortDriver> {
  const nbDb = sandbox.state.nb!.db;
  const sbDb = sandbox.state.sb!.db;
  const node = sandbox.node('node1');
  await run('ovn-nbctl', [`--db=${nbDb}`, '--timeout=30', ...shellTopologyArgs()]);

  async function addPort(spec: PortSpec): Promise<PortOutcome> {
    const ls = SUBNETS[spec.subnet]!.name;
    const { ip, mac, cidr } = shellAddress(spec);
    const hex = spec.index.toString(16).padStart(6, '0');
    const out = await run(
      'bash',
      [
        SCRIPT,
        nbDb,
        sbDb,
        node.ovsRemote,
        node.netns,
        spec.netns,
        ls,
        `${spec.netns}.${ls}`,
        mac,
        cidr,
        spec.gateway,
        `hs${hex}`,
        `ps${hex}`,
        String(PORT_MTU),
      ],
      { timeoutMs: 120_000 },
    );
    const steps: Record<string, number> = {};
    for (const line of out.stdout.split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v) steps[k] = Number(v);
    }
    return { ip, steps };
  }

  return { id: 'shell', addPort };
}
