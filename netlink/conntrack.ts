/**
 * The connection tracking table of a network namespace through `conntrack` (conntrack-tools,
 * conntrack(8)): list IPv4 entries, delete entries by filter or one by one by their original
 * tuple. Inside a namespace given by name or path (`nsenter --net`).
 *
 * An entry has two tuples: `orig` (as the first packet came) and `reply` (as the answer is
 * expected). NAT shows as a difference between them: source NAT changes `reply.dst`,
 * destination NAT changes `reply.src` (and the ports).
 */
import { execa } from 'execa';
import { HostNetError } from './errors.js';
import { commandIn } from './exec.js';

export interface ConntrackTuple {
  src: string;
  dst: string;
  /** TCP/UDP/SCTP ports; undefined for ICMP. */
  sport?: number;
  dport?: number;
  /** ICMP echo id. */
  id?: number;
}

export interface ConntrackEntry {
  /** `tcp`, `udp`, `icmp`, … */
  proto: string;
  orig: ConntrackTuple;
  reply: ConntrackTuple;
  /** TCP state (`ESTABLISHED`, …), when the protocol has one. */
  state?: string;
}

/** Neither address of either tuple was translated. */
export function isUnNated(e: ConntrackEntry): boolean {
  return (
    e.reply.src === e.orig.dst &&
    e.reply.dst === e.orig.src &&
    e.reply.sport === e.orig.dport &&
    e.reply.dport === e.orig.sport
  );
}

/** What `conntrack -D` / `-L` select (conntrack(8) FILTER PARAMETERS). */
export interface ConntrackFilter {
  proto?: string;
  origSrc?: string;
  origDst?: string;
  replySrc?: string;
  replyDst?: string;
  origSport?: number;
  origDport?: number;
  icmpId?: number;
}

export class ConntrackError extends HostNetError {
  constructor(op: string, netns: string | undefined, stderr: string) {
    const where = netns === undefined ? '' : ` in netns ${netns}`;
    super('CONNTRACK_FAILED', `${op}${where}: ${stderr.trim()}`);
  }
}

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

/** Parses one line of `conntrack -L` (default output); undefined for lines that are not entries. */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const tokens = line.trim().split(/\s+/);
  if (tokens.length < 4 || !/^\d+$/.test(tokens[1] ?? '')) return undefined;
  const tuples: Record<string, string>[] = [{}, {}];
  let state: string | undefined;
  let which = -1;
  for (const t of tokens.slice(3)) {
    const eq = t.indexOf('=');
    if (eq < 0) {
      if (which < 0 && /^[A-Z_]+$/.test(t)) state = t;
      continue;
    }
    const key = t.slice(0, eq);
    const value = t.slice(eq + 1);
    if (key === 'src') which += 1;
    if (which < 0 || which > 1) continue;
    const tuple = tuples[which]!;
    if (!(key in tuple)) tuple[key] = value;
  }
  const tuple = (x: Record<string, string>): ConntrackTuple | undefined => {
    if (!x['src'] || !x['dst']) return undefined;
    const out: ConntrackTuple = { src: x['src'], dst: x['dst'] };
    const sport = num(x['sport']);
    const dport = num(x['dport']);
    const id = num(x['id']);
    if (sport !== undefined) out.sport = sport;
    if (dport !== undefined) out.dport = dport;
    if (id !== undefined) out.id = id;
    return out;
  };
  const orig = tuple(tuples[0]!);
  const reply = tuple(tuples[1]!);
  if (!orig || !reply) return undefined;
  return { proto: tokens[0]!, orig, reply, ...(state ? { state } : {}) };
}

function filterArgs(f: ConntrackFilter): string[] {
  const a: string[] = [];
  if (f.proto !== undefined) a.push('-p', f.proto);
  if (f.origSrc !== undefined) a.push('--orig-src', f.origSrc);
  if (f.origDst !== undefined) a.push('--orig-dst', f.origDst);
  if (f.replySrc !== undefined) a.push('--reply-src', f.replySrc);
  if (f.replyDst !== undefined) a.push('--reply-dst', f.replyDst);
  if (f.origSport !== undefined) a.push('--orig-port-src', String(f.origSport));
  if (f.origDport !== undefined) a.push('--orig-port-dst', String(f.origDport));
  if (f.icmpId !== undefined) a.push('--icmp-id', String(f.icmpId));
  return a;
}

async function conntrack(netns: string | undefined, args: string[]) {
  const [cmd, argv] = commandIn(netns, 'conntrack', args);
  return execa(cmd, argv, { reject: false, stdin: 'ignore', timeout: 30_000 });
}

/** IPv4 entries of the namespace (optionally filtered). */
export async function listConntrack(
  netns: string | undefined,
  filter: ConntrackFilter = {},
): Promise<ConntrackEntry[]> {
  const r = await conntrack(netns, ['-L', '-f', 'ipv4', ...filterArgs(filter)]);
  if (r.exitCode !== 0) throw new ConntrackError('conntrack.list', netns, r.stderr);
  return r.stdout
    .split('\n')
    .map(parseConntrackLine)
    .filter((e): e is ConntrackEntry => e !== undefined);
}

/**
 * Deletes the IPv4 entries matching `filter`; returns how many. None matching is success (0).
 * An empty filter is refused: it would flush the table.
 */
export async function deleteConntrack(netns: string | undefined, filter: ConntrackFilter): Promise<number> {
  const args = filterArgs(filter);
  if (args.length === 0) throw new ConntrackError('conntrack.delete', netns, 'refusing an empty filter');
  const r = await conntrack(netns, ['-D', '-f', 'ipv4', ...args]);
  const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
  if (m) return Number(m[1]);
  if (r.exitCode === 0) return 0;
  throw new ConntrackError('conntrack.delete', netns, r.stderr);
}

/** Deletes each entry by its original tuple; returns how many were deleted. */
export async function deleteConntrackEntries(
  netns: string | undefined,
  entries: readonly ConntrackEntry[],
): Promise<number> {
  let n = 0;
  for (const e of entries) {
    const f: ConntrackFilter = { proto: e.proto, origSrc: e.orig.src, origDst: e.orig.dst };
    if (e.orig.sport !== undefined) f.origSport = e.orig.sport;
    if (e.orig.dport !== undefined) f.origDport = e.orig.dport;
    if (e.orig.id !== undefined && e.proto === 'icmp') f.icmpId = e.orig.id;
    n += await deleteConntrack(netns, f);
  }
  return n;
}
