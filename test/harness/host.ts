/**
 * Safety net for tests that touch networking: a snapshot of the host's own (root) network
 * namespace — links, addresses, routes, the nftables ruleset and `ip_forward` — to compare
 * before and after. Tests must leave it unchanged (DEVELOPERS.md network safety rules).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { run } from '../../agent/sandbox/process.js';

export interface HostSnapshot {
  /** `name state` per link (counters and flags that change on their own are left out). */
  links: string[];
  addresses: string[];
  routes: string[];
  routes6: string[];
  /** sha256 of `nft list ruleset`. */
  nftRulesetSha256: string;
  ipForward: string;
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

/** Takes a snapshot of the root network namespace (the one this process runs in). */
export async function snapshotHost(): Promise<HostSnapshot> {
  const [links, addrs, routes, routes6, nft, fwd] = await Promise.all([
    run('ip', ['-br', 'link']),
    run('ip', ['-br', 'addr']),
    run('ip', ['route']),
    run('ip', ['-6', 'route']),
    run('nft', ['list', 'ruleset'], { reject: false }),
    readFile('/proc/sys/net/ipv4/ip_forward', 'utf8'),
  ]);
  return {
    links: lines(links.stdout).map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    addresses: lines(addrs.stdout),
    routes: lines(routes.stdout),
    routes6: lines(routes6.stdout),
    nftRulesetSha256: createHash('sha256').update(nft.stdout).digest('hex'),
    ipForward: fwd.trim(),
  };
}
