/**
 * The CNI plugin end to end: the bundle installed as `kube-ovn` and `vpc-agent-cni`, run as a
 * process per call with CNI_* and the NAD's config on stdin exactly as a runtime does, against
 * the agent as a real process on sandbox node1 (its `--cni-socket`, the seeds' `server_socket`),
 * with real OVN. Pods are namespaces this test makes, passed by path (/var/run/netns/…) as
 * runtimes pass them. Manifests: examples/vpc-two-subnets (vswitch1 172.20.10.0/24, vswitch2
 * 172.20.20.0/24 in vpc-1).
 *
 * Checked: ADD on both subnets returns the result in the config's version, names the LSP
 * `<pod>.<namespace>.<provider>`, and the pods ping each other; CHECK passes, and fails naming
 * what is broken; DEL twice succeeds and leaves no LSP, OVS port or veth; DEL after the
 * namespace is gone succeeds and cleans up; a failing ADD (unknown provider, an address already
 * taken) leaves nothing behind; VERSION and STATUS answer.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../agent/sandbox/process.js';
import { cleanUpAgent, nbRows, ping, startAgentProcess, type AgentProcess } from '../../harness/agent.js';
import { buildCniBundle, installCniPlugin, invokeCni, type CniCall } from '../../harness/cni.js';
import { made, useSandbox, useTmpDir } from '../../harness/index.js';
import { cp } from 'node:fs/promises';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('cni');

let agent: AgentProcess | undefined;
let bin: string | undefined;
const namespaces: string[] = [];

/** The seeds' NAD config (examples/vpc-two-subnets), pointed at the test agent's CNI socket. */
const nadConfig = (nad: string, version = '0.3.1') => ({
  cniVersion: version,
  name: nad,
  type: 'kube-ovn',
  server_socket: made(agent, 'agent').cniSocket,
  provider: `${nad}.default.ovn`,
});

/** A pod sandbox: a namespace `<sandbox id>-<name>`, passed by its path. */
async function sandboxNetns(name: string): Promise<string> {
  const ns = `${ctx.sandbox.state.id}-${name}`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  namespaces.push(ns);
  return `/var/run/netns/${ns}`;
}
const nsName = (netnsPath: string) => path.basename(netnsPath);

function cni(name: 'kube-ovn' | 'vpc-agent-cni' | 'vpc-agent-cni-sh', call: CniCall) {
  return invokeCni(made(bin, 'plugin'), name, call);
}

const podArgs = (pod: string) => ({
  IgnoreUnknown: '1',
  K8S_POD_NAMESPACE: 'vms',
  K8S_POD_NAME: pod,
  K8S_POD_INFRA_CONTAINER_ID: `ctr-${pod}`,
});

const lspNames = async () => (await nbRows(ctx.sandbox, 'Logical_Switch_Port')).map((r) => String(r['name']));
const brIntPorts = async () =>
  (await ctx.sandbox.vsctl('node1', 'list-ports', 'br-int')).split('\n').filter(Boolean);
const nodeLinks = async () => (await run('ip', ['-n', ctx.sandbox.node('node1').netns, '-o', 'link'])).stdout;

beforeAll(async () => {
  await buildCniBundle();
  bin = await installCniPlugin(tmp.dir);
  await cp(path.resolve('examples/vpc-two-subnets'), path.join(tmp.dir, 'manifests'), { recursive: true });
  agent = await startAgentProcess({ sandbox: ctx.sandbox, dir: tmp.dir });
});

afterAll(async () => {
  await cleanUpAgent(agent, []);
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns], { reject: false });
});

describe('the CNI plugin as a runtime runs it', () => {
  let a: { netns: string; ip: string };
  let b: { netns: string; ip: string };

  it('VERSION and STATUS answer', async () => {
    const v = await cni('kube-ovn', { command: 'VERSION', config: { cniVersion: '1.0.0' } });
    expect(v).toMatchObject({ exitCode: 0, out: { cniVersion: '1.0.0' } });
    expect(v.out?.['supportedVersions']).toContain('0.3.1');
    const s = await cni('vpc-agent-cni', { command: 'STATUS', config: nadConfig('vswitch1', '1.1.0') });
    expect(s).toMatchObject({ exitCode: 0, out: undefined });
  });

  it('ADD on vswitch1 (0.3.1, as kube-ovn) and vswitch2 (1.0.0, as vpc-agent-cni); the pods ping each other', async () => {
    const netnsA = await sandboxNetns('pod-a');
    const netnsB = await sandboxNetns('pod-b');
    const ra = await cni('kube-ovn', {
      command: 'ADD',
      containerId: 'ctr-pod-a',
      netns: netnsA,
      ifname: 'eth0',
      args: podArgs('pod-a'),
      config: nadConfig('vswitch1'),
    });
    expect(ra.exitCode, `${ra.stderr}\n${await made(agent, 'agent').log()}`).toBe(0);
    expect(ra.out).toMatchObject({
      cniVersion: '0.3.1',
      interfaces: [
        { name: 'eth0', sandbox: netnsA, mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) },
      ],
      ips: [
        {
          version: '4',
          address: expect.stringMatching(/^172\.20\.10\.\d+\/24$/),
          gateway: '172.20.10.1',
          interface: 0,
        },
      ],
      routes: [{ dst: '0.0.0.0/0', gw: '172.20.10.1' }],
    });
    const rb = await cni('vpc-agent-cni', {
      command: 'ADD',
      containerId: 'ctr-pod-b',
      netns: netnsB,
      ifname: 'eth0',
      args: podArgs('pod-b'),
      config: nadConfig('vswitch2', '1.0.0'),
    });
    expect(rb.exitCode, rb.stderr).toBe(0);
    const ipsB = rb.out?.['ips'] as { address: string; version?: string }[];
    expect(ipsB[0]?.address).toMatch(/^172\.20\.20\.\d+\/24$/);
    expect(ipsB[0]?.version).toBeUndefined();
    a = { netns: netnsA, ip: (ra.out?.['ips'] as { address: string }[])[0]!.address.split('/')[0]! };
    b = { netns: netnsB, ip: ipsB[0]!.address.split('/')[0]! };
    // Kube-OVN's LSP names: <pod>.<namespace>.<provider>.
    expect(await lspNames()).toEqual(
      expect.arrayContaining(['pod-a.vms.vswitch1.default.ovn', 'pod-b.vms.vswitch2.default.ovn']),
    );
    // The result says what is in the namespace.
    const [link] = JSON.parse(
      (await run('ip', ['-n', nsName(netnsA), '-j', 'addr', 'show', 'eth0'])).stdout,
    ) as {
      address: string;
      addr_info: { local: string }[];
    }[];
    expect(link?.address).toBe((ra.out?.['interfaces'] as { mac: string }[])[0]?.mac);
    expect(link?.addr_info.map((x) => x.local)).toContain(a.ip);
    expect(await ping(nsName(netnsA), b.ip)).toBe(true);
    expect(await ping(nsName(netnsB), a.ip)).toBe(true);
  });

  it('an attachment as net1 does not take the default route of eth0; its DEL removes only it', async () => {
    const call = {
      containerId: 'ctr-pod-a',
      netns: a.netns,
      ifname: 'net1',
      args: podArgs('pod-a'),
      config: nadConfig('vswitch2', '1.0.0'),
    };
    const r = await cni('kube-ovn', { command: 'ADD', ...call });
    expect(r.exitCode, JSON.stringify(r.out)).toBe(0);
    expect(r.out).toMatchObject({ interfaces: [{ name: 'net1' }], routes: [] });
    const routes = (await run('ip', ['-n', nsName(a.netns), 'route', 'show', 'default'])).stdout.trim();
    expect(routes).toBe('default via 172.20.10.1 dev eth0');
    const del = await cni('kube-ovn', { command: 'DEL', ...call });
    expect(del.exitCode, JSON.stringify(del.out)).toBe(0);
    expect((await run('ip', ['-n', nsName(a.netns), '-o', 'link'])).stdout).not.toContain('net1');
    expect(await ping(nsName(a.netns), b.ip)).toBe(true);
  });

  it('a retried ADD returns the same address', async () => {
    const again = await cni('kube-ovn', {
      command: 'ADD',
      containerId: 'ctr-pod-a',
      netns: a.netns,
      ifname: 'eth0',
      args: podArgs('pod-a'),
      config: nadConfig('vswitch1'),
    });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((again.out?.['ips'] as { address: string }[])[0]?.address).toBe(`${a.ip}/24`);
  });

  it('CHECK passes for a complete attachment and names what is broken otherwise', async () => {
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: `${a.ip}/24`, interface: 0 }] };
    const call = {
      command: 'CHECK' as const,
      containerId: 'ctr-pod-a',
      netns: a.netns,
      ifname: 'eth0',
      args: podArgs('pod-a'),
      config: { ...nadConfig('vswitch1', '1.0.0'), prevResult },
    };
    const ok = await cni('kube-ovn', call);
    expect(ok.exitCode, JSON.stringify(ok.out)).toBe(0);
    await run('ip', ['-n', nsName(a.netns), 'addr', 'del', `${a.ip}/24`, 'dev', 'eth0']);
    const broken = await cni('kube-ovn', call);
    expect(broken.exitCode).toBe(1);
    expect(broken.out).toMatchObject({
      code: 102,
      msg: expect.stringContaining(`lacks its address ${a.ip}`),
    });
    await run('ip', ['-n', nsName(a.netns), 'addr', 'add', `${a.ip}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', nsName(a.netns), 'route', 'replace', 'default', 'via', '172.20.10.1']);
    const unknown = await cni('kube-ovn', { ...call, containerId: 'ctr-nobody' });
    expect(unknown.out).toMatchObject({ code: 3 });
  });

  it('a failing ADD leaves nothing behind: unknown provider, an address already taken', async () => {
    const lspsBefore = (await lspNames()).sort();
    const portsBefore = (await brIntPorts()).sort();
    const netnsC = await sandboxNetns('pod-c');
    const unknown = await cni('kube-ovn', {
      command: 'ADD',
      containerId: 'ctr-pod-c',
      netns: netnsC,
      ifname: 'eth0',
      args: podArgs('pod-c'),
      config: { ...nadConfig('vswitch1'), provider: 'nope.default.ovn' },
    });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.out).toMatchObject({
      cniVersion: '0.3.1',
      code: 7,
      msg: expect.stringContaining('no NetworkAttachmentDefinition default/nope'),
    });
    const taken = await cni('kube-ovn', {
      command: 'ADD',
      containerId: 'ctr-pod-c',
      netns: netnsC,
      ifname: 'eth0',
      args: { ...podArgs('pod-c'), IP: a.ip },
      config: nadConfig('vswitch1'),
    });
    expect(taken.exitCode).toBe(1);
    expect(taken.out).toMatchObject({ code: 100, msg: expect.stringContaining(a.ip) });
    expect(String(taken.out?.['details'])).toMatch(/HTTP 409 .*field ip/);
    expect((await lspNames()).sort()).toEqual(lspsBefore);
    expect((await brIntPorts()).sort()).toEqual(portsBefore);
    expect((await run('ip', ['-n', nsName(netnsC), '-o', 'link'])).stdout.trim().split('\n')).toHaveLength(1); // lo
    // The runtime's DEL after a failed ADD succeeds.
    const del = await cni('kube-ovn', {
      command: 'DEL',
      containerId: 'ctr-pod-c',
      netns: netnsC,
      ifname: 'eth0',
      config: nadConfig('vswitch1'),
    });
    expect(del.exitCode, JSON.stringify(del.out)).toBe(0);
  });

  it('as another plugin’s IPAM (ipam.type kube-ovn): an address only, reserved in Northbound; DEL frees it', async () => {
    const netnsM = await sandboxNetns('pod-m');
    const call = {
      containerId: 'ctr-pod-m',
      netns: netnsM,
      ifname: 'net1',
      args: podArgs('pod-m'),
      config: {
        cniVersion: '1.0.0',
        name: 'mv',
        type: 'macvlan',
        master: 'eth1',
        ipam: {
          type: 'kube-ovn',
          provider: 'vswitch1.default.ovn',
          server_socket: made(agent, 'agent').cniSocket,
        },
      },
    };
    const portsBefore = (await brIntPorts()).sort();
    const r = await cni('kube-ovn', { command: 'ADD', ...call });
    expect(r.exitCode, JSON.stringify(r.out)).toBe(0);
    expect(r.out?.['interfaces']).toBeUndefined();
    const address = (r.out?.['ips'] as { address: string; interface?: number }[])[0];
    expect(address?.address).toMatch(/^172\.20\.10\.\d+\/24$/);
    expect(address?.interface).toBeUndefined();
    const lsp = (await nbRows(ctx.sandbox, 'Logical_Switch_Port')).find(
      (x) => x['name'] === 'pod-m.vms.vswitch1.default.ovn',
    );
    expect(lsp?.external_ids?.['vpc-agent.io/ipam-only']).toBe('true');
    expect((await brIntPorts()).sort()).toEqual(portsBefore);
    const mLinks = (await run('ip', ['-n', nsName(netnsM), '-o', 'link'])).stdout.trim().split('\n');
    expect(mLinks, mLinks.join('\n')).toHaveLength(1);
    const del = await cni('kube-ovn', { command: 'DEL', ...call });
    expect(del.exitCode, JSON.stringify(del.out)).toBe(0);
    expect(await lspNames()).not.toContain('pod-m.vms.vswitch1.default.ovn');
  });

  it('DEL twice (the shell form, then the bundle): both succeed, and the LSP, OVS port and veth are gone', async () => {
    const call = {
      command: 'DEL' as const,
      containerId: 'ctr-pod-b',
      netns: b.netns,
      ifname: 'eth0',
      args: podArgs('pod-b'),
      config: nadConfig('vswitch2', '1.0.0'),
    };
    for (let i = 0; i < 2; i++) {
      const r = await cni(i === 0 ? 'vpc-agent-cni-sh' : 'vpc-agent-cni', call);
      expect(r, `DEL #${i + 1}`).toMatchObject({ exitCode: 0, out: undefined });
    }
    expect(await lspNames()).not.toContain('pod-b.vms.vswitch2.default.ovn');
    const ports = await made(agent, 'agent').api.list();
    expect(ports.map((p) => p.name)).not.toContain('pod-b.vms.vswitch2.default.ovn');
    expect((await run('ip', ['-n', nsName(b.netns), '-o', 'link'])).stdout).not.toContain('eth0');
    expect(await brIntPorts()).toHaveLength(ports.length);
  });

  it('DEL after the namespace was deleted succeeds (with and without CNI_NETNS) and cleans up', async () => {
    const host = (await made(agent, 'agent').api.list()).find(
      (p) => p.name === 'pod-a.vms.vswitch1.default.ovn',
    );
    expect(host).toBeDefined();
    await run('ip', ['netns', 'del', nsName(a.netns)]);
    const first = await cni('kube-ovn', {
      command: 'DEL',
      containerId: 'ctr-pod-a',
      netns: a.netns,
      ifname: 'eth0',
      config: nadConfig('vswitch1'),
    });
    expect(first.exitCode, JSON.stringify(first.out)).toBe(0);
    const second = await cni('kube-ovn', {
      command: 'DEL',
      containerId: 'ctr-pod-a',
      netns: '',
      ifname: 'eth0',
      config: nadConfig('vswitch1'),
    });
    expect(second.exitCode, JSON.stringify(second.out)).toBe(0);
    expect(await lspNames()).not.toContain('pod-a.vms.vswitch1.default.ovn');
    expect(await brIntPorts()).not.toContain(host!.hostIfname);
    expect(await nodeLinks()).not.toContain(host!.hostIfname);
    expect(await made(agent, 'agent').api.list()).toEqual([]);
    // The agent's log has no undo failure.
    expect(await readFile(path.join(tmp.dir, 'agent.log'), 'utf8')).not.toContain(
      'undo of a failed port add failed',
    );
  });
});
