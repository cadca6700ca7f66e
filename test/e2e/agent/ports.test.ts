/**
 * Workload ports end to end, with the agent as a real process (`node --import tsx agent/cli.ts
 * run …`) on sandbox node1 (`--netns <node netns>`), driven through `vpc-agent port add|del`
 * over its unix socket. VMs are namespaces this test creates. The manifests are a copy of
 * examples/vpc-two-subnets (vpc-1: vswitch1-subnet 172.20.10.0/24, vswitch2-subnet
 * 172.20.20.0/24).
 *
 * Checked: VMs on the two subnets ping each other with no route added by hand (the agent set
 * the default route); a second network in the same namespace becomes net1; a retried ADD is
 * idempotent and a taken address is a 409; DHCP (busybox udhcpc) gives address, default route
 * and MTU from OVN; an agent restart keeps every port (same LSP rows, IPs, MACs; nothing
 * pruned); `port del` frees the IP, LSP, OVS port and veth; the host is left as it was.
 */
import { chmod, cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  cleanUpAgent,
  createVmNamespace,
  ping,
  startAgentProcess,
  type AgentProcess,
} from '../../harness/agent.js';
import { snapshotHost, useSandbox, useTmpDir, type HostSnapshot } from '../../harness/index.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('ports');

let agent: AgentProcess | undefined;
let host: HostSnapshot;
const vms: string[] = [];

/** What the agent's port API returns. */
type Port = PortResult;
interface CliError {
  error: { status: number; code: string; message: string; field?: string };
}

const node = () => ctx.sandbox.node('node1');
const vm = (n: string) => `${ctx.sandbox.state.id}-${n}`;
const theAgent = () => {
  if (!agent) throw new Error('agent not started');
  return agent;
};

/** `vpc-agent port …` as a process. */
const cli = (args: string[]) => theAgent().cli(args);

async function portAdd(args: string[]): Promise<Port> {
  const r = await cli(['add', ...args]);
  if (r.exitCode !== 0) throw new Error(`port add ${args.join(' ')}: ${r.stderr}\n${await theAgent().log()}`);
  return JSON.parse(r.stdout) as Port;
}

async function portAddFails(args: string[]): Promise<CliError> {
  const r = await cli(['add', ...args]);
  expect(r.exitCode).toBe(1);
  return JSON.parse(r.stderr) as CliError;
}

async function portDel(args: string[]): Promise<Port[]> {
  const r = await cli(['del', ...args]);
  if (r.exitCode !== 0) throw new Error(`port del: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { deleted: Port[] }).deleted;
}

async function addVm(n: string): Promise<string> {
  const ns = await createVmNamespace(ctx.sandbox, n);
  vms.push(ns);
  return ns;
}

/** `name → _uuid` of every LSP (ovn-nbctl's view). */
async function lsps(): Promise<Map<string, string>> {
  const out = await ctx.sandbox.nbctl('--format=json', '--columns=_uuid,name', 'list', 'Logical_Switch_Port');
  const json = JSON.parse(out) as { data: [[string, string], string][] };
  return new Map(json.data.map(([[, uuid], name]) => [name, uuid]));
}

const brIntPorts = async () =>
  (await ctx.sandbox.vsctl('node1', 'list-ports', 'br-int')).split('\n').filter(Boolean);
const nodeLinks = async () => (await run('ip', ['-n', node().netns, '-br', 'link'])).stdout;

beforeAll(async () => {
  host = await snapshotHost();
  await cp(path.resolve('examples/vpc-two-subnets'), path.join(tmp.dir, 'manifests'), { recursive: true });
  agent = await startAgentProcess({ sandbox: ctx.sandbox, dir: tmp.dir });
});

afterAll(() => cleanUpAgent(agent, vms));

describe('vpc-agent port add/del against the running agent', () => {
  let vm1: Port;
  let vm2: Port;

  it('runs the node work: OVS and SB connected, a node OVS pass done, chassis from system-id', async () => {
    type Debug = {
      writer: boolean;
      nodeWork: { chassis: string; ovsOnline: boolean; sbOnline: boolean; last?: { problems: unknown[] } };
    };
    const debug = await waitUntil(
      async () => {
        const d = (await theAgent().debug()) as unknown as Debug;
        return d.nodeWork.last ? d : undefined;
      },
      { what: 'a node OVS pass' },
    );
    expect(debug.writer).toBe(true);
    expect(debug.nodeWork).toMatchObject({ chassis: 'node1', ovsOnline: true, sbOnline: true });
    expect(debug.nodeWork.last?.problems).toEqual([]);
  });

  it('VMs on vswitch1 and vswitch2 ping each other without anyone adding a route', async () => {
    const ns1 = await addVm('vm1');
    const ns2 = await addVm('vm2');
    vm1 = await portAdd(['--network', 'default/vswitch1', '--netns', ns1]);
    vm2 = await portAdd(['--network', 'default/vswitch2', '--netns', ns2]);
    expect(vm1).toMatchObject({
      subnet: 'vswitch1-subnet',
      ifname: 'eth0',
      prefix: 24,
      gateway: '172.20.10.1',
      mtu: 1400,
      name: `${ns1}.default.vswitch1.default.ovn`,
    });
    expect(vm1.ip).toMatch(/^172\.20\.10\./);
    expect(vm2).toMatchObject({ subnet: 'vswitch2-subnet', ifname: 'eth0', gateway: '172.20.20.1' });
    expect(vm2.ip).toMatch(/^172\.20\.20\./);
    // The agent configured the namespace: address, MAC, MTU, default route via the gateway.
    const link = (await run('ip', ['-n', ns1, '-j', 'addr', 'show', 'eth0'])).stdout;
    const [info] = JSON.parse(link) as { address: string; mtu: number; addr_info: { local: string }[] }[];
    expect(info).toMatchObject({ address: vm1.mac, mtu: 1400 });
    expect(info!.addr_info.map((a) => a.local)).toContain(vm1.ip);
    expect((await run('ip', ['-n', ns1, 'route', 'show', 'default'])).stdout).toContain(
      'via 172.20.10.1 dev eth0',
    );
    const tx = (await run('ethtool', ['-k', 'eth0'], { netns: ns1 })).stdout;
    expect(tx).toMatch(/^tx-checksumming: off/m);
    expect(await ping(ns1, vm2.ip)).toBe(true);
    expect(await ping(ns2, vm1.ip)).toBe(true);
    console.info(`port add → ready: ${vm1.timings?.['total']} ms, ${vm2.timings?.['total']} ms`, vm2.timings);
  });

  it('a second network in the same namespace becomes net1 with its address', async () => {
    const second = await portAdd(['--network', 'default/vswitch2', '--netns', vm(`vm1`)]);
    expect(second).toMatchObject({ ifname: 'net1', subnet: 'vswitch2-subnet', netns: vm('vm1') });
    expect(second.ip).not.toBe(vm2.ip);
    const addr = (await run('ip', ['-n', vm('vm1'), '-br', 'addr', 'show', 'net1'])).stdout;
    expect(addr).toContain(`${second.ip}/24`);
    // Only the first port carries the default route.
    expect(
      (await run('ip', ['-n', vm('vm1'), 'route', 'show', 'default'])).stdout.trim().split('\n'),
    ).toHaveLength(1);
    expect(await ping(vm('vm2'), second.ip)).toBe(true);
  });

  it('a retried ADD returns the same port; a taken address or LSP name is refused with the reason', async () => {
    const again = await portAdd(['--network', 'default/vswitch1', '--netns', vm('vm1')]);
    expect({ ip: again.ip, mac: again.mac, name: again.name, ifname: again.ifname }).toEqual({
      ip: vm1.ip,
      mac: vm1.mac,
      name: vm1.name,
      ifname: 'eth0',
    });
    const ns3 = await addVm('vm3');
    const err = await portAddFails(['--network', 'default/vswitch1', '--netns', ns3, '--ip', vm1.ip]);
    expect(err.error).toMatchObject({ status: 409, code: 'ERR_IPAM_REJECTED', field: 'ip' });
    const bad = await portAddFails(['--network', 'default/nope', '--netns', ns3]);
    expect(bad.error).toMatchObject({ status: 404, field: 'network' });
    const clash = await portAddFails(['--network', 'default/vswitch1', '--netns', ns3, '--name', vm1.name]);
    expect(clash.error).toMatchObject({ status: 409, code: 'ERR_PORT_NAME_TAKEN', field: 'name' });
  });

  it('DHCP: udhcpc in the namespace gets address, default route and MTU from OVN, then pings across', async () => {
    const ns3 = vm('vm3');
    const p = await portAdd(['--network', 'default/vswitch1', '--netns', ns3, '--dhcp']);
    expect(p.dhcp).toBe(true);
    expect((await run('ip', ['-n', ns3, '-br', '-4', 'addr', 'show', 'eth0'])).stdout).not.toContain(p.ip);
    const script = path.join(tmp.dir, 'udhcpc.sh');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'case "$1" in',
        '  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;',
        '  bound|renew)',
        '    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"',
        '    ip addr flush dev "$interface"',
        '    ip addr add "$ip/$mask" dev "$interface"',
        '    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface" ;;',
        'esac',
        'exit 0',
        '',
      ].join('\n'),
    );
    await chmod(script, 0o755);
    await run('busybox', ['udhcpc', '-i', 'eth0', '-n', '-q', '-t', '5', '-T', '2', '-s', script], {
      netns: ns3,
      timeoutMs: 30_000,
    });
    expect((await run('ip', ['-n', ns3, '-br', '-4', 'addr', 'show', 'eth0'])).stdout).toContain(
      `${p.ip}/24`,
    );
    expect((await run('ip', ['-n', ns3, 'route', 'show', 'default'])).stdout).toContain('via 172.20.10.1');
    expect((await run('ip', ['-n', ns3, 'link', 'show', 'eth0'])).stdout).toContain('mtu 1400');
    expect(await ping(ns3, vm2.ip)).toBe(true);
  });

  it('an agent restart keeps every port: same LSP rows, IPs and MACs, nothing pruned', async () => {
    const before = JSON.parse((await cli(['list'])).stdout) as { ports: Port[] };
    const rows = await lsps();
    expect(before.ports).toHaveLength(4);
    await theAgent().stop();
    await theAgent().start();
    const after = JSON.parse((await cli(['list'])).stdout) as { ports: Port[] };
    const key = (p: Port) => `${p.name} ${p.netns} ${p.ifname} ${p.ip} ${p.mac}`;
    expect(after.ports.map(key).sort()).toEqual(before.ports.map(key).sort());
    // Give the restarted engine a resync's worth of passes: nothing of ours is pruned or rewritten.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await lsps()).toEqual(rows);
    const again = await portAdd(['--network', 'default/vswitch2', '--netns', vm('vm2')]);
    expect({ ip: again.ip, mac: again.mac }).toEqual({ ip: vm2.ip, mac: vm2.mac });
    expect(await ping(vm('vm1'), vm2.ip)).toBe(true);
  });

  it('port del frees IP, LSP, OVS port and veth; a second del is a no-op', async () => {
    const ns1 = vm('vm1');
    const deleted = await portDel(['--netns', ns1]);
    expect(deleted.map((d) => d.ifname).sort()).toEqual(['eth0', 'net1']);
    const rows = await lsps();
    for (const d of deleted) {
      expect(rows.has(d.name), `LSP ${d.name}`).toBe(false);
      expect(await brIntPorts(), `OVS port ${d.hostIfname}`).not.toContain(d.hostIfname);
      expect(await nodeLinks(), `host veth ${d.hostIfname}`).not.toContain(d.hostIfname);
    }
    expect((await run('ip', ['-n', ns1, '-br', 'link'])).stdout).not.toMatch(/eth0|net1/);
    expect(await portDel(['--netns', ns1])).toEqual([]);
    // The address is free again: another namespace can have it.
    const p = await portAdd(['--network', 'default/vswitch1', '--netns', vm('vm2'), '--ip', vm1.ip]);
    expect(p.ip).toBe(vm1.ip);
  });

  it("concurrent adds: VMs side by side get distinct addresses and ping; one VM's two networks become eth0 and net1", async () => {
    const solo = await Promise.all(['vm5', 'vm6', 'vm7', 'vm8'].map(addVm));
    const both = await addVm('vm9');
    const [singles, pair] = await Promise.all([
      Promise.all(
        solo.map((ns, i) =>
          portAdd(['--network', i % 2 ? 'default/vswitch2' : 'default/vswitch1', '--netns', ns]),
        ),
      ),
      Promise.all([
        portAdd(['--network', 'default/vswitch1', '--netns', both]),
        portAdd(['--network', 'default/vswitch2', '--netns', both]),
      ]),
    ]);
    const all = [...singles, ...pair];
    expect(new Set(all.map((p) => p.ip)).size).toBe(all.length);
    expect(new Set(all.map((p) => p.mac)).size).toBe(all.length);
    expect(all.every((p) => p.binding === 'up')).toBe(true);
    // The two requests for one namespace ran one after the other: distinct names, one default route.
    expect(pair.map((p) => p.ifname).sort()).toEqual(['eth0', 'net1']);
    expect(
      (await run('ip', ['-n', both, 'route', 'show', 'default'])).stdout.trim().split('\n'),
    ).toHaveLength(1);
    // Across the router between the new single-homed VMs (vswitch1 <-> vswitch2), and from the
    // two-network VM to each subnet's gateway.
    const pairs: [Port, Port][] = [
      [singles[0]!, singles[1]!],
      [singles[3]!, singles[2]!],
    ];
    for (const [a, b] of pairs) {
      expect(await ping(a.netns, b.ip), `${a.netns} -> ${b.ip}`).toBe(true);
      expect(await ping(b.netns, a.ip), `${b.netns} -> ${a.ip}`).toBe(true);
    }
    for (const p of pair) expect(await ping(both, p.gateway), `${both} -> ${p.gateway}`).toBe(true);
    const rows = await lsps();
    for (const p of all) expect(rows.has(p.name), `LSP ${p.name}`).toBe(true);
  });

  it('deleting every port leaves no workload LSP, OVS port or veth; the host is unchanged', async () => {
    for (const ns of vms) await portDel(['--netns', ns]);
    const rows = await lsps();
    expect([...rows.keys()].filter((n) => n.includes(ctx.sandbox.state.id))).toEqual([]);
    expect((await brIntPorts()).filter((p) => /^h[0-9a-f]{12}$/.test(p))).toEqual([]);
    expect(await nodeLinks()).not.toMatch(/^h[0-9a-f]{12}/m);
    await theAgent().stop();
    for (const ns of vms) await run('ip', ['netns', 'del', ns], { reject: false });
    expect(await snapshotHost()).toEqual(host);
  });
});
