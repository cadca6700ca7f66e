/**
 * `vpc-agent run`: the daemon. Registered by `agent/cli.ts`. SIGTERM/SIGINT stop it cleanly
 * (the writer lock is released, so a standby takes over at once).
 */
import type { Command } from 'commander';
import { DEFAULT_API_SOCKET } from './api/index.js';
import { configureLogging } from './log.js';
import { createAgent, DEFAULT_AGENT_CONFIG } from './run.js';

interface RunFlags {
  manifests: string;
  nb: string;
  sb?: string;
  ovs?: string;
  node?: string;
  netns?: string;
  apiSocket?: string;
  api: boolean;
  portReadyTimeout: string;
  listen?: string;
  owner: string;
  lock: string;
  resync: string;
  gatewayChassis?: string;
  logLevel?: string;
  pretty?: boolean;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      "Run the agent: watch manifests, keep OVN Northbound converged (one writer per cluster), program this node's OVS and serve workload ports",
    )
    .requiredOption('--manifests <dir>', 'manifest file or directory (watched)')
    .requiredOption('--nb <remotes>', 'OVN Northbound remotes, comma-separated (every RAFT member)')
    .option('--sb <remotes>', "OVN Southbound remotes (this chassis' port bindings; needed for ports)")
    .option('--ovs <remote>', "this node's Open_vSwitch remote (provider bridges, workload ports)")
    .option('--node <name>', 'this node name (default: host name; chassis name unless OVS has system-id)')
    .option(
      '--netns <name>',
      "network namespace of br-int's datapath and host-side veths (default: the agent's own)",
    )
    .option(
      '--api-socket <path>',
      `local API unix socket (with --ovs and --sb; default ${DEFAULT_API_SOCKET})`,
    )
    .option('--no-api', 'do not serve the local API')
    .option(
      '--port-ready-timeout <ms>',
      'how long a port add waits for its binding',
      String(DEFAULT_AGENT_CONFIG.portReadyTimeoutMs),
    )
    .option('--listen <host:port>', 'serve GET /healthz, /debug (JSON) and /metrics (Prometheus) here')
    .option('--owner <id>', 'owner id written to external_ids', DEFAULT_AGENT_CONFIG.owner)
    .option('--lock <name>', 'OVSDB lock electing the NB writer', DEFAULT_AGENT_CONFIG.lockName)
    .option(
      '--gateway-chassis <nodes>',
      'chassis for the natOutgoing gateway port, comma-separated, highest priority first',
    )
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
          netns: flags.netns,
          apiSocket: flags.api && flags.ovs && flags.sb ? (flags.apiSocket ?? DEFAULT_API_SOCKET) : undefined,
          portReadyTimeoutMs: Number(flags.portReadyTimeout),
          listen: flags.listen,
          owner: flags.owner,
          lockName: flags.lock,
          resyncMs: Number(flags.resync),
          gatewayChassis: (flags.gatewayChassis ?? '').split(',').filter((c) => c !== ''),
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
