/** Public API of agent/metrics: the Prometheus registry, its feeders and the HTTP endpoints. */
export {
  createMetrics,
  type AgentMetrics,
  type LoadSummary,
  type MetricSources,
  type MetricsOptions,
} from './registry.js';
export { watchOvsdbClient } from './ovsdb.js';
export { instrumentPortService } from './ports.js';
export {
  createDebugServer,
  type DebugPage,
  type DebugReply,
  type DebugServer,
  type HttpHandlers,
} from './server.js';
export {
  createDatapathCollector,
  readDatapath,
  type DatapathCollector,
  type DatapathCollectorOptions,
  type DatapathSample,
} from './datapath.js';
export {
  createInterfaceCollector,
  INTERFACE_METRICS_MONITOR,
  type InterfaceCollector,
  type InterfaceCollectorOptions,
  type InterfaceRowsSource,
  type PortPlacement,
} from './interfaces.js';
export { collectorMetrics, createSampler, setCounter, type Sampler } from './sampler.js';
export {
  createNodeMetrics,
  unixRemoteDir,
  type NodeMetrics,
  type NodeMetricsConfig,
  type NodeMetricsDeps,
} from './node.js';
export { AgentRegistry, SnapshotMetric } from './series.js';
export {
  createOvnHealthCollector,
  OVN_HEALTH_INTERVAL_MS,
  ovnHealthConfig,
  ovnMembers,
  readOvnHealth,
  type OvnHealthCollector,
  type OvnHealthConfig,
  type OvnHealthFlags,
  type OvnHealthSample,
} from './ovn-health.js';
