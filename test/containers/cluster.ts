/**
 * An OVN deployment in real containers, shaped like a cluster: ovn-central in a container of
 * its own, and "nodes". A node is a network namespace the test makes (the node's host
 * network), a run directory of its own (the node's /run/openvswitch and /run/ovn), a chassis
 * container (ovsdb-server, ovs-vswitchd on the userspace datapath, ovn-controller) and the
 * agent's image run as its DaemonSet pod runs it: privileged, in the node's network
 * namespace, with the node's /run/openvswitch, /run/ovn and the host's /run/netns
 * (rshared) mounted.
 *
 * Central's namespace holds two Linux bridges, and every node's namespace is joined to each by a
 * veth: `eth0` to the management network (198.18.0.0/24: NB, SB), `ul0` to the tunnel underlay
 * (198.19.0.0/24; both RFC 2544 ranges). On a node, `ul0` is a port of the netdev bridge `br-phy`,
 * whose internal port holds the Geneve encap IP: the userspace datapath sends its tunnels
 * itself. Nothing touches the host's own network, and nothing is published.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../agent/sandbox/process.js';
import { type Images, logsOf, podman, runContainer } from './podman.js';

/** Port of the agent's --listen (/healthz, /readyz, /metrics): the DaemonSet's metrics port. */
export const AGENT_HTTP_PORT = 9470;
const CENTRAL_IP = '198.18.0.1';
/** Management network (eth0) and tunnel underlay (ul0) addresses of node `i` ≥ 1. */
const nodeIp = (i: number) => `198.18.0.${i + 1}`;
const encapIp = (i: number) => `198.19.0.${i + 1}`;
/** br-phy's MAC, pinned so that every node can seed its peers' tunnel neighbours. */
const encapMac = (i: number) => `02:00:c6:13:00:${(i + 1).toString(16).padStart(2, '0')}`;
const NB = `tcp:${CENTRAL_IP}:6641`;
const SB = `tcp:${CENTRAL_IP}:6642`;

export interface ClusterOptions {
  images: Images;
  /** Prefix of every namespace and container name (the caller removes them by it). */
  prefix: string;
  /** A directory of this test's own (run directories, manifests). */
  dir: string;
}

export interface ContainerNode {
  name: string;
  /** The node's network namespace (its "host network"). */
  netns: string;
  chassisContainer: string;
  agentContainer: string;
  /** The node's run directory on the host: its /run/openvswitch and /run/ovn are under it. */
  runDir: string;
}

/** Polls `check` until it returns a value; fails after `timeoutMs` with `describe()`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; describe?: () => Promise<string> },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${opts.timeoutMs} ms waiting for ${what}\n${(await opts.describe?.()) ?? ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ip = (args: string[]) => run('ip', args);

/** Starts ovn-central (NB, SB, northd) listening on the underlay. */
export async function startCentral(opts: ClusterOptions): Promise<{ netns: string; container: string }> {
  const netns = `${opts.prefix}central`;
  await ip(['netns', 'add', netns]);
  await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
  for (const br of ['br-mgmt', 'br-ul']) {
    await ip(['-n', netns, 'link', 'add', br, 'type', 'bridge']);
    await ip(['-n', netns, 'link', 'set', br, 'up']);
  }
  await ip(['-n', netns, 'addr', 'add', `${CENTRAL_IP}/24`, 'dev', 'br-mgmt']);
  const container = `${opts.prefix}central`;
  await runContainer([
    '--name',
    container,
    `--network=ns:/run/netns/${netns}`,
    opts.images.ovn,
    'bash',
    '-ec',
    '/usr/share/ovn/scripts/ovn-ctl start_northd --db-nb-create-insecure-remote=yes --db-sb-create-insecure-remote=yes; exec sleep infinity',
  ]);
  return { netns, container };
}

/** The chassis' start: OVS on the userspace datapath, br-phy on the underlay, br-int, ovn-controller. */
function chassisScript(node: string, i: number, peers: number[]): string {
  return [
    'set -e',
    'rm -f /etc/openvswitch/conf.db',
    'ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema',
    'ovsdb-server --remote=punix:/run/openvswitch/db.sock --pidfile --detach --log-file /etc/openvswitch/conf.db',
    'ovs-vsctl --no-wait init',
    `ovs-vsctl --no-wait set Open_vSwitch . external_ids:system-id=${node} external_ids:ovn-remote=${SB}` +
      ` external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=${encapIp(i)}` +
      ' external_ids:ovn-bridge-datapath-type=netdev',
    // br-int before ovn-controller, or it waits a reconnect interval for it.
    'ovs-vsctl --no-wait add-br br-int -- set Bridge br-int datapath_type=netdev fail_mode=secure other-config:disable-in-band=true',
    // The underlay: room for the Geneve header (MTU 1600), the encap IP on br-phy's internal port.
    `ovs-vsctl --no-wait add-br br-phy -- set Bridge br-phy datapath_type=netdev other-config:hwaddr=${encapMac(i)}` +
      ' -- add-port br-phy ul0 -- set Interface ul0 mtu_request=1600',
    // No kernel openvswitch module: the userspace datapath only.
    'ovs-vswitchd --disable-system --pidfile --detach --log-file',
    'for n in $(seq 100); do ip link show br-phy >/dev/null 2>&1 && break; sleep 0.1; done',
    `ip addr add ${encapIp(i)}/24 dev br-phy`,
    'ip link set br-phy up',
    // Seed the tunnel neighbours, or the first packets to a peer are lost to ARP resolution.
    'for n in $(seq 100); do ovs-appctl ovs/route/show | grep -q "dev br-phy" && break; sleep 0.1; done',
    ...peers.map((j) => `ovs-appctl tnl/neigh/set br-phy ${encapIp(j)} ${encapMac(j)}`),
    'ovn-controller --pidfile --detach --log-file unix:/run/openvswitch/db.sock',
    'exec sleep infinity',
  ].join('\n');
}

/** Makes node `i`'s namespace (≥ 1), joined to central's management network and underlay. */
export async function addNodeNetwork(
  opts: ClusterOptions,
  central: { netns: string },
  name: string,
  i: number,
): Promise<string> {
  const netns = `${opts.prefix}${name}`;
  await ip(['netns', 'add', netns]);
  await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
  for (const [dev, br, suffix] of [
    ['eth0', 'br-mgmt', 'm'],
    ['ul0', 'br-ul', 'u'],
  ] as const) {
    const outer = `${name}${suffix}`;
    await ip([
      '-n',
      central.netns,
      'link',
      'add',
      outer,
      'type',
      'veth',
      'peer',
      'name',
      dev,
      'netns',
      netns,
    ]);
    await ip(['-n', central.netns, 'link', 'set', outer, 'mtu', '1600', 'master', br, 'up']);
    await ip(['-n', netns, 'link', 'set', dev, 'mtu', '1600', 'up']);
  }
  await ip(['-n', netns, 'addr', 'add', `${nodeIp(i)}/24`, 'dev', 'eth0']);
  return netns;
}

/**
 * Starts node `name` (index `i` ≥ 1; its network made by {@link addNodeNetwork}): the chassis
 * container, tunnelling to the nodes `peers`, and the agent container reading `manifests` (a
 * directory, mounted read-only).
 */
export async function startNode(
  opts: ClusterOptions,
  name: string,
  i: number,
  peers: number[],
  manifests: string,
): Promise<ContainerNode> {
  const netns = `${opts.prefix}${name}`;
  const run = path.join(opts.dir, name);
  const mounts = ['openvswitch', 'ovn'].flatMap((d) => ['--volume', `${path.join(run, d)}:/run/${d}`]);
  for (const d of ['openvswitch', 'ovn']) await mkdir(path.join(run, d), { recursive: true });

  const chassisContainer = `${opts.prefix}${name}-chassis`;
  await runContainer([
    '--name',
    chassisContainer,
    '--privileged',
    `--network=ns:/run/netns/${netns}`,
    ...mounts,
    opts.images.ovn,
    'bash',
    '-c',
    chassisScript(name, i, peers),
  ]);

  // As deploy/daemonset.yaml runs it: privileged, the node's network, its /run/openvswitch and
  // /run/ovn, the host's /run/netns with propagation both ways.
  const agentContainer = `${opts.prefix}${name}-agent`;
  await runContainer([
    '--name',
    agentContainer,
    '--privileged',
    `--network=ns:/run/netns/${netns}`,
    ...mounts,
    '--volume',
    '/run/netns:/run/netns:rshared',
    '--volume',
    `${manifests}:/etc/vpc-agent/manifests:ro`,
    // No timer for the image's HEALTHCHECK (no systemd here); the test runs it on demand.
    '--health-interval=disable',
    opts.images.agent,
    'run',
    '--manifests=/etc/vpc-agent/manifests',
    `--nb=${NB}`,
    `--sb=${SB}`,
    '--ovs=unix:/run/openvswitch/db.sock',
    `--node=${name}`,
    `--listen=127.0.0.1:${AGENT_HTTP_PORT}`,
  ]);
  return { name, netns, chassisContainer, agentContainer, runDir: run };
}

/** The HTTP status of `GET <path>` on a node's agent (curl in the node's namespace); 0 if none. */
export async function agentHttpStatus(node: ContainerNode, urlPath: string): Promise<number> {
  const r = await run(
    'curl',
    [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '2',
      `http://127.0.0.1:${AGENT_HTTP_PORT}${urlPath}`,
    ],
    { netns: node.netns, reject: false },
  );
  return Number(r.stdout.trim()) || 0;
}

/** Waits until the node's chassis is registered in the Southbound and its agent is ready. */
export async function waitNodeReady(node: ContainerNode, timeoutMs: number): Promise<void> {
  const describe = async () =>
    (await logsOf(node.chassisContainer)) + '\n' + (await logsOf(node.agentContainer));
  await waitFor(
    `chassis ${node.name} in the Southbound`,
    async () => {
      const r = await run(
        'ovn-sbctl',
        [`--db=${SB}`, '--timeout=2', '--bare', '--columns=name', 'find', 'Chassis', `name=${node.name}`],
        {
          netns: node.netns,
          reject: false,
        },
      );
      return r.stdout.trim() === node.name ? true : undefined;
    },
    { timeoutMs, describe },
  );
  await waitFor(
    `the agent of ${node.name} to be ready`,
    async () => ((await agentHttpStatus(node, '/readyz')) === 200 ? true : undefined),
    { timeoutMs, describe },
  );
}

/** Copies manifest texts into `<dir>/manifests` for the agents to mount. */
export async function writeManifests(dir: string, files: Record<string, string>): Promise<string> {
  const out = path.join(dir, 'manifests');
  await mkdir(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(out, name), text);
  return out;
}

/** `podman exec <container> …args`. */
export async function execIn(
  container: string,
  args: string[],
  opts: { reject?: boolean; input?: string } = {},
) {
  return podman(['exec', ...(opts.input === undefined ? [] : ['--interactive']), container, ...args], opts);
}
