/**
 * `/debug/trace?from=<port>&to=<ip>[&proto=tcp|udp|icmp][&dport=N]`: what OVN does with one
 * packet, from `ovn-trace` (ovn-trace(8)) run against the Southbound logical flows.
 *
 * The request is turned into a microflow from Northbound (pure, {@link traceMicroflow}): the
 * port's switch is the datapath, its `"<mac> <ip>"` the source; the destination MAC is the
 * port on the same switch holding `to`, else the switch's router port (routed traffic). The
 * trace runs `ovn-trace` with an argument array (no shell) and a timeout; it reads only.
 */
import { execa } from 'execa';
import { parseIp, tryParseIp } from '../../netlink/inet.js';
import type { DatabaseCache, Row, TlsOptions } from '../../ovsdb/index.js';
import { parseLspAddress } from '../ownership.js';

export interface TraceRequest {
  /** Logical switch port the packet enters from. */
  from: string;
  /** Destination IPv4 address. */
  to: string;
  proto: 'icmp' | 'tcp' | 'udp';
  dport?: number;
}

/** A bad request: the query parameter and why (answered with 400). */
export class TraceRequestError extends Error {
  readonly code = 'ERR_TRACE_REQUEST';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
  }
}

export function parseTraceQuery(q: URLSearchParams): TraceRequest {
  const from = q.get('from');
  if (!from) throw new TraceRequestError('from', 'required (a logical switch port name)');
  const to = q.get('to');
  if (!to) throw new TraceRequestError('to', 'required (an IPv4 address)');
  const ip = tryParseIp(to);
  if (!ip || ip.family !== 4)
    throw new TraceRequestError('to', `${JSON.stringify(to)} is not an IPv4 address`);
  const proto = q.get('proto') ?? (q.get('dport') ? 'tcp' : 'icmp');
  if (proto !== 'icmp' && proto !== 'tcp' && proto !== 'udp')
    throw new TraceRequestError('proto', `${JSON.stringify(proto)} is not tcp, udp or icmp`);
  const d = q.get('dport');
  if (d !== null && proto === 'icmp') throw new TraceRequestError('dport', 'only with proto tcp or udp');
  const dport = d === null ? undefined : Number(d);
  if (dport !== undefined && (!Number.isInteger(dport) || dport < 1 || dport > 65535))
    throw new TraceRequestError('dport', `${JSON.stringify(d)} is not a port (1-65535)`);
  return { from, to: parseIp(to).text, proto, ...(dport !== undefined ? { dport } : {}) };
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** The datapath and microflow of `req`, from the Northbound cache. */
export function traceMicroflow(
  nb: DatabaseCache,
  req: TraceRequest,
): { datapath: string; microflow: string } {
  const lsp = nb.lookup('Logical_Switch_Port', 'name', req.from)[0];
  if (!lsp) throw new TraceRequestError('from', `no logical switch port ${req.from}`);
  const src = parseLspAddress(list(lsp['addresses'])[0]);
  if (!src || tryParseIp(src.ip)?.family !== 4)
    throw new TraceRequestError('from', `${req.from} has no "<mac> <IPv4>" address`);
  const ls = [...nb.rows('Logical_Switch')].find((s) => list(s['ports']).includes(lsp._uuid));
  if (!ls) throw new TraceRequestError('from', `${req.from} is on no logical switch`);
  const neighbours = list(ls['ports'])
    .map((u) => nb.get('Logical_Switch_Port', String(u)))
    .filter((r): r is Row => r !== undefined);
  let dstMac = neighbours
    .map((p) => parseLspAddress(list(p['addresses'])[0]))
    .find((a) => a?.ip === req.to)?.mac;
  if (!dstMac) {
    const router = neighbours.find((p) => p['type'] === 'router');
    const lrpName = router
      ? (router['options'] as Record<string, string> | undefined)?.['router-port']
      : undefined;
    const lrp = lrpName ? nb.lookup('Logical_Router_Port', 'name', lrpName)[0] : undefined;
    if (!lrp)
      throw new TraceRequestError(
        'to',
        `${req.to} is not on ${String(ls['name'])}, which has no router port`,
      );
    dstMac = String(lrp['mac']);
  }
  const parts = [
    `inport == "${req.from}"`,
    `eth.src == ${src.mac}`,
    `eth.dst == ${dstMac}`,
    `ip4.src == ${src.ip}`,
    `ip4.dst == ${req.to}`,
    'ip.ttl == 64',
  ];
  if (req.proto === 'icmp') parts.push('icmp4.type == 8');
  else parts.push(`${req.proto}.src == 40000`, `${req.proto}.dst == ${req.dport ?? 80}`);
  return { datapath: String(ls['name']), microflow: parts.join(' && ') };
}

export interface TraceResult {
  datapath: string;
  microflow: string;
  output: string;
}

/** Runs ovn-trace against `sb` (a Southbound remote) for `req`. */
export async function runTrace(
  deps: { nb: DatabaseCache; sb: string; tls?: TlsOptions | undefined },
  req: TraceRequest,
  timeoutMs = 10_000,
): Promise<TraceResult> {
  const { datapath, microflow } = traceMicroflow(deps.nb, req);
  const files = deps.tls ? [deps.tls.privateKey, deps.tls.certificate, deps.tls.caCert] : [];
  if (files.some((f) => typeof f !== 'string' || f.includes('-----BEGIN')))
    throw new Error('ovn-trace needs the TLS material as files (-p/-c/-C paths), not PEM text');
  const tls =
    files.length === 3 ? ['-p', String(files[0]), '-c', String(files[1]), '-C', String(files[2])] : [];
  const r = await execa('ovn-trace', [`--db=${deps.sb}`, ...tls, '--detailed', datapath, microflow], {
    reject: false,
    stdin: 'ignore',
    timeout: timeoutMs,
  });
  if (r.exitCode !== 0)
    throw new Error(`ovn-trace failed: ${r.stderr.trim() || `exit ${String(r.exitCode)}`}`);
  return { datapath, microflow, output: r.stdout };
}
