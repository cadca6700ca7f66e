/**
 * Joins the LSP writes of this node's concurrent port adds into one Northbound transaction.
 *
 * Every add verifies its subnet switch's `ports` (./nb-ports.ts), so adds built from the same
 * cache would fail each other's verify if sent one by one: a burst of VMs on one node would
 * retry itself into the ground. Here adds that arrive while a transaction is in flight wait for
 * it and then go together, with one verify per switch; an add whose address the rebuilt plan
 * finds taken is left out of the transaction and fails alone with {@link ClaimTakenError}
 * (its caller allocates again), the others commit. Across nodes, each node then contends with
 * one transaction at a time, and a loser's rebuild (after the winner's rows reached its cache)
 * usually commits at the next attempt.
 */
import { joinConcurrent, type Operation, type OvsdbClient } from '../../../ovsdb/index.js';
import { planPortWrite, type NodePort } from './nb-ports.js';

export interface PortWriter {
  /** Resolves once Northbound (and this client's cache) holds `port` as this node's LSP. */
  write(port: NodePort, opts: { v4: boolean; staticMac: boolean }): Promise<void>;
}

interface Pending {
  port: NodePort;
  opts: { v4: boolean; staticMac: boolean };
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Attempts of one joined transaction: nodes adding to one subnet at once take turns. */
const MAX_ATTEMPTS = 40;

export function createPortWriter(
  nb: OvsdbClient,
  config: { owner: string; nodeOwnerId: string; timeoutMs: number },
): PortWriter {
  const join = joinConcurrent<Pending>(async (batch) => {
    const failed = new Map<Pending, unknown>();
    try {
      await nb.run(
        (cache) => {
          failed.clear();
          const ops: Operation[] = [];
          const verified = new Set<string>();
          batch.forEach((p, i) => {
            try {
              const plan = planPortWrite(
                cache,
                { owner: config.owner, nodeOwnerId: config.nodeOwnerId, ...p.opts },
                p.port,
                { name: `port${i}`, verified },
              );
              ops.push(...plan);
            } catch (err) {
              failed.set(p, err);
            }
          });
          return ops;
        },
        { waitForCache: true, timeoutMs: config.timeoutMs, maxAttempts: MAX_ATTEMPTS },
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) {
      const err = failed.get(p);
      if (err === undefined) p.resolve();
      else p.reject(err);
    }
  });

  return {
    write(port, opts) {
      return new Promise<void>((resolve, reject) => join({ port, opts, resolve, reject }));
    },
  };
}
