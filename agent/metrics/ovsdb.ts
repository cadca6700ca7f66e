/**
 * OVSDB connection metrics from an {@link OvsdbClient}'s events: every accepted connection after
 * the first counts as a reconnect (a failover to another RAFT member, ovsdb(7), or a server
 * restart), every `leaderChanged` as a leader change. The `connected` gauge reads
 * `client.isOnline` at scrape time (./registry.ts).
 *
 * Traffic counters (messages, bytes) live on the client's private `RpcConnection` and are not
 * reachable through the client's public API, so they are not exported yet (docs/metrics.md).
 */
import type { OvsdbClient } from '../../ovsdb/index.js';
import type { AgentMetrics } from './registry.js';

/** Follows `client`'s events; call before `client.start()` so the first connection is seen. Returns `off`. */
export function watchOvsdbClient(metrics: AgentMetrics, database: string, client: OvsdbClient): () => void {
  let connections = 0;
  const onConnected = () => {
    if (++connections > 1) metrics.ovsdbReconnects.inc({ database });
  };
  const onLeader = () => metrics.ovsdbLeaderChanges.inc({ database });
  client.on('connected', onConnected);
  client.on('leaderChanged', onLeader);
  // Zero-valued series from the start, so `rate()` and alerts see the metric before any event.
  metrics.ovsdbReconnects.inc({ database }, 0);
  metrics.ovsdbLeaderChanges.inc({ database }, 0);
  return () => {
    client.off('connected', onConnected);
    client.off('leaderChanged', onLeader);
  };
}
