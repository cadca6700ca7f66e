/**
 * `npm run bench -- inet`: what the IP library (`netlink/inet.ts`) costs, and the measurements
 * behind its design: ip-num for text ↔ value, `node:net` for syntax, plain `bigint` for prefix
 * and pool arithmetic. Prints a table; writes no result file.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { IPv4, IPv4CidrRange, IPv6, Validator } from 'ip-num';
import { Ipam, type IpamSubnet } from '../agent/ipam/index.js';
import { mergeRanges } from '../agent/resources/net.js';
import { cidrOf, formatIp, parseCidr, parseIp } from '../netlink/inet.js';

/** Median over 5 rounds of `n` calls, in ns per call, after a warm-up round. */
function perCall(n: number, f: (i: number) => unknown): number {
  for (let i = 0; i < n; i++) f(i);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  return rounds.sort((a, b) => a - b)[2]!;
}

/** Median of 5 runs of `f`, in ms. */
function perRun(f: () => unknown): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    f();
    runs.push(performance.now() - t);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

const row = (what: string, value: number, unit: string) =>
  console.info(`${what.padEnd(64)} ${value.toFixed(unit === 'ns' ? 0 : 1).padStart(8)} ${unit}`);

/** 1000 subnets with 10 ports each: allocate every port, then rebuild a fresh IPAM from the result. */
function ipamAtScale(family: 4 | 6): { allocate: number; rebuild: number } {
  const defs: IpamSubnet[] = Array.from({ length: 1000 }, (_, i) => {
    const c = parseCidr(family === 4 ? `10.${i >> 8}.${i & 255}.0/24` : `fd00:${i.toString(16)}::/64`);
    const gw = c.first + 1n;
    return {
      name: `s${i}`,
      cidr: c,
      gatewayValue: gw,
      excludeRanges: mergeRanges([{ first: gw, last: gw }]),
    };
  });
  const filled = new Ipam();
  filled.setSubnets(defs);
  const allocate = perRun(() => {
    const ipam = new Ipam();
    ipam.setSubnets(defs);
    for (const d of defs) for (let p = 0; p < 10; p++) ipam.allocate(d.name, `${d.name}-p${p}`);
  });
  for (const d of defs) for (let p = 0; p < 10; p++) filled.allocate(d.name, `${d.name}-p${p}`);
  const entries = filled.allocations();
  const rebuild = perRun(() => {
    const ipam = new Ipam();
    ipam.setSubnets(defs);
    if (ipam.rebuild(entries).restored !== entries.length) throw new Error('rebuild lost entries');
  });
  return { allocate, rebuild };
}

export function runInetBench(): void {
  const v4 = Array.from({ length: 1024 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);
  const v6 = Array.from({ length: 1024 }, (_, i) => `fd00:${i.toString(16)}::${(i * 7).toString(16)}`);
  const v4n = v4.map((s) => parseIp(s).value);
  const v6n = v6.map((s) => parseIp(s).value);
  let next = 0n;
  let next4 = IPv4.fromString('10.0.0.0');
  let next6 = IPv6.fromString('fd00::');
  /** [what, calls, call]; the call picks its input by index. */
  const cases: [string, number, (i: number) => unknown][] = [
    ['parseIp IPv4', 100_000, (i) => parseIp(v4[i & 1023]!)],
    ['parseIp IPv6', 100_000, (i) => parseIp(v6[i & 1023]!)],
    ['formatIp IPv4', 100_000, (i) => formatIp(4, v4n[i & 1023]!)],
    ['formatIp IPv6 (RFC 5952)', 100_000, (i) => formatIp(6, v6n[i & 1023]!)],
    ['syntax: node:net isIPv4', 100_000, (i) => isIPv4(v4[i & 1023]!)],
    [
      'syntax: ip-num Validator.isValidIPv4String',
      100_000,
      (i) => Validator.isValidIPv4String(v4[i & 1023]!),
    ],
    ['syntax: node:net isIPv6', 100_000, (i) => isIPv6(v6[i & 1023]!)],
    [
      'syntax: ip-num Validator.isValidIPv6String',
      100_000,
      (i) => Validator.isValidIPv6String(v6[i & 1023]!),
    ],
    ['next address: bigint v + 1n', 100_000, () => (next = next + 1n)],
    ['next address: ip-num IPv4.nextIPNumber()', 100_000, () => (next4 = next4.nextIPNumber())],
    ['next address: ip-num IPv6.nextIPNumber()', 100_000, () => (next6 = next6.nextIPNumber())],
    ['block of /24: cidrOf (bigint shifts + its text)', 10_000, (i) => cidrOf(4, v4n[i & 1023]!, 24)],
    [
      'block of /24: ip-num IPv4CidrRange first/last',
      10_000,
      (i) => {
        const r = IPv4CidrRange.fromCidr(`${v4[i & 1023]!}/24`);
        return r.getFirst().getValue() + r.getLast().getValue();
      },
    ],
  ];
  console.info(`node ${process.version}, medians of 5 rounds`);
  for (const [what, n, call] of cases) row(what, perCall(n, call), 'ns');
  for (const family of [4, 6] as const) {
    const t = ipamAtScale(family);
    row(`IPAM IPv${family}, 1000 subnets x 10 ports: allocate all`, t.allocate, 'ms');
    row(`IPAM IPv${family}, 1000 subnets x 10 ports: rebuild from allocations`, t.rebuild, 'ms');
  }
}
