/**
 * The agent's full metrics registry on a sandbox node, as the agent builds it: `createMetrics`
 * (process metrics included) plus `createNodeMetrics` (the datapath collector on the node's
 * ovs-vswitchd, the interface collector on its own Open_vSwitch client) — and `promtool check
 * metrics` on a scrape.
 */
import type { Registry } from 'prom-client';
import {
  createMetrics,
  createNodeMetrics,
  type AgentMetrics,
  type PortPlacement,
} from '../../agent/metrics/index.js';
import type { ChassisInfo } from '../../agent/sandbox/chassis.js';
import { run } from '../../agent/sandbox/process.js';
import { OvsdbClient } from '../../ovsdb/index.js';

export interface NodeMetrics {
  /** The agent's metrics (`createMetrics`), to feed events into. */
  metrics: AgentMetrics;
  registry: Registry;
  close(): Promise<void>;
}

/**
 * Builds the registry for `node` as the agent wires it (`createNodeMetrics`, the run directory
 * derived from the node's `unix:` Open_vSwitch remote); `minIntervalMs` of the datapath
 * collector (default 0: every scrape refreshes). Resolves once the interface client is synced.
 */
export async function startNodeMetrics(
  node: Pick<ChassisInfo, 'ovsRemote'>,
  opts: { minIntervalMs?: number; lookup?: (ifaceId: string) => PortPlacement | undefined } = {},
): Promise<NodeMetrics> {
  const metrics = createMetrics({ isWriter: () => true });
  let client: OvsdbClient | undefined;
  const nodeMetrics = createNodeMetrics(
    {
      registry: metrics.registry,
      createClient: (o) => (client = OvsdbClient.create(o)),
      ...(opts.lookup ? { lookup: opts.lookup } : {}),
    },
    { ovs: node.ovsRemote, datapathIntervalMs: opts.minIntervalMs ?? 0 },
  );
  nodeMetrics.start();
  await client!.ready();
  return { metrics, registry: metrics.registry, close: () => nodeMetrics.stop() };
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
