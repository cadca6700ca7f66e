/**
 * Pure parsers of the ovs-vswitchd unixctl replies the datapath collector reads (./datapath.ts).
 * Each takes the command's text output and returns what it could read; a reply without any
 * recognisable datapath is an {@link OvsReplyError} (a wrong reply, e.g. another daemon's
 * socket), while a datapath missing some lines just lacks those fields (a partial reply).
 *
 * Formats, as ovs-vswitchd 3.x prints them (ovs-vswitchd(8) "DATAPATH COMMANDS",
 * ovs-dpctl(8) `show`):
 * - `dpctl/show`: per datapath `<type>@<name>:`, then `lookups: hit:H missed:M lost:L`,
 *   `flows: N` and, on datapaths that count them (the Linux kernel datapath; the userspace
 *   datapath does not), `masks: hit:H total:T hit/pkt:R`, then `port N: name (type)` lines.
 * - `ofproto/list`: one bridge (OpenFlow switch) name a line; nothing when there is none.
 * - `upcall/show`: per datapath `<type>@<name>:`, then
 *   `flows : (current C) (avg A) (max M) (limit L)` and `dump duration : Dms`.
 */
import { AgentError } from '../errors.js';

/** A unixctl reply that is not what the command prints (`ERR_OVS_REPLY`). */
export class OvsReplyError extends AgentError {
  constructor(
    /** The command whose reply could not be read. */
    readonly command: string,
    message: string,
  ) {
    super('ERR_OVS_REPLY', `${command}: ${message}`);
  }
}

/** One datapath of `dpctl/show`. */
export interface DpctlDatapath {
  /** `<type>@<name>`, e.g. `netdev@ovs-netdev`, `system@ovs-system`. */
  name: string;
  lookups?: { hit: number; missed: number; lost: number };
  flows?: number;
  /** Only on datapaths that count masks (the kernel datapath). */
  masks?: { hit: number; total: number };
  /** Datapath ports listed. */
  ports: number;
}

/** One datapath of `upcall/show`. */
export interface UpcallDatapath {
  name: string;
  flows?: { current: number; limit: number };
  /** Duration of the last flow dump (revalidation), in seconds. */
  dumpDurationSeconds?: number;
}

const DATAPATH_HEADER = /^(\S+@\S+?):(.*)$/;
const num = (s: string | undefined) => (s === undefined ? NaN : Number(s));
/** Integers only: a counter read as NaN or a fraction would corrupt a series. */
const count = (s: string | undefined): number | undefined => {
  const n = num(s);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
};

/** Splits a reply into `{header, rest, body}` blocks, one per datapath header line. */
function datapathBlocks(command: string, text: string): { name: string; rest: string; body: string[] }[] {
  const blocks: { name: string; rest: string; body: string[] }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\S/.test(line) ? DATAPATH_HEADER.exec(line.trimEnd()) : null;
    if (m) blocks.push({ name: m[1]!, rest: m[2]!, body: [] });
    else if (line.trim() !== '') blocks.at(-1)?.body.push(line);
  }
  if (blocks.length === 0) throw new OvsReplyError(command, 'no datapath in the reply');
  return blocks;
}

/** Parses `dpctl/show` (without `-s`). */
export function parseDpctlShow(text: string): DpctlDatapath[] {
  return datapathBlocks('dpctl/show', text).map(({ name, body }) => {
    const dp: DpctlDatapath = { name, ports: 0 };
    for (const line of body) {
      const t = line.trim();
      let m: RegExpExecArray | null;
      if ((m = /^lookups: hit:(\d+) missed:(\d+) lost:(\d+)$/.exec(t))) {
        const [hit, missed, lost] = [count(m[1]), count(m[2]), count(m[3])];
        if (hit !== undefined && missed !== undefined && lost !== undefined)
          dp.lookups = { hit, missed, lost };
      } else if ((m = /^flows: (\d+)$/.exec(t))) {
        const flows = count(m[1]);
        if (flows !== undefined) dp.flows = flows;
      } else if ((m = /^masks: hit:(\d+) total:(\d+)/.exec(t))) {
        const [hit, total] = [count(m[1]), count(m[2])];
        if (hit !== undefined && total !== undefined) dp.masks = { hit, total };
      } else if (/^port \d+: /.test(t)) dp.ports++;
    }
    return dp;
  });
}

/** Parses `upcall/show`. */
export function parseUpcallShow(text: string): UpcallDatapath[] {
  return datapathBlocks('upcall/show', text).map(({ name, body }) => {
    const dp: UpcallDatapath = { name };
    for (const line of body) {
      const t = line.trim();
      let m: RegExpExecArray | null;
      if ((m = /^flows\s*:\s*\(current (\d+)\).*\(limit (\d+)\)/.exec(t))) {
        const [current, limit] = [count(m[1]), count(m[2])];
        if (current !== undefined && limit !== undefined) dp.flows = { current, limit };
      } else if ((m = /^dump duration\s*:\s*(\d+)ms$/.exec(t))) {
        const ms = count(m[1]);
        if (ms !== undefined) dp.dumpDurationSeconds = ms / 1000;
      }
    }
    return dp;
  });
}

/** Parses `ofproto/list`: one bridge name a line. */
export function parseOfprotoList(text: string): string[] {
  const names = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const bad = names.find((n) => !/^[^\s:]+$/.test(n));
  if (bad !== undefined) throw new OvsReplyError('ofproto/list', `not a bridge name: ${JSON.stringify(bad)}`);
  return names;
}
