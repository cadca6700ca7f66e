/**
 * `npm run bench -- <name> [options]`: runs one benchmark by name.
 *
 *   npm run bench -- ovsdb                      # 1000 switches x 10 ports, every peer
 *   npm run bench -- ovsdb --quick              # 100 switches: smoke run
 *   npm run bench -- ovsdb --peers raw,python-idl --switches 500
 */
import { Command, InvalidArgumentError } from 'commander';
import { runOvsdbBench } from './ovsdb/index.js';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const program = new Command('bench').description('vpc-agent benchmarks').showHelpAfterError();

program
  .command('ovsdb')
  .description('OVSDB clients side by side on fresh OVN_Northbound servers (issue 3)')
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

await program.parseAsync(process.argv);
