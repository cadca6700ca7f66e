/**
 * The NAT benchmark: one gateway with N DNAT rules (default 1,000) plus one SNAT rule, in the
 * same run, ours against a peer:
 *
 * - ours: the reconciler's nft step (`runSteps` with the `nft` step: read the table, one
 *   `nft -f -` transaction — the replace form from nothing, the counter-keeping update form
 *   after —, conntrack clean-up, read back for drift detection);
 * - peer (./peer.sh): one `iptables -t nat` process per rule inside the namespace, the way a
 *   gateway script that execs iptables per rule works; a change is a delete plus an add.
 *
 * Phases, each repeated (`--repeat`, medians): converged = from an empty namespace to all rules
 * in place; change = one DNAT rule's target changed. During our changes a TCP session through
 * the SNAT rule runs between a "VM" and an "external host" namespace: it must keep echoing
 * (an atomic replace must not disturb other flows); the report says whether it did.
 *
 * Results go to the console and `bench/results/nat-<date>.json`. Every namespace is deleted and
 * every process stopped by PID.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { runSteps, type GatewayMemory } from '../../agent/nat/apply.js';
import type { GatewayDesired } from '../../agent/nat/desired.js';
import type { DnatEntry } from '../../agent/nat/ruleset.js';
import { stopPid, waitUntil } from '../../agent/sandbox/process.js';
import {
  closeAllRtnl,
  createNetns,
  createVeth,
  deleteNetns,
  listNftTableText,
  nftVia,
  parseCidr,
  replaceAddress,
  replaceRoute,
  rtnl,
  setLinkUp,
  writeSysctl,
} from '../../netlink/index.js';

export interface NatBenchOptions {
  rules: number;
  repeat: number;
  out?: string | false;
}

const say = (s = '') => process.stdout.write(`${s}\n`);
const EIP = '203.0.113.10';
const EXT_HOST = '203.0.113.1';
const PEER_SCRIPT = path.join(import.meta.dirname, 'peer.sh');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function gateway(ns: string, rules: number, changed = false): GatewayDesired {
  const dnat: DnatEntry[] = [];
  for (let i = 0; i < rules; i++) {
    const port = changed && i === 0 ? 81 : 80;
    dnat.push({
      name: `d${i}`,
      eip: EIP,
      protocol: 'tcp',
      externalPort: 10000 + i,
      internalIp: '10.0.1.5',
      internalPort: port,
    });
  }
  return {
    name: 'bench',
    resource: 'VpcNatGateway/bench',
    netns: ns,
    vpc: 'v',
    lan: { subnet: 'lan', cidr: parseCidr('10.0.1.0/24'), gateway: '10.0.1.1', ip: '10.0.1.254', prefix: 24 },
    external: { subnet: 'ext', cidr: parseCidr('203.0.113.0/24'), gateway: EXT_HOST, master: undefined },
    lanRoutes: [],
    wanMac: '02:00:00:00:00:01',
    eips: [{ name: 'e', ip: EIP, nat: ['dnat', 'snat'] }],
    rules: {
      lanIf: 'net1',
      wanIf: 'net2',
      lanIp: '10.0.1.254',
      snat: [{ name: 's', eip: EIP, cidr: '10.0.1.0/24' }],
      dnat,
      fip: [],
    },
    ruleObjects: [],
    problems: [],
  };
}

const ruleLine = (d: DnatEntry) =>
  `${d.eip} ${d.protocol} ${d.externalPort} ${d.internalIp}:${d.internalPort}`;

async function peer(ns: string, args: string[], input = ''): Promise<number> {
  const t0 = process.hrtime.bigint();
  await execa('ip', ['netns', 'exec', ns, 'bash', PEER_SCRIPT, ...args], { input });
  return ms(t0);
}

async function topology(prefix: string): Promise<{ gw: string; peerNs: string; vm: string; ext: string }> {
  const n = { gw: `${prefix}gw`, peerNs: `${prefix}peer`, vm: `${prefix}vm`, ext: `${prefix}ext` };
  for (const ns of Object.values(n)) await createNetns(ns);
  await createVeth(rtnl(n.vm), { name: 'eth0', peer: { name: 'net1', netns: n.gw } });
  await createVeth(rtnl(n.ext), { name: 'eth0', peer: { name: 'net2', netns: n.gw } });
  await replaceAddress(rtnl(n.vm), 'eth0', '10.0.1.5/24');
  await replaceAddress(rtnl(n.ext), 'eth0', `${EXT_HOST}/24`);
  await replaceAddress(rtnl(n.gw), 'net1', '10.0.1.254/24');
  await replaceAddress(rtnl(n.gw), 'net2', `${EIP}/24`);
  for (const [ns, dev] of [
    [n.vm, 'eth0'],
    [n.ext, 'eth0'],
    [n.gw, 'net1'],
    [n.gw, 'net2'],
  ] as const)
    await setLinkUp(rtnl(ns), dev);
  await replaceRoute(rtnl(n.vm), { dst: 'default', via: '10.0.1.254' });
  await writeSysctl(n.gw, 'net.ipv4.ip_forward', 1);
  return n;
}

/** An echo server in `ext` and a client in `vm` writing a byte every 20 ms; returns bytes echoed. */
async function session(vm: string, ext: string, pids: number[]) {
  const server = execa(
    'ip',
    [
      'netns',
      'exec',
      ext,
      process.execPath,
      '-e',
      "require('net').createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(7,()=>console.log('up'))",
    ],
    { reject: false },
  );
  pids.push(server.pid!);
  let so = '';
  server.stdout?.on('data', (d: Buffer) => (so += d.toString()));
  await waitUntil(() => so.includes('up'), { what: 'echo server', timeoutMs: 10_000 });
  const client = execa(
    'ip',
    [
      'netns',
      'exec',
      vm,
      process.execPath,
      '-e',
      `const s=require('net').connect(7,'${EXT_HOST}');let n=0;s.on('connect',()=>setInterval(()=>s.write('x'),20));` +
        `s.on('data',d=>{n+=d.length;console.log(n)});s.on('error',e=>{console.log('end '+e.code);process.exit(3)});` +
        `s.on('close',()=>{console.log('end closed');process.exit(2)})`,
    ],
    { reject: false },
  );
  pids.push(client.pid!);
  let co = '';
  client.stdout?.on('data', (d: Buffer) => (co += d.toString()));
  const echoed = () =>
    Number(
      co
        .trim()
        .split('\n')
        .filter((l) => /^\d+$/.test(l))
        .at(-1) ?? 0,
    );
  const ended = () => /^end /m.test(co);
  await waitUntil(() => echoed() > 0, { what: 'session through SNAT', timeoutMs: 10_000 });
  return { echoed, ended };
}

export async function runNatBench(opts: NatBenchOptions): Promise<boolean> {
  const prefix = `bnat${process.pid % 100000}-`;
  const pids: number[] = [];
  let ok = true;
  const result: Record<string, unknown> = {
    rules: opts.rules,
    repeat: opts.repeat,
    date: new Date().toISOString(),
  };
  try {
    const n = await topology(prefix);
    const table = 'vpc-nat-gw';
    const base = gateway(n.gw, opts.rules);
    const changed = gateway(n.gw, opts.rules, true);

    // ours: converge from nothing, then changes back and forth
    const oursConverge: number[] = [];
    const oursChange: number[] = [];
    /** From the start of the nft step until its transaction is committed (rules in effect). */
    const oursChangeCommitted: number[] = [];
    for (let r = 0; r < opts.repeat; r++) {
      await execa('ip', ['netns', 'exec', n.gw, 'nft', 'flush', 'ruleset']);
      const mem: GatewayMemory = {};
      let t0 = process.hrtime.bigint();
      await runSteps(base, [{ op: 'nft', digest: '' }], {
        table,
        deps: { attachLan: async () => ({ ifname: 'net1' }) },
        mem,
      });
      oursConverge.push(ms(t0));
      if (r === 0) {
        const s = await session(n.vm, n.ext, pids);
        result['sessionBefore'] = s.echoed();
        for (let c = 0; c < opts.repeat * 2; c++) {
          t0 = process.hrtime.bigint();
          // a whole pass for the table: read it (drift check), then the nft step
          const intact = (await listNftTableText(n.gw, 'ip', table)) === mem.applied?.text;
          await runSteps(c % 2 === 0 ? changed : base, [{ op: 'nft', digest: '', intact }], {
            table,
            deps: { attachLan: async () => ({ ifname: 'net1' }) },
            mem,
          });
          oursChange.push(ms(t0));
          oursChangeCommitted.push(mem.lastNft?.ms ?? NaN);
          if (mem.lastNft?.form !== 'incremental') result['changeNotIncremental'] = true;
        }
        const before = s.echoed();
        await waitUntil(() => s.echoed() > before + 3 || s.ended(), {
          what: 'session echo after changes',
          timeoutMs: 5_000,
        });
        result['unrelatedFlowKept'] = !s.ended() && s.echoed() > before;
      }
    }

    // peer: one iptables process per rule
    const peerConverge: number[] = [];
    const peerChange: number[] = [];
    const lines = base.rules.dnat.map(ruleLine).join('\n') + '\n';
    for (let r = 0; r < opts.repeat; r++) {
      const t0 = process.hrtime.bigint();
      await peer(n.peerNs, ['init', '10.0.1.0/24', EIP]);
      await peer(n.peerNs, ['add'], lines);
      peerConverge.push(ms(t0));
      for (let c = 0; c < 2; c++) {
        const [from, to] = c % 2 === 0 ? [base, changed] : [changed, base];
        peerChange.push(
          await peer(
            n.peerNs,
            ['change'],
            `${ruleLine(from.rules.dnat[0]!)}\n${ruleLine(to.rules.dnat[0]!)}\n`,
          ),
        );
      }
    }
    const rows = {
      converged: { ours: median(oursConverge), peer: median(peerConverge) },
      change: { ours: median(oursChange), peer: median(peerChange) },
      'change (in effect)': { ours: median(oursChangeCommitted), peer: median(peerChange) },
    };
    result['nftVia'] = nftVia();
    say(
      `NAT gateway (nft via ${nftVia()}), ${opts.rules} DNAT rules + 1 SNAT, medians of ${opts.repeat} (change: ${oursChange.length} ours, ${peerChange.length} peer)`,
    );
    say('phase               ours (nft, 1 transaction)   peer (iptables per rule)   peer/ours');
    for (const [k, v] of Object.entries(rows))
      say(
        `${k.padEnd(12)} ${v.ours.toFixed(1).padStart(10)} ms ${v.peer.toFixed(1).padStart(22)} ms ${(v.peer / v.ours).toFixed(1).padStart(14)}x`,
      );
    say(
      `unrelated TCP session through SNAT during our changes: ${result['unrelatedFlowKept'] ? 'kept' : 'DISTURBED'}`,
    );
    say(
      `targets: converged < 1000 ms: ${rows.converged.ours < 1000 ? 'met' : 'missed'}; change < 20 ms: ${rows.change.ours < 20 ? 'met' : 'missed'} (in effect: ${rows['change (in effect)'].ours < 20 ? 'met' : 'missed'})`,
    );
    Object.assign(result, {
      rows,
      runs: { oursConverge, oursChange, oursChangeCommitted, peerConverge, peerChange },
    });
    ok = result['unrelatedFlowKept'] === true;
    if (opts.out !== false) {
      const file =
        opts.out ??
        path.resolve(
          import.meta.dirname,
          '..',
          'results',
          `nat-${new Date().toISOString().slice(0, 10)}.json`,
        );
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
      say(`results: ${file}`);
    }
  } finally {
    for (const pid of pids) await stopPid(pid, 1_000);
    closeAllRtnl();
    for (const s of ['gw', 'peer', 'vm', 'ext']) await deleteNetns(`${prefix}${s}`);
  }
  return ok;
}
