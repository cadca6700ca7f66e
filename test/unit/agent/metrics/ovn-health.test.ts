/**
 * The OVN health collector on the agent's registry, against replay sockets serving replies
 * recorded from a clustered sandbox — complete, partial and wrong ones: NB/SB members by control
 * socket (`cluster/status`) and by remote (`_Server`), ovn-controller found by its pidfile,
 * ovn-northd. A source that fails is counted in vpc_agent_collector_errors_total and leaves the
 * other series in place. (The Southbound counts and bindings need an ovsdb-server: the
 * integration tier.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../agent/metrics/index.js';
import {
  createOvnHealthCollector,
  ovnMembers,
  type OvnHealthConfig,
} from '../../../../agent/metrics/ovn-health.js';
import { fixture, unixctlReplay, type UnixctlReply } from './replay.js';

let dir: string;
const closers: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vpca-ovn-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function serve(name: string, replies: Record<string, UnixctlReply>) {
  const socket = path.join(dir, `${n++}-${name}`);
  const r = await unixctlReplay(socket, replies);
  closers.push(r);
  return { socket, seen: r.seen };
}

function setup(config: OvnHealthConfig, clusterWide?: () => boolean) {
  const metrics = createMetrics({}, { processMetrics: false });
  const collector = createOvnHealthCollector(
    { registry: metrics.registry, ...(clusterWide ? { clusterWide } : {}) },
    { minIntervalMs: 60_000, timeoutMs: 1000, ...config },
  );
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const m = await metrics.registry.getSingleMetric(name)?.get();
    return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { collector, value, text: () => metrics.registry.metrics() };
}

const NB = 'OVN_Northbound';
const SB = 'OVN_Southbound';

describe('NB/SB members', () => {
  it('reads clustered members by control socket: role, leader, term, backlogs, log index', async () => {
    const leader = await serve('nb1.ctl', { 'cluster/status': fixture('cluster-status-leader.txt') });
    const follower = await serve('nb2.ctl', { 'cluster/status': fixture('cluster-status-follower.txt') });
    const { value, text } = setup({ members: ovnMembers({ nbCtl: [leader.socket, follower.socket] }) });
    const out = await text();
    expect(out).toContain('# TYPE vpc_agent_ovn_cluster_term gauge');
    const m1 = { database: NB, member: leader.socket };
    const m2 = { database: NB, member: follower.socket };
    expect(await value('vpc_agent_ovn_db_member_up', m1)).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_role', { ...m1, role: 'leader' })).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_role', { ...m2, role: 'follower' })).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_leader', m1)).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_leader', m2)).toBe(0);
    expect(await value('vpc_agent_ovn_cluster_connected', m2)).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_term', m1)).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_uncommitted_entries', m1)).toBe(0);
    expect(await value('vpc_agent_ovn_cluster_unapplied_entries', m2)).toBe(0);
    expect(await value('vpc_agent_ovn_cluster_log_index', m1)).toBe(11);
    expect(leader.seen).toEqual(['cluster/status']);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'ovn' })).toBe(0);
  });

  it('reads members by remote through _Server, without term or backlog series', async () => {
    const sb2 = await serve('sb2.sock', {
      transact: { json: JSON.parse(fixture('server-database-follower.json')) },
    });
    const { value } = setup({ members: ovnMembers({ sb: `unix:${sb2.socket}` }) });
    const m = { database: SB, member: `unix:${sb2.socket}` };
    expect(await value('vpc_agent_ovn_db_member_up', m)).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_role', { ...m, role: 'follower' })).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_connected', m)).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_log_index', m)).toBe(8);
    expect(await value('vpc_agent_ovn_cluster_term', m)).toBeUndefined();
    expect(await value('vpc_agent_ovn_cluster_uncommitted_entries', m)).toBeUndefined();
    expect(sb2.seen).toEqual(['transact']);
  });

  it('a standalone server is up with role standalone; a missing socket is down; a wrong reply is counted', async () => {
    const standalone = await serve('nb.ctl', { 'cluster/status': { error: 'unknown cluster' } });
    const wrong = await serve('sb.ctl', { 'cluster/status': fixture('dpctl-show.txt') });
    const gone = path.join(dir, 'no-such.ctl');
    const { value, text } = setup({
      members: [
        { database: NB, ctl: standalone.socket },
        { database: SB, ctl: wrong.socket },
        { database: SB, ctl: gone },
      ],
    });
    expect(await value('vpc_agent_ovn_cluster_role', { member: standalone.socket, role: 'standalone' })).toBe(
      1,
    );
    expect(await value('vpc_agent_ovn_db_member_up', { member: standalone.socket })).toBe(1);
    expect(await value('vpc_agent_ovn_db_member_up', { member: wrong.socket })).toBe(1);
    expect(await value('vpc_agent_ovn_cluster_role', { member: wrong.socket })).toBeUndefined();
    expect(await value('vpc_agent_ovn_db_member_up', { member: gone })).toBe(0);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'ovn' })).toBe(2);
    expect(await text()).not.toMatch(/vpc_agent_ovn_cluster_term\{/);
  });

  it('reads members known only by remote only while cluster-wide values are asked for', async () => {
    const sb2 = await serve('sb2.sock', {
      transact: { json: JSON.parse(fixture('server-database-follower.json')) },
    });
    const nb1 = await serve('nb1.ctl', { 'cluster/status': fixture('cluster-status-leader.txt') });
    let writer = false;
    const { value } = setup(
      { members: ovnMembers({ nbCtl: [nb1.socket], sb: `unix:${sb2.socket}` }), minIntervalMs: 0 },
      () => writer,
    );
    expect(await value('vpc_agent_ovn_db_member_up', { member: nb1.socket })).toBe(1);
    expect(await value('vpc_agent_ovn_db_member_up', { database: SB })).toBeUndefined();
    expect(sb2.seen).toEqual([]);
    writer = true;
    expect(await value('vpc_agent_ovn_db_member_up', { database: SB })).toBe(1);
  });
});

describe('ovn-controller and ovn-northd', () => {
  it('finds ovn-controller by its pidfile and reads its SB session; northd by its socket', async () => {
    const runDir = await mkdtemp(path.join(dir, 'run-'));
    await writeFile(path.join(runDir, 'ovn-controller.pid'), '4242\n');
    const ctl = await unixctlReplay(path.join(runDir, 'ovn-controller.4242.ctl'), {
      'connection-status': 'not connected\n',
    });
    closers.push(ctl);
    const northd = await serve('northd.ctl', {
      status: fixture('northd-status.txt'),
      'nb-connection-status': 'connected\n',
      'sb-connection-status': 'connected\n',
    });
    const { value } = setup({
      controllerCtl: undefined,
      runDirs: [path.join(dir, 'empty'), runDir],
      northdCtl: northd.socket,
    });
    // Without an SB client, ovn-controller is read only when its socket is named.
    expect(await value('vpc_agent_ovn_controller_up')).toBeUndefined();
    const withCtl = setup({
      controllerCtl: path.join(runDir, 'ovn-controller.4242.ctl'),
      northdCtl: northd.socket,
    });
    expect(await withCtl.value('vpc_agent_ovn_controller_up')).toBe(1);
    expect(await withCtl.value('vpc_agent_ovn_controller_sb_connected')).toBe(0);
    expect(await withCtl.value('vpc_agent_ovn_northd_up')).toBe(1);
    expect(await withCtl.value('vpc_agent_ovn_northd_active')).toBe(1);
    expect(await withCtl.value('vpc_agent_ovn_northd_db_connected', { database: NB })).toBe(1);
    expect(await withCtl.value('vpc_agent_ovn_northd_db_connected', { database: SB })).toBe(1);
    // Both collectors read northd, each in one batch.
    expect(northd.seen).toEqual(
      Array(2).fill(['status', 'nb-connection-status', 'sb-connection-status']).flat(),
    );
  });

  it('a daemon that is gone is up 0; a partial northd reply keeps what it has', async () => {
    const northd = await serve('northd.ctl', {
      status: 'Status: standby\n',
      'nb-connection-status': 'connected\n',
    });
    const { value } = setup({ controllerCtl: path.join(dir, 'gone.ctl'), northdCtl: northd.socket });
    expect(await value('vpc_agent_ovn_controller_up')).toBe(0);
    expect(await value('vpc_agent_ovn_controller_sb_connected')).toBeUndefined();
    expect(await value('vpc_agent_ovn_northd_up')).toBe(1);
    expect(await value('vpc_agent_ovn_northd_active')).toBe(0);
    expect(await value('vpc_agent_ovn_northd_db_connected', { database: NB })).toBe(1);
    expect(await value('vpc_agent_ovn_northd_db_connected', { database: SB })).toBeUndefined();
    expect(await value('vpc_agent_collector_errors_total', { collector: 'ovn' })).toBe(2);
  });

  it('finds ovn-northd by pidfile, and has no northd series on a host without one', async () => {
    const runDir = await mkdtemp(path.join(dir, 'nrun-'));
    const none = setup({ runDirs: [runDir] });
    expect(await none.value('vpc_agent_ovn_northd_up')).toBeUndefined();
    await writeFile(path.join(runDir, 'ovn-northd.pid'), '777\n');
    // A pidfile without its socket: northd ran here and is gone.
    const stale = setup({ runDirs: [runDir] });
    expect(await stale.value('vpc_agent_ovn_northd_up')).toBe(0);
    closers.push(
      await unixctlReplay(path.join(runDir, 'ovn-northd.777.ctl'), { status: 'Status: active\n' }),
    );
    const found = setup({ runDirs: [runDir] });
    expect(await found.value('vpc_agent_ovn_northd_up')).toBe(1);
  });
});

describe('one refresh per interval', () => {
  it('serves concurrent scrapes and every metric of a scrape from one refresh', async () => {
    const nb1 = await serve('nb1.ctl', { 'cluster/status': fixture('cluster-status-leader.txt') });
    const { collector, text } = setup({ members: ovnMembers({ nbCtl: [nb1.socket] }) });
    await Promise.all([text(), text(), text()]);
    await text();
    expect(collector.sampler.refreshes).toBe(1);
    expect(nb1.seen).toEqual(['cluster/status']);
  });
});
