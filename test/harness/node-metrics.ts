/**
 * The agent's full metrics registry on a sandbox node, as the agent builds it: `createMetrics`
 * (process metrics included) plus the datapath collector on the node's ovs-vswitchd and the
 * interface collector on its own Open_vSwitch client — and `promtool check metrics` on a scrape.
 */
import type { Registry } from 'prom-client';
import {
  createMetrics,
  createDatapathCollector,
  createInterfaceCollector,
  type AgentMetrics,
} from '../../agent/metrics/index.js';
import { INTERFACE_METRICS_MONITOR, type PortPlacement } from '../../agent/metrics/interfaces.js';
import type { ChassisInfo } from '../../agent/sandbox/chassis.js';
import { run } from '../../agent/sandbox/process.js';
import { OvsdbClient, vswitch } from '../../ovsdb/index.js';

export interface NodeMetrics {
  /** The agent's metrics (`createMetrics`), to feed events into. */
  metrics: AgentMetrics;
  registry: Registry;
  /** The interface collector's Open_vSwitch client. */
  client: OvsdbClient;
  close(): Promise<void>;
}

/** Builds the registry for `node`; `minIntervalMs` of the datapath collector (default 0: every scrape refreshes). */
export async function startNodeMetrics(
  node: Pick<ChassisInfo, 'vswitchdCtl' | 'dir' | 'ovsRemote'>,
  opts: { minIntervalMs?: number; lookup?: (ifaceId: string) => PortPlacement | undefined } = {},
): Promise<NodeMetrics> {
  const metrics = createMetrics({ isWriter: () => true });
  const datapath = createDatapathCollector(
    { registry: metrics.registry },
    { socket: node.vswitchdCtl, runDir: node.dir, minIntervalMs: opts.minIntervalMs ?? 0 },
  );
  const client = await OvsdbClient.connect({
    remotes: node.ovsRemote,
    database: 'Open_vSwitch',
    schema: vswitch.schema(),
    monitor: INTERFACE_METRICS_MONITOR,
  });
  await client.ready();
  createInterfaceCollector(
    { registry: metrics.registry, source: client },
    opts.lookup ? { lookup: opts.lookup } : {},
  );
  return { metrics, registry: metrics.registry, client, close: () => (datapath.close(), client.close()) };
}

/** `promtool check metrics` on an exposition text: its exit code and what it printed (problems). */
export async function promtoolCheckMetrics(text: string): Promise<{ exitCode: number; problems: string }> {
  const r = await run('promtool', ['check', 'metrics'], { input: text, reject: false });
  return { exitCode: r.exitCode, problems: `${r.stdout}\n${r.stderr}`.trim() };
}

/** The value of the series of `name` whose labels include `labels`, from an exposition text. */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const body = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}
