/**
 * Seed scenario "natOutgoing" with the agent as a real process on sandbox node1
 * (`--gateway-chassis node1`). Manifests: examples/nat-outgoing (natted-subnet 10.66.0.0/24 in
 * the default VPC ovn-cluster) plus the external subnet `ovn-vpc-external-network`
 * (198.51.100.0/24, VLAN 2017 on ProviderNetwork `tor`, the node's uplink `eth1` — the
 * ProviderNetwork and Vlan of examples/vlan-underlay). The uplink goes to a ToR switch (its own
 * OVS) whose access port (tag 2017) leads to the external host 198.51.100.1, which has no route
 * to 10.66.0.0/24 and runs `python3 -m http.server`, logging each client's address.
 *
 * Design (docs/northbound.md "natOutgoing"): ovn-cluster gets a distributed gateway port on the
 * external subnet with an IPAM-allocated address, bound to the gateway chassis, a default route
 * via 198.51.100.1 and one `snat` per natOutgoing subnet. Checked: the VM's HTTP request reaches
 * the host from the gateway port's address (not the VM's); with natOutgoing false the NAT row
 * is gone and the VM cannot reach the host. HTTP client: curl (busybox wget crashes here).
 * Ports through the local API, called in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  createVmNamespace,
  find,
  hvSync,
  nbRows,
  ping,
  readExample,
  startAgentProcess,
  writeManifest,
  type AgentProcess,
  type Manifest,
} from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';
import { startTor, type Tor } from '../../harness/tor.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('nat');
const HOST = '198.51.100.1';
const URL = `http://${HOST}:8080/`;
let tor: Tor | undefined;
let agent: AgentProcess;
let server: ChildProcess | undefined;
const serverLog: string[] = [];
let vm: PortResult;
let natted: Manifest[];

/** ProviderNetwork `tor` + Vlan 2017 from examples/vlan-underlay, and the external subnet on it. */
async function externalNetwork(): Promise<Manifest[]> {
  const underlay = await readExample('vlan-underlay');
  return [
    find(underlay, 'ProviderNetwork', 'tor'),
    find(underlay, 'Vlan', 'vlan2017'),
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 'ovn-vpc-external-network' },
      spec: {
        cidrBlock: '198.51.100.0/24',
        gateway: HOST,
        excludeIps: ['198.51.100.1..198.51.100.19'],
        vlan: 'vlan2017',
      },
    },
  ];
}

/** One HTTP GET from the VM (curl); true when answered. */
async function get(timeoutS: number): Promise<boolean> {
  const r = await run('curl', ['-sf', '-o', '/dev/null', '--max-time', String(timeoutS), URL], {
    netns: vm.netns,
    reject: false,
    timeoutMs: (timeoutS + 5) * 1000,
  });
  return r.exitCode === 0;
}

/** Client addresses of the requests the host has logged (`<ip> - - [date] "GET …"`). */
const clients = () =>
  serverLog
    .join('')
    .split('\n')
    .map((l) => /^(\S+) - - \[.*"GET /.exec(l)?.[1])
    .filter((ip): ip is string => ip !== undefined);

/** The snat rows of natted-subnet in NB. */
async function snats() {
  return (await nbRows(ctx.sandbox, 'NAT')).filter((n) => n['logical_ip'] === '10.66.0.0/24');
}

beforeAll(async () => {
  const sb = ctx.sandbox;
  tor = await startTor({ dir: path.join(sb.stateDir, 'tor'), netns: `${sb.state.id}-tor` });
  await tor.connectTrunk({ nodeNetns: sb.node().netns, nodeIf: 'eth1', port: 'trunk-n1', vlans: [2017] });
  const extNs = `${sb.state.id}-ext`;
  await tor.addHost({ name: 'ext', netns: extNs, port: 'acc-ext', vlan: 2017, cidrs: [`${HOST}/24`] });
  // nsenter execs the command (the PID is python's) and, unlike `ip netns exec`, keeps no copy
  // of the /run/netns mounts that would hold other tests' deleted namespaces alive.
  server = spawn(
    'nsenter',
    [`--net=/run/netns/${extNs}`, '/usr/bin/python3', '-u', '-m', 'http.server', '8080', '--bind', HOST],
    { cwd: tmp.dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  server.stderr?.on('data', (c: Buffer) => serverLog.push(c.toString()));
  natted = await readExample('nat-outgoing');
  await writeManifest(`${tmp.dir}/manifests`, 'external.yaml', await externalNetwork());
  await writeManifest(`${tmp.dir}/manifests`, 'nat.yaml', natted);
  agent = await startAgentProcess({ sandbox: sb, dir: tmp.dir, args: ['--gateway-chassis', 'node1'] });
  vm = await agent.api.add({ network: 'default/natted', netns: await createVmNamespace(sb, 'natvm') });
});

afterAll(async () => {
  await agent?.stop();
  const pid = server?.pid;
  if (server && pid !== undefined && server.exitCode === null) {
    const exited = new Promise((r) => server?.once('exit', r));
    process.kill(pid, 'SIGTERM');
    await exited;
  }
  await tor?.stop();
});

describe('natOutgoing through the gateway port on the external VLAN subnet', () => {
  let gatewayIp = '';

  it('builds the gateway port on node1 and one snat for natted-subnet', async () => {
    const [nat] = await snats();
    expect(nat).toMatchObject({ type: 'snat' });
    gatewayIp = String(nat?.['external_ip']);
    expect(gatewayIp).toBe('198.51.100.20'); // the first address IPAM hands out (.1-.19 excluded)
    const gwc = await nbRows(ctx.sandbox, 'Gateway_Chassis');
    expect(gwc.map((g) => g['chassis_name'])).toEqual(['node1']);
    const d = await agent.debug();
    expect(d.buildWarnings).toEqual([]);
    expect(d.nodeWork?.last?.problems).toEqual([]);
  });

  it("the VM reaches the external host, which sees the gateway's address, not the VM's", async () => {
    expect(vm.ip).toMatch(/^10\.66\.0\./);
    await hvSync(ctx.sandbox);
    await waitUntil(() => get(1), { what: `HTTP GET ${URL} from the VM`, timeoutMs: 30_000 });
    expect(await ping(vm.netns, HOST)).toBe(true);
    await waitUntil(() => clients().length > 0, { what: 'the request in the server log' });
    expect(new Set(clients())).toEqual(new Set([gatewayIp]));
  });

  it('with natOutgoing false the snat is gone and the VM cannot reach the host', async () => {
    find(natted, 'Subnet', 'natted-subnet').spec['natOutgoing'] = false;
    await writeManifest(agent.manifests, 'nat.yaml', natted);
    await waitUntil(async () => (await snats()).length === 0, {
      what: 'the snat removed',
      timeoutMs: 20_000,
    });
    await hvSync(ctx.sandbox);
    const seen = clients().length;
    expect(await Promise.all([get(2), ping(vm.netns, HOST)])).toEqual([false, false]);
    expect(clients()).toHaveLength(seen);
  });
});
