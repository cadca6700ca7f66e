/**
 * The node's scrape-time metrics in one piece, for the agent's wiring: the datapath collector on
 * this node's ovs-vswitchd, the interface collector on an Open_vSwitch client of its own
 * (./datapath.ts, ./interfaces.ts) and, given the SB client, the OVN health collector
 * (./ovn-health.ts), registered on the agent's registry.
 *
 * `start()` starts the interface client without waiting for it: until it is synced the
 * interface series are absent and each scrape counts a collector error, which is what an
 * operator should see; the agent's start never waits on metrics. `stop()` closes the client and
 * the OpenFlow connections.
 */
import path from 'node:path';
import type { Registry } from 'prom-client';
import { vswitch, type OvsdbClient, type OvsdbClientOptions } from '../../ovsdb/index.js';
import type { Logger } from '../log.js';
import { createDatapathCollector, type DatapathCollector } from './datapath.js';
import {
  createInterfaceCollector,
  INTERFACE_METRICS_MONITOR,
  type InterfaceCollector,
  type PortPlacement,
} from './interfaces.js';
import { createOvnHealthCollector, type OvnHealthCollector, type OvnHealthConfig } from './ovn-health.js';
import type { SbSource } from './ovn-sb.js';

export interface NodeMetricsConfig {
  /** The node's Open_vSwitch database remote (the agent's `--ovs`), e.g. `unix:/var/run/openvswitch/db.sock`. */
  ovs: string;
  /**
   * OVS run directory: vswitchd's pidfile and control socket, the bridges' `.mgmt` sockets.
   * Default: the directory of a `unix:` `ovs` remote (where ovsdb-server's socket lives beside
   * them), else `/var/run/openvswitch`.
   */
  runDir?: string;
  /** vswitchd's control socket, when it is not `<runDir>/ovs-vswitchd.<pid>.ctl` or `<runDir>/ovs-vswitchd.ctl`. */
  vswitchdSocket?: string;
  /** Datapath refresh at most this often (default 5000 ms). */
  datapathIntervalMs?: number;
  /** Per-interface series (default true). */
  perInterface?: boolean;
  /** Interfaces with series at most (default 2000). */
  maxInterfaces?: number;
  /**
   * OVN health (./ovn-health.ts), with the SB client in `deps.sb`: the members to read, the
   * daemons' control sockets or run directories (default: `/var/run/ovn`, then `runDir`).
   */
  ovn?: OvnHealthConfig;
}

export interface NodeMetricsDeps {
  registry: Registry;
  log?: Logger;
  /** Makes the Open_vSwitch client (the agent's `AgentClients.create`, for its TLS material and shutdown). */
  createClient: (opts: OvsdbClientOptions) => OvsdbClient;
  /** Subnet and VPC of a VM port by its LSP name (`iface-id`). */
  lookup?: (ifaceId: string) => PortPlacement | undefined;
  /** The agent's SB client: with it, the OVN health collector is registered too. */
  sb?: SbSource;
  /** This node's ports (LSP names), for the inconsistent-binding gauge. */
  nodePorts?: () => Iterable<string>;
  /** Whether to read the cluster-wide OVN values now (the agent: while it is the NB writer). */
  clusterWide?: () => boolean;
}

export interface NodeMetrics {
  start(): void;
  stop(): Promise<void>;
  readonly datapath: DatapathCollector;
  readonly interfaces: InterfaceCollector;
  /** With `deps.sb` only. */
  readonly ovn: OvnHealthCollector | undefined;
}

/** The directory of a `unix:PATH` remote; undefined for other remotes. */
export function unixRemoteDir(remote: string): string | undefined {
  const first = remote.split(',')[0]!.trim();
  return first.startsWith('unix:') ? path.dirname(first.slice('unix:'.length)) : undefined;
}

export function createNodeMetrics(deps: NodeMetricsDeps, config: NodeMetricsConfig): NodeMetrics {
  const runDir = config.runDir ?? unixRemoteDir(config.ovs) ?? '/var/run/openvswitch';
  const client = deps.createClient({
    remotes: config.ovs,
    database: 'Open_vSwitch',
    schema: vswitch.schema(),
    monitor: INTERFACE_METRICS_MONITOR,
  });
  const log = deps.log?.child({ module: 'metrics' });
  const datapath = createDatapathCollector(
    { registry: deps.registry, ...(log ? { log } : {}) },
    {
      runDir,
      ...(config.vswitchdSocket ? { socket: config.vswitchdSocket } : {}),
      ...(config.datapathIntervalMs !== undefined ? { minIntervalMs: config.datapathIntervalMs } : {}),
    },
  );
  const interfaces = createInterfaceCollector(
    { registry: deps.registry, source: client, ...(log ? { log } : {}) },
    {
      ...(deps.lookup ? { lookup: deps.lookup } : {}),
      ...(config.perInterface !== undefined ? { perInterface: config.perInterface } : {}),
      ...(config.maxInterfaces !== undefined ? { maxInterfaces: config.maxInterfaces } : {}),
    },
  );
  const ovn = deps.sb
    ? createOvnHealthCollector(
        {
          registry: deps.registry,
          sb: deps.sb,
          ...(log ? { log } : {}),
          ...(deps.nodePorts ? { nodePorts: deps.nodePorts } : {}),
          ...(deps.clusterWide ? { clusterWide: deps.clusterWide } : {}),
        },
        { runDirs: ['/var/run/ovn', runDir], ...config.ovn },
      )
    : undefined;
  return {
    datapath,
    interfaces,
    ovn,
    start() {
      client.start().catch((err: unknown) => log?.warn({ err }, 'interface metrics: client stopped'));
    },
    async stop() {
      datapath.close();
      await client.close();
    },
  };
}
