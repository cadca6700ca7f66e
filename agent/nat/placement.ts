/**
 * Which node runs each VPC NAT gateway: one {@link createElection election} per gateway on the
 * Northbound database. Every node whose labels match a gateway's selector is a candidate
 * (requests the gateway's lock); the holder runs the gateway. When it dies or stops matching,
 * the server hands the lock to the next candidate, which brings the gateway up with the same
 * EIPs and announces them (the move needs no other agent to be up, and no two nodes ever run
 * one gateway while their NB sessions are alive).
 */
import { createHash } from 'node:crypto';
import { createElection, type Election, type ElectionDeps } from '../election.js';

/** The gateway's lock: an RFC 7047 <id>, readable, and distinct for names that differ only in punctuation. */
export function gatewayLockName(gateway: string): string {
  const readable = gateway.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40);
  const digest = createHash('sha256').update(gateway).digest('hex').slice(0, 8);
  return `vpc_agent_natgw_${readable}_${digest}`;
}

export interface GatewayPlacement {
  /** This node is a candidate for exactly these gateways (the others are given up). */
  want(gateways: Iterable<string>): Promise<void>;
  /** This node runs `gateway` now. */
  runs(gateway: string): boolean;
  /** The gateways this node runs now. */
  running(): string[];
  /** Called whenever this node wins or loses a gateway. */
  onChange(listener: (gateway: string, runs: boolean) => void): () => void;
  /** Gives every gateway up. */
  close(): Promise<void>;
}

export function createGatewayPlacement(deps: ElectionDeps): GatewayPlacement {
  const elections = new Map<string, Election>();
  const listeners = new Set<(gateway: string, runs: boolean) => void>();
  const placement: GatewayPlacement = {
    async want(gateways) {
      const wanted = new Set(gateways);
      for (const name of wanted) {
        if (elections.has(name)) continue;
        const e = createElection(deps, {
          lockName: gatewayLockName(name),
          role: `node of NAT gateway ${name}`,
        });
        e.on('change', (held) => {
          for (const l of listeners) l(name, held);
        });
        elections.set(name, e);
        e.start();
      }
      for (const [name, e] of [...elections]) {
        if (wanted.has(name)) continue;
        elections.delete(name);
        await e.stop();
      }
    },
    runs: (gateway) => elections.get(gateway)?.holds() ?? false,
    running: () => [...elections].filter(([, e]) => e.holds()).map(([n]) => n),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => placement.want([]),
  };
  return placement;
}
