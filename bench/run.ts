/**
 * `npm run bench -- <name> [options]`: runs one benchmark by name.
 *
 *   npm run bench -- ovsdb                      # 1000 switches x 10 ports, every peer
 *   npm run bench -- ovsdb --quick              # 100 switches: smoke run
 *   npm run bench -- ovsdb --peers raw,python-idl --switches 500
 *   npm run bench -- nb                         # 1000 subnets / 100 VPCs / 10,000 ports, NB + northd
 *   npm run bench -- nb --quick                 # a tenth of it
 *   npm run bench -- ports                      # 200 ports: agent (API) vs shell commands, 1 node
 *   npm run bench -- ports --quick              # 20 ports
 *   npm run bench -- inet                       # IP library: per-call costs, IPAM at 10,000 ports
 *   npm run bench -- kube                       # Kubernetes source vs client-node's informer, 5,000 Subnets
 *   npm run bench -- metrics                    # a scrape at 1,000 interfaces: ours vs process-per-command
 *   npm run bench -- nat                        # 1,000 DNAT rules: one nft transaction vs iptables per rule
 *   npm run bench -- ovn-count                  # counting 100,000 SB logical flows: ours vs a select vs ovn-sbctl
 *   npm run bench -- cni                        # 100 CNI ADDs in a burst (process each) vs vpc-agent port add
 */
import { Command, InvalidArgumentError } from 'commander';
import { runCniBench } from './cni/index.js';
import { runInetBench } from './inet.js';
import { runKubeBench } from './kube.js';
import { runMetricsBench } from './metrics/index.js';
import { runOvnCountBench } from './metrics/ovn-count.js';
import { runNatBench } from './nat/index.js';
import { runNbBench } from './nb/index.js';
import { runOvsdbBench } from './ovsdb/index.js';
import { runPortsBench } from './ports/index.js';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const program = new Command('bench').description('vpc-agent benchmarks').showHelpAfterError();

program
  .command('ovsdb')
  .description('OVSDB clients side by side on fresh OVN_Northbound servers')
  .option('--switches <n>', 'logical switches, one transaction each', int, 1000)
  .option('--ports <n>', 'ports per switch', int, 10)
  .option('--quick', 'smoke run: 100 switches (overrides --switches)')
  .option('--peers <ids>', 'comma-separated subset: raw,python-idl,ovsdbapp,ovn-nbctl,vpc-agent')
  .option('--out <file>', 'JSON result file (default bench/results/ovsdb-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .option('--repeat <n>', 'rounds, peer order alternating; each phase reports its median run', int, 1)
  .action(
    async (o: {
      switches: number;
      ports: number;
      quick?: boolean;
      peers?: string;
      out: string | boolean;
      repeat: number;
    }) => {
      const ok = await runOvsdbBench({
        switches: o.quick ? 100 : o.switches,
        ports: o.ports,
        ...(o.peers ? { peers: o.peers.split(',').map((s) => s.trim()) } : {}),
        out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
        repeat: o.repeat,
      });
      process.exitCode = ok ? 0 : 1;
    },
  );

program
  .command('nb')
  .description('agent start, no-op resync and restart on a fresh NB + ovn-northd')
  .option('--quick', 'smoke run: 100 subnets in 10 VPCs, 1,000 ports')
  .option('--vpcs <n>', 'VPCs of 10 subnets x 10 ports each (default 100: 10,000 ports; 500: 50,000)', int)
  .option('--out <file>', 'JSON result file (default bench/results/nb-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(async (o: { quick?: boolean; vpcs?: number; out: string | boolean }) => {
    const ok = await runNbBench({
      quick: o.quick === true,
      ...(o.vpcs !== undefined ? { vpcs: o.vpcs } : {}),
      out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
    });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('cni')
  .description(
    'CNI ADD → result through the plugin as Multus runs it (a process per ADD) vs vpc-agent port add',
  )
  .option('--ports <n>', 'ADDs in the burst', int, 100)
  .option('--seq <n>', 'ADDs one at a time before the burst', int, 20)
  .option('--runtime <how>', 'agent and CLI as: build (tsc to dist/, then node) or dist (existing)', 'build')
  .option('--out <file>', 'JSON result file (default bench/results/cni-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(async (o: { ports: number; seq: number; runtime: string; out: string | boolean }) => {
    if (!['build', 'dist'].includes(o.runtime)) throw new InvalidArgumentError('--runtime: build or dist');
    const ok = await runCniBench({
      ports: o.ports,
      seq: o.seq,
      runtime: o.runtime as 'build' | 'dist',
      out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('ports')
  .description('port add → ready on one node: the agent API vs shell commands, fresh sandboxes')
  .option('--ports <n>', 'ports per phase (sequential, then a burst)', int, 200)
  .option('--quick', 'smoke run: 20 ports (overrides --ports)')
  .option(
    '--nodes <n>',
    'also add ports on this many nodes at once, one agent each (default 3; 1: skip)',
    int,
    3,
  )
  .option('--runtime <how>', 'agent as: build (tsc to dist/, then node), dist (existing), tsx', 'build')
  .option('--out <file>', 'JSON result file (default bench/results/ports-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(
    async (o: { ports: number; quick?: boolean; nodes: number; runtime: string; out: string | boolean }) => {
      if (!['build', 'dist', 'tsx'].includes(o.runtime))
        throw new InvalidArgumentError('--runtime: build, dist or tsx');
      const ok = await runPortsBench({
        ports: o.quick ? 20 : o.ports,
        nodes: o.nodes,
        runtime: o.runtime as 'build' | 'dist' | 'tsx',
        out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
      });
      process.exitCode = ok ? 0 : 1;
    },
  );

program
  .command('inet')
  .description(
    'IP library (netlink/inet.ts): parse/format per call, ip-num vs bigint arithmetic, IPAM at scale',
  )
  .action(() => runInetBench());

program
  .command('kube')
  .description("Kubernetes source vs @kubernetes/client-node's informer on the fake API server")
  .option('--objects <n>', 'Subnets listed, then each edited once', int, 5000)
  .option('--repeat <n>', 'rounds, peer order alternating; medians reported', int, 5)
  .option('--page-size <n>', "the source's list page size (the informer lists in one piece)", int, 500)
  .option('--out <file>', 'JSON result file (default bench/results/kube-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(async (o: { objects: number; repeat: number; pageSize: number; out: string | boolean }) => {
    const ok = await runKubeBench({
      objects: o.objects,
      pageSize: o.pageSize,
      repeat: o.repeat,
      out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
    });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('metrics')
  .description(
    'one scrape at N interfaces on a sandbox node: the agent’s collectors vs a process per command',
  )
  .option('--interfaces <n>', 'internal ports with an iface-id on br-bench', int, 1000)
  .option('--scrapes <n>', 'scrapes per side', int, 100)
  .option('--quick', 'smoke run: 100 interfaces, 20 scrapes')
  .option('--out <file>', 'JSON result file (default bench/results/metrics-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(async (o: { interfaces: number; scrapes: number; quick?: boolean; out: string | boolean }) => {
    const ok = await runMetricsBench({
      interfaces: o.quick ? 100 : o.interfaces,
      scrapes: o.quick ? 20 : o.scrapes,
      out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('nat')
  .description(
    'one NAT gateway with N DNAT rules: converged and one change, nft transaction vs iptables per rule',
  )
  .option('--rules <n>', 'DNAT rules on the gateway', int, 1000)
  .option('--repeat <n>', 'rounds of each phase (medians)', int, 5)
  .option('--quick', 'smoke run: 100 rules, 3 rounds')
  .option('--out <file>', 'JSON result file (default bench/results/nat-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(async (o: { rules: number; repeat: number; quick?: boolean; out: string | boolean }) => {
    const ok = await runNatBench({
      rules: o.quick ? 100 : o.rules,
      repeat: o.quick ? 3 : o.repeat,
      out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
    });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('ovn-count')
  .description('counting the SB logical flows: empty update + abort vs a select of _uuid vs ovn-sbctl')
  .option('--flows <n>', 'logical flows in the Southbound', int, 100_000)
  .option('--rounds <n>', 'counts per side', int, 10)
  .option('--quick', 'smoke run: 10,000 flows, 5 counts')
  .option('--out <file>', 'JSON result file (default bench/results/ovn-count-<date>.json)')
  .option('--no-out', 'do not write a JSON result file')
  .action(async (o: { flows: number; rounds: number; quick?: boolean; out: string | boolean }) => {
    const ok = await runOvnCountBench({
      flows: o.quick ? 10_000 : o.flows,
      rounds: o.quick ? 5 : o.rounds,
      out: o.out === false ? false : typeof o.out === 'string' ? o.out : undefined,
    });
    process.exitCode = ok ? 0 : 1;
  });

await program.parseAsync(process.argv);
