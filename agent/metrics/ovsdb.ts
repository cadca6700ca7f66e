/**
 * OVSDB client metrics from an {@link OvsdbClient}'s events: every accepted connection after
 * the first counts as a reconnect (a failover to another RAFT member, ovsdb(7), or a server
 * restart), every `leaderChanged` as a leader change, every `synced` after the first as a fast
 * or full resync, every `transaction` into the duration histogram and, failed, into the errors
 * by code. The `connected` gauge reads `client.isOnline` and the cache gauge the client's cache,
 * at scrape time (./registry.ts).
 */
import type { OvsdbClient } from '../../ovsdb/index.js';
import type { AgentMetrics } from './registry.js';

/** A stable error code (`OVSDB_*`), or `ERR_UNEXPECTED`: a bounded label set. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'ERR_UNEXPECTED';
}

/** Follows `client`'s events; call before `client.start()` so the first connection is seen. Returns `off`. */
export function watchOvsdbClient(metrics: AgentMetrics, database: string, client: OvsdbClient): () => void {
  let connections = 0;
  let syncs = 0;
  const onConnected = () => {
    if (++connections > 1) metrics.ovsdbReconnects.inc({ database });
  };
  const onLeader = () => metrics.ovsdbLeaderChanges.inc({ database });
  // The first sync fills an empty cache: not a resync.
  const onSynced = (info: { fast: boolean }) => {
    if (++syncs > 1) metrics.ovsdbResyncs.inc({ database, result: info.fast ? 'fast' : 'full' });
  };
  const onTransaction = (info: { seconds: number; error?: unknown }) => {
    metrics.ovsdbTransactionSeconds.observe({ database }, info.seconds);
    if (info.error !== undefined)
      metrics.ovsdbTransactionErrors.inc({ database, code: errorCode(info.error) });
  };
  client.on('connected', onConnected);
  client.on('leaderChanged', onLeader);
  client.on('synced', onSynced);
  client.on('transaction', onTransaction);
  metrics.ovsdbCaches.set(database, () => client.cache);
  // Zero-valued series from the start, so `rate()` and alerts see the metric before any event.
  metrics.ovsdbReconnects.inc({ database }, 0);
  metrics.ovsdbLeaderChanges.inc({ database }, 0);
  for (const result of ['fast', 'full']) metrics.ovsdbResyncs.inc({ database, result }, 0);
  return () => {
    client.off('connected', onConnected);
    client.off('leaderChanged', onLeader);
    client.off('synced', onSynced);
    client.off('transaction', onTransaction);
    metrics.ovsdbCaches.delete(database);
  };
}
