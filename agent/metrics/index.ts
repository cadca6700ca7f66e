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
