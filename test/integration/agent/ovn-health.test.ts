/**
 * The OVN health collector against a real Southbound ovsdb-server (standalone): logical flow and
 * chassis counts by `select` with no columns, this chassis' bindings from the agent's own
 * chassis-conditional SB monitor, and this node's ports bound on another chassis, unbound or
 * without a binding; a standalone member read both by control socket and by `_Server`.
 */
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../agent/metrics/index.js';
import { createOvnHealthCollector, ovnMembers } from '../../../agent/metrics/ovn-health.js';
import { readBindings, readSbCounts } from '../../../agent/metrics/ovn-sb.js';
import { followChassis, sbPortsMonitor } from '../../../agent/node/ports/binding.js';
import { SCHEMAS } from '../../../agent/sandbox/central.js';
import { startOvsdbServer, type OvsdbServerHandle } from '../../../agent/sandbox/ovsdb-server.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import { insert, OvsdbClient, sb as sbModel } from '../../../ovsdb/index.js';
import { makeTmpDir } from '../../harness/index.js';

const PORTS = ['p-up', 'p-down', 'p-else', 'p-unbound', 'p-missing'];

let dir: string;
let server: OvsdbServerHandle;
let writer: OvsdbClient;
let agentSb: OvsdbClient;
let offChassis: () => void;
const sbctl = (...args: string[]) => run('ovn-sbctl', [`--db=${server.unixRemote}`, '--timeout=10', ...args]);

beforeAll(async () => {
  dir = await makeTmpDir('ovnh');
  server = await startOvsdbServer({ dir, name: 'sb', schema: SCHEMAS.sb });
  await sbctl('chassis-add', 'node1', 'geneve', '127.0.0.1');
  await sbctl('chassis-add', 'node2', 'geneve', '127.0.0.2');
  writer = await OvsdbClient.connect({
    remotes: server.unixRemote,
    database: 'OVN_Southbound',
    schema: sbModel.schema(),
    monitor: false,
  });
  await writer.transact([
    insert('Datapath_Binding', { tunnel_key: 1 }, { uuidName: 'dp' }),
    ...PORTS.filter((p) => p !== 'p-missing').map((p, i) =>
      insert('Port_Binding', { logical_port: p, datapath: 'dp', tunnel_key: i + 1 }),
    ),
    ...[0, 1, 2].map((i) =>
      insert('Logical_Flow', {
        logical_datapath: 'dp',
        pipeline: 'ingress',
        table_id: i,
        priority: 0,
        match: '1',
        actions: 'next;',
      }),
    ),
  ]);
  await sbctl('lsp-bind', 'p-up', 'node1');
  await sbctl('lsp-bind', 'p-down', 'node1');
  await sbctl('lsp-bind', 'p-else', 'node2');
  await sbctl('set', 'Port_Binding', 'p-up', 'up=true');
  await sbctl('set', 'Port_Binding', 'p-down', 'up=false');
  agentSb = await OvsdbClient.connect({
    remotes: server.unixRemote,
    database: 'OVN_Southbound',
    schema: sbModel.schema(),
    monitor: sbPortsMonitor('node1'),
  });
  await agentSb.ready();
  offChassis = followChassis(agentSb, 'node1');
  await waitUntil(() => agentSb.cache.table('Port_Binding').size === 2, {
    what: 'the chassis condition applied',
    timeoutMs: 10_000,
  });
});

afterAll(async () => {
  offChassis?.();
  await agentSb?.close();
  await writer?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Southbound counts and bindings', () => {
  it('counts logical flows and chassis (empty updates, then abort: nothing committed)', async () => {
    expect(await readSbCounts(server.unixRemote, { timeoutMs: 2000 })).toEqual({
      logicalFlows: 3,
      chassis: 2,
    });
    // A dead remote first: the next one answers.
    expect(await readSbCounts([`unix:${dir}/none.sock`, server.unixRemote], { timeoutMs: 2000 })).toEqual({
      logicalFlows: 3,
      chassis: 2,
    });
    const rows = await sbctl('--bare', '--columns=_uuid', 'list', 'Logical_Flow');
    expect(rows.stdout.trim().split(/\s+/)).toHaveLength(3);
  });

  it('counts this chassis’ bindings and classifies this node’s ports bound elsewhere, unbound or without a binding', async () => {
    const b = await readBindings(agentSb, 'node1', PORTS, 2000);
    expect(b.here).toEqual({ up: 1, down: 1 });
    expect(b.inconsistent).toEqual({ other_chassis: 1, unbound: 1, no_binding: 1 });
    expect(b.ports).toEqual([
      { name: 'p-else', reason: 'other_chassis' },
      { name: 'p-unbound', reason: 'unbound' },
      { name: 'p-missing', reason: 'no_binding' },
    ]);
  });

  it('exposes them on the registry, and the gauge falls back once the port is bound here', async () => {
    const metrics = createMetrics({}, { processMetrics: false });
    const lines: { msg: string; ports?: { name: string; reason: string }[] }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as never) });
    const collector = createOvnHealthCollector(
      { registry: metrics.registry, sb: agentSb, nodePorts: () => PORTS, log },
      {
        chassis: 'node1',
        sbRemotes: server.unixRemote,
        minIntervalMs: 0,
        members: ovnMembers({ sbCtl: [server.ctlPath] }),
        runDirs: [dir],
        controllerCtl: `${dir}/no-controller.ctl`,
      },
    );
    const value = async (name: string, labels: Record<string, string> = {}) => {
      const m = await metrics.registry.getSingleMetric(name)?.get();
      return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    };
    expect(await value('vpc_agent_ovn_logical_flows')).toBe(3);
    expect(await value('vpc_agent_ovn_chassis')).toBe(2);
    expect(await value('vpc_agent_ovn_port_bindings', { state: 'up' })).toBe(1);
    expect(await value('vpc_agent_ovn_inconsistent_port_bindings', { reason: 'other_chassis' })).toBe(1);
    // A standalone ovsdb-server has no cluster/status command at all.
    expect(await value('vpc_agent_ovn_cluster_role', { member: server.ctlPath, role: 'standalone' })).toBe(1);
    expect(await value('vpc_agent_ovn_controller_up')).toBe(0);
    // The log names the ports, once per change.
    const named = lines.filter((l) => l.msg === 'ports of this node are not bound on this chassis');
    expect(named).toHaveLength(1);
    expect(named[0]!.ports?.map((p) => p.name)).toEqual(['p-else', 'p-unbound', 'p-missing']);

    await sbctl('lsp-unbind', 'p-else');
    await sbctl('lsp-bind', 'p-else', 'node1');
    await waitUntil(
      async () =>
        (await value('vpc_agent_ovn_inconsistent_port_bindings', { reason: 'other_chassis' })) === 0,
      {
        what: 'p-else bound here',
        timeoutMs: 10_000,
      },
    );
    // ovn-sbctl lsp-bind marks the binding up.
    expect(await value('vpc_agent_ovn_port_bindings', { state: 'up' })).toBe(2);
    expect(collector.sampler.refreshes).toBeGreaterThan(1);
  });

  it('reads a standalone member by remote through _Server', async () => {
    const metrics = createMetrics({}, { processMetrics: false });
    createOvnHealthCollector(
      { registry: metrics.registry },
      { members: ovnMembers({ sb: server.unixRemote }) },
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      `vpc_agent_ovn_cluster_role{database="OVN_Southbound",member="${server.unixRemote}",role="standalone"} 1`,
    );
    expect(text).toContain(
      `vpc_agent_ovn_db_member_up{database="OVN_Southbound",member="${server.unixRemote}"} 1`,
    );
  });
});
