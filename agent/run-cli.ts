/**
 * `vpc-agent run`: the daemon. Registered by `agent/cli.ts`. Flags are checked before anything
 * starts (./config/flags.ts); a failed start exits non-zero. SIGTERM/SIGINT stop it cleanly
 * (the writer lock is released, so a standby takes over at once).
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_API_SOCKET, DEFAULT_CNI_SOCKET } from './api/index.js';
import { parseRunFlags, type RunFlags } from './config/flags.js';
import { formatDuration } from './config/values.js';
import { configureLogging } from './log.js';
import { createAgent, DEFAULT_AGENT_CONFIG } from './run.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      "Run the agent: watch manifests or the Kubernetes API, keep OVN Northbound converged (one writer per cluster), program this node's OVS and serve workload ports",
    )
    .option('--manifests <dir>', 'manifest file or directory (watched; the default source)')
    .option(
      '--source <source>',
      'where resources come from: dir (--manifests) or kubernetes (list+watch of the API server)',
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig of the API server (implies --source kubernetes; default $KUBECONFIG, ~/.kube/config, then the service account)',
    )
    .option('--kube-context <name>', 'kubeconfig context (default: its current context)')
    .requiredOption('--nb <remotes>', 'OVN Northbound remotes, comma-separated (every RAFT member)')
    .option('--sb <remotes>', "OVN Southbound remotes (this chassis' port bindings; needed for ports)")
    .option('--ovs <remote>', "this node's Open_vSwitch remote (provider bridges, workload ports)")
    .option('--node <name>', 'this node name (default: host name; chassis name unless OVS has system-id)')
    .option(
      '--node-label <key=value>',
      'a label of this node, for VpcNatGateway selectors (repeatable; kubernetes.io/hostname and kubernetes.io/os=linux are implied)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
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
      '--cni-socket <path>',
      `the same API for the CNI plugin, at the path NetworkAttachmentDefinitions name in server_socket (default ${DEFAULT_CNI_SOCKET}; its existing directory keeps its mode)`,
    )
    .option('--no-cni-socket', 'do not serve the API for the CNI plugin')
    .option(
      '--port-ready-timeout <duration>',
      'how long a port add waits for its binding (500ms, 30s, 2m or milliseconds)',
      formatDuration(DEFAULT_AGENT_CONFIG.portReadyTimeoutMs),
    )
    .option(
      '--start-timeout <duration>',
      'fail the start when a database is not synced within this long (0: wait forever)',
      formatDuration(DEFAULT_AGENT_CONFIG.startTimeoutMs),
    )
    .option(
      '--listen <host:port>',
      'serve GET /healthz, /readyz, /debug, /debug/{state,errors,trace} and /metrics (Prometheus) here (port 0: any)',
    )
    .option('--owner <id>', 'owner id written to external_ids', DEFAULT_AGENT_CONFIG.owner)
    .option('--lock <name>', 'OVSDB lock electing the NB writer', DEFAULT_AGENT_CONFIG.lockName)
    .option(
      '--gateway-chassis <nodes>',
      'chassis for the natOutgoing gateway port, comma-separated, highest priority first',
    )
    .option(
      '--resync <duration>',
      'periodic resync interval (0: none)',
      formatDuration(DEFAULT_AGENT_CONFIG.resyncMs),
    )
    .option(
      '--ports-resync <duration>',
      "periodic repair of this node's workload ports: veths, addresses, routes (0: none)",
      formatDuration(DEFAULT_AGENT_CONFIG.portsResyncMs),
    )
    .option('-p, --private-key <file>', 'PEM private key for ssl: remotes')
    .option('-c, --certificate <file>', 'PEM certificate for ssl: remotes')
    .option('-C, --ca-cert <file>', 'PEM CA certificate that signed the servers of ssl: remotes')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (default $VPC_AGENT_LOG_LEVEL or info)')
    .option('--pretty', 'human-readable logs instead of JSON')
    .action(async (flags: RunFlags) => {
      const parsed = parseRunFlags(flags);
      const log = configureLogging(parsed.log);
      // Loaded only when used: the Kubernetes client takes about a second to import.
      const source = parsed.kubernetes
        ? (await import('./sources/kubernetes/index.js')).createKubernetesSource({
            ...parsed.kubernetes,
            ...(parsed.config.node !== undefined ? { node: parsed.config.node } : {}),
            log: log.child({ module: 'kube-source' }),
          })
        : undefined;
      // With Kubernetes and node work: this node's pods and the VMs, for KubeVirt identity.
      const workloads =
        parsed.kubernetes && parsed.config.ovs
          ? (await import('./sources/kubernetes/workloads.js')).createWorkloadWatch({
              ...parsed.kubernetes,
              node: parsed.config.node ?? hostname(),
              log: log.child({ module: 'workloads' }),
            })
          : undefined;
      const agent = createAgent(
        { log, ...(source ? { source } : {}), ...(workloads ? { workloads } : {}) },
        parsed.config,
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
      // A start interrupted by a signal is a stop, not a failure; any other failed start has
      // closed what it opened and rejects, and `main` exits non-zero with its message.
      await agent.start().catch((err: unknown) => {
        if (!stopping) throw err;
      });
      await done;
      // Whatever a start still opened after the stop began is closed by a second stop.
      await agent.stop();
    });
}
