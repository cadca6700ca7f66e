/**
 * `vpc-agent sandbox up|down|status`: the local OVN sandbox from the command line.
 * JSON results go to stdout; logs (pino) go to stderr.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createSandbox, DEFAULT_STATE_DIR, destroySandbox, sandboxStatus } from './sandbox.js';

const STATE_DIR_HELP =
  'state directory (state.json, databases, sockets, logs), relative to the current directory';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50)
    throw new InvalidArgumentError('must be an integer from 1 to 50');
  return n;
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Registers the `sandbox` command group on the program. */
export function registerSandboxCommands(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description(
      'local OVN (NB/SB/northd + N chassis in network namespaces, userspace datapath) as plain processes',
    );

  sandbox
    .command('up')
    .description('start the sandbox and print its endpoints as JSON (daemons keep running)')
    .option('--state-dir <dir>', STATE_DIR_HELP, DEFAULT_STATE_DIR)
    .option('--nodes <n>', 'number of chassis (node1..nodeN)', positiveInt, 1)
    .option('--clustered', 'NB and SB as 3-member RAFT clusters', false)
    .action(async (opts: { stateDir: string; nodes: number; clustered: boolean }) => {
      // Interrupted while starting: let the start settle (daemons are detached, and a teardown
      // racing the start would miss the ones launched meanwhile), then tear everything down.
      const starting = createSandbox({
        stateDir: opts.stateDir,
        nodes: opts.nodes,
        clustered: opts.clustered,
      });
      const abort = (signal: NodeJS.Signals) => {
        void starting
          .catch(() => undefined)
          .then(() => destroySandbox(opts.stateDir))
          .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      };
      process.once('SIGINT', abort).once('SIGTERM', abort);
      const sb = await starting;
      process.off('SIGINT', abort).off('SIGTERM', abort);
      print(sb.state);
    });

  sandbox
    .command('down')
    .description('stop every sandbox process (by PID) and delete its namespaces and files')
    .option('--state-dir <dir>', STATE_DIR_HELP, DEFAULT_STATE_DIR)
    .action(async (opts: { stateDir: string }) => {
      print(await destroySandbox(opts.stateDir));
    });

  sandbox
    .command('status')
    .description('report which sandbox processes are alive (JSON); exit code 1 if not healthy')
    .option('--state-dir <dir>', STATE_DIR_HELP, DEFAULT_STATE_DIR)
    .action(async (opts: { stateDir: string }) => {
      const st = await sandboxStatus(opts.stateDir);
      print(st);
      if (!st.healthy) process.exitCode = 1;
    });
}
