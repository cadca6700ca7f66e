/**
 * `vpc-agent run`: the daemon. Registered by `agent/cli.ts`. Flags are checked before anything
 * starts (./config/flags.ts); a failed start exits non-zero. SIGTERM/SIGINT stop it cleanly
 * (the writer lock is released, so a standby takes over at once).
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_API_SOCKET, DEFAULT_CNI_SOCKET } from './api/index.js';
import { FlagError, parseRunFlags, type ParsedRunFlags, type RunFlags } from './config/flags.js';
import { applyEnvAndConfig, declareEnv, originOf } from './config/layers.js';
import { formatDuration } from './config/values.js';
import { configureLogging } from './log.js';
import { OVN_HEALTH_INTERVAL_MS } from './metrics/ovn-health.js';
import { createAgent, DEFAULT_AGENT_CONFIG } from './run.js';

/** `run`'s flags, checked; an error names where a bad value came from (env, config file). */
function checkedFlags(cmd: Command, flags: RunFlags) {
  try {
    return parseRunFlags(flags);
  } catch (err) {
    const origin = err instanceof FlagError ? originOf(cmd, err.flag) : undefined;
    if (err instanceof FlagError && origin)
      throw new FlagError(err.flag, `${err.message.slice(err.flag.length + 2)} (${origin})`);
    throw err;
  }
}

/** Runs the agent until SIGTERM/SIGINT. */
async function runAgent(parsed: ParsedRunFlags): Promise<void> {
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
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void stop(sig).then(resolve));
  });
  // A start interrupted by a signal is a stop, not a failure; any other failed start has
  // closed what it opened and rejects, and `main` exits non-zero with its message.
  await agent.start().catch((err: unknown) => {
    if (!stopping) throw err;
  });
  await done;
  // Whatever a start still opened after the stop began is closed by a second stop.
  await agent.stop();
}

/**
 * Registers `run`. `start` receives the checked settings (the agent by default; tests of the
 * flag layers pass their own).
 */
export function registerRunCommand(
  program: Command,
  start: (parsed: ParsedRunFlags) => Promise<void> = runAgent,
): void {
  const cmd = program
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
    .option(
      '--config <file>',
      'YAML or JSON file of settings, keyed by long flag name (e.g. nb: tcp:10.0.0.10:6641); flags and env win over it',
    )
    .option('--nb <remotes>', 'OVN Northbound remotes, comma-separated (every RAFT member; required)')
    .option('--sb <remotes>', "OVN Southbound remotes (this chassis' port bindings; needed for ports)")
    .option('--ovs <remote>', "this node's Open_vSwitch remote (provider bridges, workload ports)")
    .option('--node <name>', 'this node name (default: host name; chassis name unless OVS has system-id)')
    .option(
      '--node-label <key=value>',
      'a label of this node, for VpcNatGateway selectors (repeatable or comma-separated; kubernetes.io/hostname and kubernetes.io/os=linux are implied)',
      (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter((s) => s !== '')],
    )
    .option(
      '--netns <name>',
      "network namespace of br-int's datapath and host-side veths (default: the agent's own)",
    )
    .option(
      '--nat-netns-prefix <prefix>',
      "prefix of the NAT gateways' namespace names (default vpc-nat-gw-; agents sharing a host each need their own)",
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
    .option(
      '--nb-ctl <paths>',
      'control sockets of the NB ovsdb-servers on this host, comma-separated (OVN health metrics; default: NB members read by remote)',
    )
    .option('--sb-ctl <paths>', 'likewise for the SB ovsdb-servers on this host')
    .option(
      '--northd-ctl <path>',
      "ovn-northd's control socket (default: found by pidfile in --ovn-rundir; none: no northd metrics)",
    )
    .option(
      '--ovn-rundir <dir>',
      'run directory of ovn-controller and ovn-northd (default /var/run/ovn, then the --ovs socket directory)',
    )
    .option(
      '--ovn-metrics-interval <duration>',
      'read the OVN health metrics at most this often, however often scraped',
      formatDuration(OVN_HEALTH_INTERVAL_MS),
    )
    .option('-p, --private-key <file>', 'PEM private key for ssl: remotes')
    .option('-c, --certificate <file>', 'PEM certificate for ssl: remotes')
    .option('-C, --ca-cert <file>', 'PEM CA certificate that signed the servers of ssl: remotes')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (default info)')
    .option('--pretty', 'human-readable logs instead of JSON')
    .hook('preAction', (_, action) => applyEnvAndConfig(action, process.env, { lists: ['nodeLabel'] }))
    .action((flags: RunFlags) => start(checkedFlags(cmd, flags)));
  declareEnv(cmd);
}
