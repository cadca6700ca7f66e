import '../../harness/env.js';
import { rm } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus } from '../../../agent/sandbox/ovsdb-server.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import {
  createSandbox,
  destroySandbox,
  sandboxStatus,
  type Sandbox,
} from '../../../agent/sandbox/sandbox.js';
import { readState } from '../../../agent/sandbox/state.js';
import { type HostSnapshot, leftovers, makeTmpDir, snapshotHost, useSandbox } from '../../harness/index.js';

const VM1 = { name: 'vm1', mac: '0a:00:00:00:01:0a', cidr: '10.250.0.10/24' };
const VM2 = { name: 'vm2', mac: '0a:00:00:00:01:0b', cidr: '10.250.0.11/24' };
const ip = (cidr: string) => cidr.split('/')[0]!;

const ping = (sb: Sandbox, from: string, to: string) =>
  sb.exec(from, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-q', to], { reject: false });

describe('sandbox with 1 node', () => {
  let sb: Sandbox;
  let stateDir: string;
  let before: HostSnapshot;

  beforeAll(async () => {
    before = await snapshotHost();
    stateDir = await makeTmpDir('sbx');
    sb = await createSandbox({ stateDir, nodes: 1 });
  });
  afterAll(async () => {
    // safety net if a test failed before the teardown test ran
    await destroySandbox(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('is up: every daemon alive, chassis registered with a geneve encap, br-int on netdev', async () => {
    const st = await sandboxStatus(stateDir);
    expect(st.healthy).toBe(true);
    expect(st.processes.map((p) => p.name).sort()).toEqual(
      [
        'central/nb',
        'central/sb',
        'central/ovn-northd',
        'node1/ovsdb-server',
        'node1/ovs-vswitchd',
        'node1/ovn-controller',
      ].sort(),
    );
    const node = sb.node('node1');
    expect(node.netns).toBe(`${sb.state.id}-node1`);
    expect(
      await sb.sbctl('--bare', '--columns=ip', 'find', 'encap', 'chassis_name=node1', 'type=geneve'),
    ).toBe('198.18.0.1');
    expect(await sb.vsctl('node1', 'get', 'bridge', 'br-int', 'datapath_type')).toBe('netdev');
    expect(await sb.vsctl('node1', 'get', 'bridge', 'br-int', 'fail_mode')).toBe('secure');
    expect((await readState(stateDir))?.ready).toBe(true);
  });

  it('two VM namespaces on one logical switch ping each other through OVN', async () => {
    await sb.addVm(VM1);
    await sb.addVm(VM2);
    // br-int is fail_mode=secure: without logical ports OVN forwards nothing
    const blocked = await sb.exec('vm1', 'ping', ['-c', '1', '-W', '1', '-q', ip(VM2.cidr)], {
      reject: false,
    });
    expect(blocked.exitCode).not.toBe(0);

    await sb.nbctl(
      '--wait=hv',
      'ls-add',
      'ls1',
      '--',
      'lsp-add',
      'ls1',
      'vm1',
      '--',
      'lsp-set-addresses',
      'vm1',
      `${VM1.mac} ${ip(VM1.cidr)}`,
      '--',
      'lsp-add',
      'ls1',
      'vm2',
      '--',
      'lsp-set-addresses',
      'vm2',
      `${VM2.mac} ${ip(VM2.cidr)}`,
    );
    const up = await waitUntil(
      async () => (await sb.nbctl('lsp-get-up', 'vm1')) + (await sb.nbctl('lsp-get-up', 'vm2')) === 'upup',
      { what: 'both LSPs up' },
    );
    expect(up).toBe(true);
    const there = await ping(sb, 'vm1', ip(VM2.cidr));
    expect(there.stdout).toContain('2 received');
    const back = await ping(sb, 'vm2', ip(VM1.cidr));
    expect(back.stdout).toContain('2 received');
  });

  it('deleting a VM removes its port and namespace, and ping to it fails', async () => {
    const vm2 = sb.state.vms.find((v) => v.name === 'vm2')!;
    await sb.deleteVm('vm2');
    expect(await sb.vsctl('node1', 'list-ports', 'br-int')).not.toContain(vm2.port);
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(vm2.netns);
    const r = await sb.exec('vm1', 'ping', ['-c', '1', '-W', '1', '-q', ip(VM2.cidr)], { reject: false });
    expect(r.exitCode).not.toBe(0);
  });

  it('teardown leaves nothing: no process, no namespace, host unchanged', async () => {
    const state = (await readState(stateDir))!;
    const report = await destroySandbox(stateDir);
    expect(report.stoppedPids.length).toBeGreaterThanOrEqual(6);
    expect(await leftovers(state)).toEqual({ pids: [], namespaces: [] });
    expect((await sandboxStatus(stateDir)).exists).toBe(false);
    expect(await snapshotHost()).toEqual(before);
  });
});

describe('clustered sandbox', () => {
  const ctx = useSandbox({ nodes: 1, clustered: true });

  it('NB and SB are 3-member RAFT clusters with a leader, and OVN works through them', async () => {
    const { sandbox } = ctx;
    for (const [db, name] of [
      [sandbox.state.nb!, 'OVN_Northbound'],
      [sandbox.state.sb!, 'OVN_Southbound'],
    ] as const) {
      expect(db.members).toHaveLength(3);
      const st = await Promise.all(db.members.map((m) => clusterStatus(m, name)));
      expect(st.every((s) => s?.status === 'cluster member')).toBe(true);
      expect(st.filter((s) => s?.role === 'leader')).toHaveLength(1);
    }
    await sandbox.nbctl('--wait=hv', 'ls-add', 'clustered-ls');
    expect(await sandbox.sbctl('--bare', '--columns=name', 'list', 'chassis')).toBe('node1');
  });
});

describe('CLI', () => {
  it('sandbox up prints endpoints, status reports healthy, down cleans up', async () => {
    const stateDir = await makeTmpDir('cli');
    const cli = (...args: string[]) =>
      execa('npx', ['tsx', 'agent/cli.ts', 'sandbox', ...args, '--state-dir', stateDir], { reject: false });
    try {
      const up = await cli('up');
      expect(up.exitCode).toBe(0);
      const state = JSON.parse(up.stdout) as { nb: { unix: string[] }; nodes: { name: string }[] };
      expect(state.nodes.map((n) => n.name)).toEqual(['node1']);
      expect((await run('ovn-nbctl', [`--db=${state.nb.unix[0]}`, '--timeout=5', 'show'])).exitCode).toBe(0);
      const status = await cli('status');
      expect(status.exitCode).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ healthy: true });
      expect((await cli('up')).exitCode).toBe(1); // already running
      expect((await cli('down')).exitCode).toBe(0);
      const after = await cli('status');
      expect(after.exitCode).toBe(1);
      expect(JSON.parse(after.stdout)).toMatchObject({ exists: false });
    } finally {
      await destroySandbox(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
