/**
 * The datapath collector on the agent's registry, against replay sockets serving replies
 * recorded from ovs-vswitchd 3.1 — complete, partial and wrong ones. A failing source is
 * counted in vpc_agent_collector_errors_total and never breaks the scrape.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDatapathCollector } from '../../../../agent/metrics/datapath.js';
import { createMetrics } from '../../../../agent/metrics/index.js';
import { fixture, openflowFixture, openflowReplay, unixctlReplay, type UnixctlReply } from './replay.js';

const RECORDED: Record<string, UnixctlReply> = {
  'dpctl/show': fixture('dpctl-show.txt'),
  'ofproto/list': fixture('ofproto-list.txt'),
  'upcall/show': fixture('upcall-show.txt'),
};

let dir: string;
const closers: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vpca-dp-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
/** A run directory with a replayed vswitchd control socket and, unless `openflow` is false, br-int.mgmt. */
async function node(replies: Record<string, UnixctlReply>, opts: { openflow?: boolean } = {}) {
  const runDir = await mkdtemp(path.join(dir, `n${n++}-`));
  const socket = path.join(runDir, 'ovs-vswitchd.ctl');
  const ctl = await unixctlReplay(socket, replies);
  closers.push(ctl);
  if (opts.openflow !== false) {
    closers.push(
      await openflowReplay(
        path.join(runDir, 'br-int.mgmt'),
        openflowFixture('openflow-table-stats-of15.hex'),
      ),
    );
  }
  return { runDir, socket, ctl };
}

/** The agent's full registry plus the datapath collector. */
function setup(where: { runDir: string; socket?: string }, minIntervalMs = 60_000) {
  const metrics = createMetrics({ isWriter: () => true }, { processMetrics: false });
  const collector = createDatapathCollector({ registry: metrics.registry }, { ...where, minIntervalMs });
  closers.push({ close: async () => collector.close() });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const m = await metrics.registry.getSingleMetric(name)?.get();
    return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { metrics, collector, value, text: () => metrics.registry.metrics() };
}

const NETDEV = { datapath: 'netdev@ovs-netdev' };

describe('datapath collector on recorded replies', () => {
  it('exposes lookups as counters, flows/limits as gauges, and per-bridge ports and OpenFlow flows', async () => {
    const { runDir, socket } = await node(RECORDED);
    const { text, value } = setup({ runDir, socket });
    const out = await text();
    expect(out).toContain('# TYPE vpc_agent_datapath_lookups_total counter');
    expect(out).toContain('vpc_agent_datapath_lookups_total{datapath="netdev@ovs-netdev",result="hit"} 18');
    expect(out).toContain(
      'vpc_agent_datapath_lookups_total{datapath="netdev@ovs-netdev",result="missed"} 21',
    );
    expect(out).toContain('vpc_agent_datapath_lookups_total{datapath="netdev@ovs-netdev",result="lost"} 0');
    expect(out).toContain('# TYPE vpc_agent_datapath_flows gauge');
    expect(await value('vpc_agent_datapath_flows', NETDEV)).toBe(2);
    expect(await value('vpc_agent_datapath_upcall_flow_limit', NETDEV)).toBe(11000);
    expect(await value('vpc_agent_datapath_upcall_dump_duration_seconds', NETDEV)).toBe(0.001);
    expect(await value('vpc_agent_bridge_openflow_flows', { bridge: 'br-int' })).toBe(141);
    // The userspace datapath counts no masks: no series rather than a made-up value.
    expect(out).not.toMatch(/^vpc_agent_datapath_masks/m);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(0);
    expect(await value('vpc_agent_nb_writer')).toBe(1);
  });

  it('serves scrapes within the interval from one refresh; concurrent scrapes share it', async () => {
    const { runDir, socket, ctl } = await node(RECORDED);
    const cached = setup({ runDir, socket });
    await Promise.all([cached.text(), cached.text(), cached.text(), cached.text()]);
    await cached.text();
    expect(cached.collector.sampler.refreshes).toBe(1);
    expect(ctl.seen).toEqual(['dpctl/show', 'ofproto/list', 'upcall/show']);

    const eager = setup({ runDir, socket }, 0);
    await Promise.all([eager.text(), eager.text()]);
    expect(eager.collector.sampler.refreshes).toBe(1);
    await eager.text();
    expect(eager.collector.sampler.refreshes).toBe(2);
  });

  it('finds a vswitchd named after its pid through the pidfile of the run directory', async () => {
    const runDir = await mkdtemp(path.join(dir, 'pid-'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(runDir, 'ovs-vswitchd.pid'), '4242\n');
    closers.push(await unixctlReplay(path.join(runDir, 'ovs-vswitchd.4242.ctl'), RECORDED));
    const { value } = setup({ runDir });
    expect(await value('vpc_agent_datapath_lookups_total', { ...NETDEV, result: 'hit' })).toBe(18);
  });
});

describe('locating ovs-vswitchd in the run directory', () => {
  it('falls back to ovs-vswitchd.ctl when the pidfile names no socket (vswitchd run with --unixctl)', async () => {
    const runDir = await mkdtemp(path.join(dir, 'fixed-'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(runDir, 'ovs-vswitchd.pid'), '4243\n');
    closers.push(await unixctlReplay(path.join(runDir, 'ovs-vswitchd.ctl'), RECORDED));
    const { value } = setup({ runDir });
    expect(await value('vpc_agent_datapath_lookups_total', { ...NETDEV, result: 'missed' })).toBe(21);
  });
});

describe('datapath collector on wrong and partial replies', () => {
  it('an unknown command is counted and only its series are missing', async () => {
    const { runDir, socket } = await node({
      ...RECORDED,
      'dpctl/show': { error: '"dpctl/show" is not a valid command' },
    });
    const { text, value } = setup({ runDir, socket });
    const out = await text();
    expect(out).not.toMatch(/^vpc_agent_datapath_lookups_total\{/m);
    expect(out).not.toMatch(/^vpc_agent_datapath_flows\{/m);
    expect(await value('vpc_agent_datapath_upcall_flow_limit', NETDEV)).toBe(11000);
    expect(await value('vpc_agent_bridge_openflow_flows', { bridge: 'br-int' })).toBe(141);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(1);
  });

  it('a reply of the wrong shape is counted; a partial one keeps what it has', async () => {
    const { runDir, socket } = await node({
      ...RECORDED,
      'ofproto/list': 'handlers:1 idl-cells-Open_vSwitch:214 ofconns:3',
      'dpctl/show': 'netdev@ovs-netdev:\n  lookups: hit:18 missed:21 lost:0\n',
    });
    const { text, value } = setup({ runDir, socket });
    const out = await text();
    expect(await value('vpc_agent_datapath_lookups_total', { ...NETDEV, result: 'hit' })).toBe(18);
    expect(out).not.toMatch(/^vpc_agent_datapath_flows\{/m);
    // The OpenFlow read does not depend on ofproto/list: the bridge's flows still appear.
    expect(await value('vpc_agent_bridge_openflow_flows', { bridge: 'br-int' })).toBe(141);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(1);
  });

  it('a socket that answers garbage fails every command; the scrape still succeeds', async () => {
    const { runDir, socket } = await node({ 'dpctl/show': { raw: 'this is not JSON' } });
    const { text, value } = setup({ runDir, socket });
    const out = await text();
    expect(out).not.toMatch(/^vpc_agent_datapath_\w+\{/m);
    expect(await value('vpc_agent_bridge_openflow_flows', { bridge: 'br-int' })).toBe(141);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(await value('vpc_agent_nb_writer')).toBe(1);
  });

  it('no vswitchd (no socket, no pidfile): one error per refresh, the rest of the registry intact', async () => {
    const runDir = await mkdtemp(path.join(dir, 'empty-'));
    const { text, value, collector } = setup({ runDir }, 0);
    await text();
    await text();
    expect(collector.sampler.refreshes).toBe(2);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(3);
    expect((await collector.sample()).errors[0]?.source).toBe('unixctl');
    expect(await value('vpc_agent_nb_writer')).toBe(1);
  });

  it('a stale management socket of a bridge vswitchd no longer has is neither a series nor an error', async () => {
    const { runDir, socket } = await node(RECORDED);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(runDir, 'br-gone.mgmt'), '');
    const { text, value } = setup({ runDir, socket });
    const out = await text();
    expect(out).not.toContain('bridge="br-gone"');
    expect(await value('vpc_agent_bridge_openflow_flows', { bridge: 'br-int' })).toBe(141);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(0);
  });

  it('a bridge vswitchd lists without an OpenFlow socket is an error and has no flow series', async () => {
    const { runDir, socket } = await node(RECORDED, { openflow: false });
    const { text, value, collector } = setup({ runDir, socket });
    const out = await text();
    expect(out).not.toMatch(/^vpc_agent_bridge_openflow_flows\{/m);
    expect(await value('vpc_agent_datapath_lookups_total', { ...NETDEV, result: 'hit' })).toBe(18);
    expect(await value('vpc_agent_collector_errors_total', { collector: 'datapath' })).toBe(1);
    expect((await collector.sample()).errors).toEqual([
      { source: 'openflow br-int', message: `no management socket ${path.join(runDir, 'br-int.mgmt')}` },
    ]);
  });
});
