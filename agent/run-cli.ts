/**
 * `vpc-agent run`: the daemon. Registered by `agent/cli.ts`. SIGTERM/SIGINT stop it cleanly
 * (the writer lock is released, so a standby takes over at once).
 */
import type { Command } from 'commander';
import { configureLogging } from './log.js';
import { createAgent, DEFAULT_AGENT_CONFIG } from './run.js';

interface RunFlags {
  manifests: string;
  nb: string;
  sb?: string;
  ovs?: string;
  node?: string;
  listen?: string;
  owner: string;
  lock: string;
  resync: string;
  logLevel?: string;
  pretty?: boolean;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run the agent: watch manifests and keep OVN Northbound converged (one writer per cluster)')
    .requiredOption('--manifests <dir>', 'manifest file or directory (watched)')
    .requiredOption('--nb <remotes>', 'OVN Northbound remotes, comma-separated (every RAFT member)')
    .option('--sb <remotes>', 'OVN Southbound remotes (accepted; used by node work of a later release)')
    .option('--ovs <remote>', 'local Open_vSwitch remote (accepted; used by node work of a later release)')
    .option('--node <name>', 'this node/chassis name (accepted; used by node work of a later release)')
    .option('--listen <host:port>', 'serve GET /healthz and /debug (JSON) here; metrics come later')
    .option('--owner <id>', 'owner id written to external_ids', DEFAULT_AGENT_CONFIG.owner)
    .option('--lock <name>', 'OVSDB lock electing the NB writer', DEFAULT_AGENT_CONFIG.lockName)
    .option('--resync <ms>', 'periodic resync interval', String(DEFAULT_AGENT_CONFIG.resyncMs))
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (default $VPC_AGENT_LOG_LEVEL or info)')
    .option('--pretty', 'human-readable logs instead of JSON')
    .action(async (flags: RunFlags) => {
      const log = configureLogging({ level: flags.logLevel, pretty: flags.pretty ?? false });
      const agent = createAgent(
        { log },
        {
          manifests: flags.manifests,
          nb: flags.nb,
          sb: flags.sb,
          ovs: flags.ovs,
          node: flags.node,
          listen: flags.listen,
          owner: flags.owner,
          lockName: flags.lock,
          resyncMs: Number(flags.resync),
        },
      );
      let stopping: Promise<void> | undefined;
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping');
        stopping ??= agent.stop();
        return stopping;
      };
      const done = new Promise<void>((resolve) => {
        for (const sig of ['SIGTERM', 'SIGINT'] as const)
          process.once(sig, () => void stop(sig).then(resolve));
      });
      await agent.start();
      await done;
    });
}
