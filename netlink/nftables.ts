/**
 * nftables through `nft` (nft(8), nftables 1.0): a script applied with `nft -f -` from stdin —
 * one transaction, all or nothing — and tables/counters read back as JSON (`nft -j`,
 * libnftables-json(5)). Inside a network namespace given by name or path. In-process through
 * libnftables when it loads (no process per call), else the `nft` tool under `nsenter --net`.
 * Knows nothing of NAT gateways: the scripts come from the caller.
 */
import { execa } from 'execa';
import { HostNetError } from './errors.js';
import { commandIn } from './exec.js';
import { libnftablesAvailable, NFT_OUTPUT, runLibnftables } from './libnftables.js';

/** `nft` failed; `stderr` holds its message (with the script's line and column). */
export class NftError extends HostNetError {
  readonly stderr: string;
  readonly netns: string | undefined;
  constructor(op: string, netns: string | undefined, stderr: string, exitCode: number | undefined) {
    const where = netns === undefined ? '' : ` in netns ${netns}`;
    super('NFT_FAILED', `${op}${where}: ${stderr.trim() || `nft exit ${exitCode ?? '?'}`}`);
    this.stderr = stderr;
    this.netns = netns;
  }
}

const NFT_TIMEOUT_MS = 30_000;

/** Output options (nft(8) `-j`, `-s`, `-e`, `-a`). */
export interface NftOutput {
  json?: boolean;
  stateless?: boolean;
  /** Print what was added (with `handle`, the handles given). */
  echo?: boolean;
  handle?: boolean;
}

/** How nft is reached: libnftables in-process (./libnftables.ts) when it loads, else the `nft` tool. */
export type NftVia = 'lib' | 'exec';
let defaultNftVia: NftVia | undefined;
export function nftVia(): NftVia {
  defaultNftVia ??= libnftablesAvailable() ? 'lib' : 'exec';
  return defaultNftVia;
}

/** Runs an nft script (commands, one per line) in `netns`. */
export async function runNft(
  netns: string | undefined,
  script: string,
  out: NftOutput = {},
  via: NftVia = nftVia(),
): Promise<{ ok: boolean; stdout: string; stderr: string; exitCode: number | undefined }> {
  if (via === 'lib') {
    let flags = 0;
    if (out.json) flags |= NFT_OUTPUT.JSON;
    if (out.stateless) flags |= NFT_OUTPUT.STATELESS;
    if (out.echo) flags |= NFT_OUTPUT.ECHO;
    if (out.handle) flags |= NFT_OUTPUT.HANDLE;
    const r = runLibnftables(netns, script, flags);
    return { ...r, exitCode: r.ok ? 0 : 1 };
  }
  const args = [
    ...(out.json ? ['-j'] : []),
    ...(out.stateless ? ['-s'] : []),
    ...(out.echo ? ['-e'] : []),
    ...(out.handle ? ['-a'] : []),
    '-f',
    '-',
  ];
  const [cmd, argv] = commandIn(netns, 'nft', args);
  const r = await execa(cmd, argv, { reject: false, timeout: NFT_TIMEOUT_MS, input: script });
  return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
}

/** Applies `script` in one transaction; throws {@link NftError}, nothing applied. Returns nft's output. */
export async function applyNftScript(
  netns: string | undefined,
  script: string,
  out: NftOutput = {},
): Promise<string> {
  const r = await runNft(netns, script, out);
  if (!r.ok) throw new NftError('nft.apply', netns, r.stderr, r.exitCode);
  return r.stdout;
}

/** A named counter's values. */
export interface NftCounter {
  packets: number;
  bytes: number;
}

export interface NftRuleInfo {
  chain: string;
  handle: number;
  /** The named counter the rule references (`counter name "x"`), if any. */
  counter: string | undefined;
}

export interface NftChainInfo {
  name: string;
  type: string | undefined;
  hook: string | undefined;
  prio: number | undefined;
  policy: string | undefined;
}

/** A table as `nft -j list table` shows it. */
export interface NftTableInfo {
  family: string;
  name: string;
  chains: NftChainInfo[];
  /** In rule order per chain, chains in listing order. */
  rules: NftRuleInfo[];
  counters: Map<string, NftCounter>;
}

/** True when nft's message says the table (or the family's table list) does not exist. */
const isAbsent = (stderr: string): boolean => /No such file or directory|does not exist/i.test(stderr);

type Json = Record<string, unknown>;

/** Parses `nft -j list table …` output (exported for tests). */
export function parseNftTable(json: string, family: string, name: string): NftTableInfo {
  const doc = JSON.parse(json) as { nftables?: Json[] };
  const out: NftTableInfo = { family, name, chains: [], rules: [], counters: new Map() };
  for (const item of doc.nftables ?? []) {
    const chain = item['chain'] as Json | undefined;
    if (chain) {
      out.chains.push({
        name: String(chain['name']),
        type: chain['type'] as string | undefined,
        hook: chain['hook'] as string | undefined,
        prio: chain['prio'] as number | undefined,
        policy: chain['policy'] as string | undefined,
      });
    }
    const counter = item['counter'] as Json | undefined;
    if (counter) {
      out.counters.set(String(counter['name']), {
        packets: Number(counter['packets'] ?? 0),
        bytes: Number(counter['bytes'] ?? 0),
      });
    }
    const rule = item['rule'] as Json | undefined;
    if (rule) {
      const exprs = (rule['expr'] as Json[] | undefined) ?? [];
      // A named counter reference is `{"counter": "name"}`; an anonymous one is an object.
      const named = exprs.map((e) => e['counter']).find((c) => typeof c === 'string') as string | undefined;
      out.rules.push({ chain: String(rule['chain']), handle: Number(rule['handle']), counter: named });
    }
  }
  return out;
}

/** The table, or undefined when it does not exist. */
export async function listNftTable(
  netns: string | undefined,
  family: string,
  name: string,
): Promise<NftTableInfo | undefined> {
  const r = await runNft(netns, `list table ${family} ${name}\n`, { json: true });
  if (!r.ok) {
    if (isAbsent(r.stderr)) return undefined;
    throw new NftError('nft.list', netns, r.stderr, r.exitCode);
  }
  return parseNftTable(r.stdout, family, name);
}

/**
 * The table as nft prints it without counter values (`nft -s list table`), or undefined when it
 * does not exist: a stable text to compare with what the last apply left.
 */
export async function listNftTableText(
  netns: string | undefined,
  family: string,
  name: string,
): Promise<string | undefined> {
  const r = await runNft(netns, `list table ${family} ${name}\n`, { stateless: true });
  if (!r.ok) {
    if (isAbsent(r.stderr)) return undefined;
    throw new NftError('nft.list', netns, r.stderr, r.exitCode);
  }
  return r.stdout;
}

/** The named counters of a table (empty when the table does not exist). */
export async function listNftCounters(
  netns: string | undefined,
  family: string,
  name: string,
): Promise<Map<string, NftCounter>> {
  return (await listNftTable(netns, family, name))?.counters ?? new Map();
}

/** Deletes the table; an absent table is success. Returns false when it was not there. */
export async function deleteNftTable(
  netns: string | undefined,
  family: string,
  name: string,
): Promise<boolean> {
  const r = await runNft(netns, `delete table ${family} ${name}\n`);
  if (r.ok) return true;
  if (isAbsent(r.stderr)) return false;
  throw new NftError('nft.delete', netns, r.stderr, r.exitCode);
}
