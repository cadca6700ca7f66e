/**
 * Workload ports as this node's desired state, with the agent as a real process on a sandbox
 * node (`--ports-resync 500ms` so a repair does not wait for the default 30 s):
 *
 * - drift: the host veth, the OVS port, the VM's address and its default route deleted out of
 *   band come back, and the VM reaches its gateway again;
 * - a reboot (the agent stopped, the VM's namespace and OVS port gone, the namespace created
 *   again empty): the agent restores the port from Northbound on start;
 * - a namespace given as a path (`/var/run/netns/X`, `/proc/PID/ns/net`) works as a name does;
 * - a failed add (its interface name taken in the namespace) undoes every step: no LSP, no OVS
 *   port, no veth, and its address is free again.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import { useAgentOnSandbox } from '../../harness/agent-on-sandbox.js';
import { ping } from '../../harness/agent.js';

const env = useAgentOnSandbox({ prefix: 'plife', args: ['--ports-resync', '500ms'] });
const ctx = env;
const vm = (name: string) => env.vm(name);

const node = () => ctx.sandbox.node('node1');
const nodeLinks = async () => (await run('ip', ['-n', node().netns, '-br', 'link'])).stdout;
const brIntPorts = async () =>
  (await ctx.sandbox.vsctl('node1', 'list-ports', 'br-int')).split('\n').filter(Boolean);
const lspNames = async () =>
  (await ctx.sandbox.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port'))
    .split('\n')
    .filter(Boolean);
const addr = async (ns: string) =>
  (await run('ip', ['-n', ns, '-br', '-4', 'addr', 'show', 'eth0'], { reject: false })).stdout;
const defaultRoute = async (ns: string) => (await run('ip', ['-n', ns, 'route', 'show', 'default'])).stdout;

describe('ports as the node desired state', () => {
  let p: PortResult;
  let ns: string;

  it('drift: a deleted veth, OVS port, address or default route comes back', async () => {
    ns = await vm('drift');
    p = await env.agent.api.add({ network: 'default/vswitch1', netns: ns });
    expect(await ping(ns, p.gateway)).toBe(true);

    await run('ip', ['-n', node().netns, 'link', 'del', p.hostIfname]);
    await waitUntil(
      async () => (await nodeLinks()).includes(p.hostIfname) && (await addr(ns)).includes(p.ip),
      {
        what: 'the veth back',
      },
    );
    await waitUntil(() => ping(ns, p.gateway, 1), { what: 'the gateway reachable after the veth came back' });

    await ctx.sandbox.vsctl('node1', 'del-port', 'br-int', p.hostIfname);
    await waitUntil(async () => (await brIntPorts()).includes(p.hostIfname), { what: 'the OVS port back' });
    await waitUntil(() => ping(ns, p.gateway, 1), {
      what: 'the gateway reachable after the OVS port came back',
    });

    await run('ip', ['-n', ns, 'addr', 'flush', 'dev', 'eth0']);
    await waitUntil(async () => (await addr(ns)).includes(`${p.ip}/24`), { what: 'the address back' });
    await waitUntil(async () => (await defaultRoute(ns)).includes(`via ${p.gateway}`), {
      what: 'the default route back',
    });
    await run('ip', ['-n', ns, 'route', 'del', 'default']);
    await waitUntil(async () => (await defaultRoute(ns)).includes(`via ${p.gateway}`), {
      what: 'the default route back again',
    });
    expect(await ping(ns, p.gateway)).toBe(true);
  });

  it("other writers' Interface keys (ovn-controller's ovn-installed) stay through repairs; ours come back", async () => {
    const get = async (key: string) =>
      (
        await ctx.sandbox.vsctl(
          'node1',
          '--if-exists',
          'get',
          'Interface',
          p.hostIfname,
          `external_ids:${key}`,
        )
      ).replace(/"/g, '');
    await waitUntil(async () => (await get('ovn-installed')) === 'true', {
      what: 'ovn-installed set by ovn-controller',
    });
    await ctx.sandbox.vsctl('node1', 'set', 'Interface', p.hostIfname, 'external_ids:someone-else=keep');
    await ctx.sandbox.vsctl(
      'node1',
      'set',
      'Interface',
      p.hostIfname,
      'external_ids:vpc-agent.io/ifname=tampered',
    );
    await waitUntil(async () => (await get('vpc-agent.io/ifname')) === 'eth0', { what: 'our key repaired' });
    expect(await get('someone-else')).toBe('keep');
    expect(await get('ovn-installed')).toBe('true');
  });

  it('a reboot: host state gone while the agent was down, restored from Northbound on start', async () => {
    await env.agent.stop();
    await run('ip', ['netns', 'del', ns]);
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await ctx.sandbox.vsctl('node1', '--if-exists', 'del-port', 'br-int', p.hostIfname);
    expect(await addr(ns)).not.toContain(p.ip);
    await env.agent.start();
    await waitUntil(async () => (await addr(ns)).includes(`${p.ip}/24`), { what: 'the port restored' });
    await waitUntil(() => ping(ns, p.gateway, 1), { what: 'the restored port reaches its gateway' });
    // The Southbound `up` flag may follow the first packets by a moment.
    const listed = await waitUntil(
      async () => {
        const l = await env.agent.api.list();
        return l.find((x) => x.name === p.name)?.binding === 'up' ? l : undefined;
      },
      { what: 'the restored binding up' },
    );
    expect(listed.find((x) => x.name === p.name)).toMatchObject({ ip: p.ip, mac: p.mac, binding: 'up' });
  });

  it('a namespace given as a path works as a name does: /var/run/netns/X and /proc/PID/ns/net', async () => {
    const named = await vm('bypath');
    const byPath = await env.agent.api.add({ network: 'default/vswitch1', netns: `/var/run/netns/${named}` });
    expect(byPath.binding).toBe('up');
    expect(await ping(named, byPath.gateway)).toBe(true);
    expect(await env.agent.api.del({ netns: `/var/run/netns/${named}` })).toHaveLength(1);

    const holder = await vm('byproc');
    const sleeper = spawn('ip', ['netns', 'exec', holder, 'sleep', '600'], { stdio: 'ignore' });
    try {
      const pid = await waitUntil(
        async () => {
          const r = await run('ip', ['netns', 'pids', holder], { reject: false });
          return r.stdout.trim().split('\n').filter(Boolean)[0];
        },
        { what: 'a process inside the namespace' },
      );
      const procNs = `/proc/${pid}/ns/net`;
      const viaProc = await env.agent.api.add({ network: 'default/vswitch2', netns: procNs });
      expect(viaProc).toMatchObject({ netns: procNs, binding: 'up' });
      expect(await ping(holder, viaProc.gateway)).toBe(true);
      expect(await env.agent.api.del({ netns: procNs })).toHaveLength(1);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a failed add undoes every step: LSP, OVS port, veth and address', async () => {
    const busyNs = await vm('taken');
    await run('ip', ['-n', busyNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
    const used = async () => {
      const d = (await env.agent.debug()) as unknown as { ipam: { subnet: string; used: number }[] };
      return d.ipam.find((x) => x.subnet === 'vswitch1-subnet')?.used;
    };
    const before = {
      lsps: await lspNames(),
      ovs: await brIntPorts(),
      links: await nodeLinks(),
      used: await used(),
    };
    const err = await env.agent.api
      .add({ network: 'default/vswitch1', netns: busyNs, ifname: 'eth0' })
      .then(() => undefined)
      .catch((e: unknown) => e as Error);
    expect(err?.message).toContain('eth0');
    expect(await lspNames()).toEqual(before.lsps);
    expect(await brIntPorts()).toEqual(before.ovs);
    expect(await nodeLinks()).toEqual(before.links);
    expect(await used()).toBe(before.used);
    // Nothing is left in the way: the same add succeeds once the name is free.
    await run('ip', ['-n', busyNs, 'link', 'del', 'eth0']);
    const ok = await env.agent.api.add({ network: 'default/vswitch1', netns: busyNs });
    expect(ok.binding).toBe('up');
    expect(await used()).toBe((before.used ?? 0) + 1);
  });

  it('an upgrade: a port written by the earlier release (owned by the writer) is kept and adopted by its node', async () => {
    const ns2 = await vm('legacy');
    const port = await env.agent.api.add({ network: 'default/vswitch1', netns: ns2 });
    await env.agent.stop();
    // Make it look like the earlier release wrote it: the deployment owner, the old IPAM owner,
    // none of the node-owned keys.
    const uuid = (
      await ctx.sandbox.nbctl('--bare', '--columns=_uuid', 'find', 'Logical_Switch_Port', `name=${port.name}`)
    ).trim();
    for (const k of ['ip', 'mac', 'node', 'netns', 'network', 'ifname', 'dhcp', 'default-route'])
      await ctx.sandbox.nbctl('remove', 'Logical_Switch_Port', uuid, 'external_ids', `vpc-agent.io/${k}`);
    await ctx.sandbox.nbctl('set', 'Logical_Switch_Port', uuid, 'external_ids:vpc-agent.io/owner=vpc-agent');
    await ctx.sandbox.nbctl(
      'set',
      'Logical_Switch_Port',
      uuid,
      `external_ids:"vpc-agent.io/ip-owner"="vm/${ns2}/default/vswitch1"`,
    );
    await env.agent.start();
    const ids = async () =>
      (await ctx.sandbox.nbctl('get', 'Logical_Switch_Port', uuid, 'external_ids')).trim();
    await waitUntil(async () => (await ids()).includes('"vpc-agent.io/owner"="vpc-agent/node/node1"'), {
      what: 'the legacy port adopted by node1',
    });
    // The same row (never deleted), its address, and it still works.
    expect(await ids()).toContain(`"vpc-agent.io/netns"=${ns2}`);
    const listed = await env.agent.api.list();
    expect(listed.find((x) => x.name === port.name)).toMatchObject({ ip: port.ip, mac: port.mac });
    expect(await ping(ns2, port.gateway)).toBe(true);
    // A retried ADD finds it as this node's port.
    const again = await env.agent.api.add({ network: 'default/vswitch1', netns: ns2 });
    expect({ name: again.name, ip: again.ip }).toEqual({ name: port.name, ip: port.ip });
  });
});
