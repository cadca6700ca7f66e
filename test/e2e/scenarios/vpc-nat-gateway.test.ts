/**
 * Seed scenario "VPC NAT gateway" end to end, with the agent as a real process on sandbox
 * node1: examples/vpc-nat-gateway (vpc-nat, natgw-lan-subnet 172.30.10.0/24, gateway gw1 with
 * lanIp 172.30.10.254, SNAT of the subnet, DNAT EIP:8888 → 172.30.10.20:80) with its external
 * network moved to 203.0.113.0/24: the node's NIC `eth1` (the NAD's `master`) is a veth to an
 * "external host" namespace, 203.0.113.1, which has no route to 172.30.0.0/16.
 *
 * Checked: the gateway runs on node1 (its lock), its namespace holds net1 (an OVN port with
 * lanIp) and net2 (the EIP); the VM — which keeps 172.30.10.1 as its gateway — reaches the host
 * by HTTP and ICMP, and the host sees the EIP; the host reaches the VM's web server at
 * EIP:8888; a second VM is reached at, and leaves from, its floating IP; the node reaches the
 * DNAT service on the EIP; after the namespace is deleted by hand (a gratuitous ARP for each
 * EIP, request and reply, is seen on the external segment), after `nft flush ruleset` in it,
 * after an agent restart and after a node "reboot" (agent down, every namespace, veth and OVS
 * port gone), SNAT and DNAT work again with the same EIP; deleting a DNAT rule closes its port
 * and cuts an established session through it; deleting the gateway's resources leaves no
 * namespace behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { addVethPair, run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  cleanUpAgent,
  createVmNamespace,
  find,
  hvSync,
  ping,
  readExample,
  startAgentProcess,
  writeManifest,
  type AgentProcess,
  type Manifest,
} from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';
import { captureArp, startEchoServer, startSession, stopAll } from '../../harness/nat.js';
import { promtoolCheckMetrics, sampleValue } from '../../harness/node-metrics.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('natgw');
const HOST = '203.0.113.1';
const EIP = '203.0.113.200';
const VM_IP = '172.30.10.20';
const FIP = '203.0.113.201';
const NODE_EXT_IP = '203.0.113.2';
const GW_NETNS = '/run/netns/vpc-nat-gw-gw1';
const VM2_IP = '172.30.10.21';
let agent: AgentProcess;
let extNs = '';
let vm: PortResult;
let vm2: PortResult;
let docs: Manifest[];
let vmServer: ChildProcess;
const ECHO_PORT = 7777;
const servers: ChildProcess[] = [];
const hostLog: string[] = [];

/**
 * An HTTP server in `netns` on `ip:port` serving `dir`: python's for the external host (its log
 * names each client), busybox httpd in the VMs — python's looks its own name up in DNS before it
 * listens, which from a VM with a way out would wait for the host's resolver (and send a query
 * towards it) instead of serving.
 */
function httpServer(netns: string, ip: string, port: number, dir: string, log?: string[]): ChildProcess {
  // nsenter execs the command (the PID is the server's) and, unlike `ip netns exec`, keeps no
  // copy of the /run/netns mounts that would hold other tests' deleted namespaces alive.
  const cmd = log
    ? ['/usr/bin/python3', '-u', '-m', 'http.server', String(port), '--bind', ip]
    : ['busybox', 'httpd', '-f', '-p', `${ip}:${port}`, '-h', dir];
  const p = spawn('nsenter', [`--net=/run/netns/${netns}`, ...cmd], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  p.stderr?.on('data', (c: Buffer) => log?.push(c.toString()));
  servers.push(p);
  return p;
}

async function stopServer(p: ChildProcess): Promise<void> {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(p.pid, 'SIGTERM');
  await exited;
}

/** One HTTP GET from `netns` (curl); true when answered. */
async function get(netns: string, url: string, timeoutS = 1): Promise<boolean> {
  const r = await run('curl', ['-sf', '-o', '/dev/null', '--max-time', String(timeoutS), url], {
    netns,
    reject: false,
    timeoutMs: (timeoutS + 5) * 1000,
  });
  return r.exitCode === 0;
}

/** SNAT (the host sees the EIP) and DNAT (EIP:8888 reaches the VM) work. */
async function natWorksAgain(): Promise<void> {
  const seen = hostClients().length;
  await waitUntil(() => get(vm.netns, `http://${HOST}:8080/`), { what: 'SNAT again', timeoutMs: 60_000 });
  await waitUntil(() => hostClients().length > seen, { what: 'the request in the host log' });
  expect(hostClients().at(-1)).toBe(EIP);
  await waitUntil(() => get(extNs, `http://${EIP}:8888/`), { what: 'DNAT again', timeoutMs: 30_000 });
}

/** Client addresses the external host has logged. */
const hostClients = () =>
  hostLog
    .join('')
    .split('\n')
    .map((l) => /^(\S+) - - \[.*"GET /.exec(l)?.[1])
    .filter((ip): ip is string => ip !== undefined);

beforeAll(async () => {
  const sb = ctx.sandbox;
  extNs = `${sb.state.id}-ext`;
  await run('ip', ['netns', 'add', extNs]);
  await run('ip', ['-n', extNs, 'link', 'set', 'lo', 'up']);
  await addVethPair(sb.node().netns, 'eth1', extNs, 'eth0');
  await run('ip', ['-n', sb.node().netns, 'link', 'set', 'eth1', 'up']);
  // The node's own address on the external network (its source towards the EIPs it hosts).
  await run('ip', ['-n', sb.node().netns, 'addr', 'add', `${NODE_EXT_IP}/24`, 'dev', 'eth1']);
  await run('ip', ['-n', extNs, 'addr', 'add', `${HOST}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', extNs, 'link', 'set', 'eth0', 'up']);
  const www = path.join(tmp.dir, 'www');
  await mkdir(www, { recursive: true });
  await writeFile(path.join(www, 'index.html'), 'vm web\n');
  httpServer(extNs, HOST, 8080, tmp.dir, hostLog);

  docs = await readExample('vpc-nat-gateway');
  const ext = find(docs, 'Subnet', 'subnetexternal');
  ext.spec['cidrBlock'] = '203.0.113.0/24';
  ext.spec['gateway'] = HOST;
  find(docs, 'IptablesEIP', 'eip-gw1').spec['v4ip'] = EIP;
  // A second EIP, floating to a second VM (1:1 both ways).
  docs.push(
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'IptablesEIP',
      metadata: { name: 'eip-fip' },
      spec: { natGwDp: 'gw1', v4ip: FIP },
    },
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'IptablesFIPRule',
      metadata: { name: 'fip-vm2' },
      spec: { eip: 'eip-fip', internalIp: VM2_IP },
    },
    // A TCP echo service, for a session through a DNAT rule that is then deleted.
    {
      apiVersion: 'kubeovn.io/v1',
      kind: 'IptablesDnatRule',
      metadata: { name: 'dnat-echo' },
      spec: {
        eip: 'eip-gw1',
        externalPort: String(ECHO_PORT),
        protocol: 'tcp',
        internalIp: VM_IP,
        internalPort: '7',
      },
    },
  );
  await writeManifest(`${tmp.dir}/manifests`, 'nat.yaml', docs);
  agent = await startAgentProcess({ sandbox: sb, dir: tmp.dir });
  const vmNs = await createVmNamespace(sb, 'natgwvm');
  vm = await agent.api.add({ network: 'default/natgw-lan', netns: vmNs, ip: VM_IP });
  vmServer = httpServer(vmNs, VM_IP, 80, www);
  vm2 = await agent.api.add({
    network: 'default/natgw-lan',
    netns: await createVmNamespace(sb, 'natgwvm2'),
    ip: VM2_IP,
  });
  httpServer(vm2.netns, VM2_IP, 80, www);
});

afterAll(async () => {
  await cleanUpAgent(
    agent,
    [vm, vm2].filter((v) => v !== undefined).map((v) => v.netns),
  );
  for (const p of servers) await stopServer(p);
  await stopAll();
  if (extNs) await run('ip', ['netns', 'del', extNs], { reject: false });
  // The gateway namespace, should a failed test have left it.
  await run('ip', ['netns', 'del', 'vpc-nat-gw-gw1'], { reject: false });
});

describe('a VPC NAT gateway on node1', () => {
  it('runs the gateway: namespace with net1 on the VPC subnet (lanIp) and net2 holding the EIP', async () => {
    await waitUntil(
      async () =>
        (await run('ip', ['-n', 'vpc-nat-gw-gw1', '-br', 'addr'], { reject: false })).stdout.includes(EIP),
      { what: 'the gateway namespace with its EIP', timeoutMs: 60_000 },
    );
    const addrs = (await run('ip', ['-n', 'vpc-nat-gw-gw1', '-br', 'addr'])).stdout;
    expect(addrs).toMatch(/^net1@?\S*\s+UP\s+172\.30\.10\.254\/24/m);
    expect(addrs).toMatch(new RegExp(`^net2@?\\S*\\s+UP\\s.*${EIP.replace(/\./g, '\\.')}/24`, 'm'));
    const routes = (await run('ip', ['-n', 'vpc-nat-gw-gw1', 'route'])).stdout;
    expect(routes).toContain(`default via ${HOST} dev net2`);
    const vmRoutes = (await run('ip', ['-n', vm.netns, 'route'])).stdout;
    expect(vmRoutes).toContain('default via 172.30.10.1'); // the VM keeps its subnet gateway
  });

  it('SNAT: the VM reaches the external host, which sees the EIP', async () => {
    await hvSync(ctx.sandbox);
    await waitUntil(() => get(vm.netns, `http://${HOST}:8080/`), {
      what: 'HTTP from the VM to the external host',
      timeoutMs: 30_000,
    });
    expect(await ping(vm.netns, HOST)).toBe(true);
    await waitUntil(() => hostClients().length > 0, { what: 'the request in the host log' });
    expect(new Set(hostClients())).toEqual(new Set([EIP]));
  });

  it("DNAT: the external host reaches the VM's web server at EIP:8888", async () => {
    await waitUntil(() => get(extNs, `http://${EIP}:8888/`), {
      what: 'HTTP from the host to EIP:8888',
      timeoutMs: 30_000,
    });
  });

  it('FIP: the second VM is reached at its EIP and leaves from it', async () => {
    await waitUntil(() => get(extNs, `http://${FIP}/`), {
      what: 'HTTP from the host to the FIP',
      timeoutMs: 30_000,
    });
    const seen = hostClients().length;
    await waitUntil(() => get(vm2.netns, `http://${HOST}:8080/`), {
      what: 'HTTP from VM2',
      timeoutMs: 30_000,
    });
    await waitUntil(() => hostClients().length > seen, { what: "VM2's request in the host log" });
    expect(hostClients().slice(seen)).toEqual([FIP]);
  });

  it('the node hosting the gateway reaches the DNAT service on its EIP (hairpin through its shim)', async () => {
    await waitUntil(() => get(ctx.sandbox.node().netns, `http://${EIP}:8888/`), {
      what: 'HTTP from the node to EIP:8888',
      timeoutMs: 30_000,
    });
  });

  it("exports each rule's nft counter as a Prometheus counter, and the EIPs ready; promtool is clean", async () => {
    const scrape = async () => (await fetch(`http://${agent.listen}/metrics`)).text();
    const rule = (text: string, counter: string) =>
      sampleValue(text, 'vpc_agent_nat_rule_packets_total', { gateway: 'gw1', counter }) ?? 0;
    // The sampler serves a read up to 5 s old: wait for one that has seen the traffic above.
    await waitUntil(async () => rule(await scrape(), 'dnat-dnat-web') > 0, {
      what: 'DNAT packets counted',
      timeoutMs: 20_000,
    });
    const text = await scrape();
    expect(rule(text, 'snat-snat-lan')).toBeGreaterThan(0);
    expect(rule(text, 'fip-fip-vm2-in')).toBeGreaterThan(0);
    expect(
      sampleValue(text, 'vpc_agent_nat_rule_bytes_total', { gateway: 'gw1', counter: 'snat-snat-lan' }),
    ).toBeGreaterThan(0);
    expect(text).toContain('# TYPE vpc_agent_nat_rule_packets_total counter');
    expect(sampleValue(text, 'vpc_agent_nat_gateways')).toBe(1);
    expect(sampleValue(text, 'vpc_agent_nat_eips', { state: 'ready' })).toBe(2);
    const check = await promtoolCheckMetrics(text);
    expect(check.problems).toBe('');
  });

  it('the gateway namespace deleted by hand: rebuilt with the same EIPs, SNAT and DNAT work again', async () => {
    const before = (await stat(GW_NETNS)).ino;
    const arp = await captureArp(extNs, 'eth0');
    await run('ip', ['netns', 'del', 'vpc-nat-gw-gw1']);
    // A new namespace (the old one may live on a moment, held by a socket).
    await waitUntil(
      async () =>
        (await stat(GW_NETNS).catch(() => undefined))?.ino !== undefined &&
        (await stat(GW_NETNS)).ino !== before,
      {
        what: 'the gateway namespace re-created',
        timeoutMs: 30_000,
      },
    );
    await natWorksAgain();
    // Announced on the external segment, both forms, from the gateway's (stable) MAC.
    const mac = /link\/ether (\S+)/.exec(
      (await run('ip', ['-n', 'vpc-nat-gw-gw1', 'link', 'show', 'net2'])).stdout,
    )![1];
    for (const ip of [EIP, FIP]) {
      await waitUntil(
        () =>
          [1, 2].every((op) =>
            arp
              .seen()
              .some((a) => a.op === op && a.senderIp === ip && a.targetIp === ip && a.senderMac === mac),
          ),
        { what: `gratuitous ARP request and reply for ${ip} from ${mac}`, timeoutMs: 10_000 },
      );
    }
    await arp.stop();
  });

  it('nft flush ruleset inside it: the table comes back, SNAT and DNAT work again', async () => {
    await run('nsenter', [`--net=${GW_NETNS}`, 'nft', 'flush', 'ruleset']);
    const table = async () => (await run('nsenter', [`--net=${GW_NETNS}`, 'nft', 'list', 'ruleset'])).stdout;
    expect(await table()).toBe('');
    await waitUntil(async () => (await table()).includes(EIP), {
      what: 'the table re-applied',
      timeoutMs: 60_000,
    });
    await natWorksAgain();
  });

  it('an agent restart keeps the gateway: same EIP, traffic flows', async () => {
    await agent.stop();
    await agent.start();
    await natWorksAgain();
  });

  it('a node reboot: agent down, every namespace, veth and OVS port gone; rebuilt on start, same EIPs', async () => {
    await agent.stop();
    const node = ctx.sandbox.node();
    await run('ip', ['netns', 'del', 'vpc-nat-gw-gw1']);
    for (const v of [vm, vm2]) {
      await run('ip', ['netns', 'del', v.netns]);
      await run('ip', ['netns', 'add', v.netns]);
      await run('ip', ['-n', v.netns, 'link', 'set', 'lo', 'up']);
    }
    const ports = (await ctx.sandbox.vsctl(node.name, 'list-ports', 'br-int')).split('\n').filter(Boolean);
    for (const port of ports.filter((p) => !p.startsWith('patch-')))
      await ctx.sandbox.vsctl(node.name, '--if-exists', 'del-port', 'br-int', port);
    const shims = (await run('ip', ['-n', node.netns, '-br', 'link'])).stdout
      .split('\n')
      .map((l) => l.split(/[\s@]/)[0]!)
      .filter((l) => l.startsWith('natshim-'));
    for (const shim of shims) await run('ip', ['-n', node.netns, 'link', 'del', shim]);
    await stopServer(vmServer);
    await agent.start();
    // The VM's server went down with its namespace: serve again once the port is restored.
    await waitUntil(
      async () =>
        (await run('ip', ['-n', vm.netns, '-br', 'addr'], { reject: false })).stdout.includes(VM_IP),
      { what: "the VM's port restored", timeoutMs: 60_000 },
    );
    vmServer = httpServer(vm.netns, VM_IP, 80, path.join(tmp.dir, 'www'));
    await waitUntil(
      async () =>
        (await run('ip', ['-n', 'vpc-nat-gw-gw1', '-br', 'addr'], { reject: false })).stdout.includes(EIP),
      { what: 'the gateway rebuilt with its EIP', timeoutMs: 60_000 },
    );
    await natWorksAgain();
    await waitUntil(() => get(node.netns, `http://${EIP}:8888/`), {
      what: 'the node reaches its EIP again (shim rebuilt)',
      timeoutMs: 30_000,
    });
  });

  it('deleting a DNAT rule closes its port and cuts an established session; the other rule still works', async () => {
    await startEchoServer(vm.netns, 7);
    const session = await startSession(extNs, EIP, ECHO_PORT);
    docs = docs.filter((d) => !(d.kind === 'IptablesDnatRule' && d.metadata.name === 'dnat-echo'));
    await writeManifest(agent.manifests, 'nat.yaml', docs);
    let ended: string | undefined;
    void session.ended.then((how) => (ended = how));
    await waitUntil(() => ended !== undefined, {
      what: 'the session through the deleted rule cut',
      timeoutMs: 30_000,
    });
    expect(ended).toMatch(/^(closed|error)/);
    const connect = await run('timeout', ['3', 'bash', '-c', `echo > /dev/tcp/${EIP}/${ECHO_PORT}`], {
      netns: extNs,
      reject: false,
    });
    expect(connect.exitCode).not.toBe(0);
    expect(await get(extNs, `http://${EIP}:8888/`, 3)).toBe(true);
  });

  it('deleting the gateway and its rules removes the namespace', async () => {
    const keep = docs.filter(
      (d) =>
        !['VpcNatGateway', 'IptablesEIP', 'IptablesSnatRule', 'IptablesDnatRule', 'IptablesFIPRule'].includes(
          String(d.kind),
        ),
    );
    await writeManifest(agent.manifests, 'nat.yaml', keep);
    await waitUntil(
      async () =>
        !(await run('ip', ['netns', 'list'])).stdout.split('\n').some((l) => l.startsWith('vpc-nat-gw-gw1')),
      { what: 'the gateway namespace removed', timeoutMs: 30_000 },
    );
    expect(await get(vm.netns, `http://${HOST}:8080/`, 1)).toBe(false);
  });
});
