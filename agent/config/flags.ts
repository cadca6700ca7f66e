/**
 * `vpc-agent run` flags → agent config. Every value is parsed and every combination checked
 * here, before anything starts, so that a mistake is one line naming the flag and a non-zero
 * exit — never a NaN interval, a silently ignored flag or an agent that retries forever.
 * Pure apart from checking that TLS files exist.
 */
import path from 'node:path';
import { parseRemotes, type TlsOptions } from '../../ovsdb/index.js';
import { DEFAULT_API_SOCKET, DEFAULT_CNI_SOCKET } from '../api/protocol.js';
import { AgentError } from '../errors.js';
import { resolveLevel } from '../log.js';
import type { AgentConfig } from '../run.js';
import { sslRemotes, TLS_FILES, unreadableFile, type TlsFile } from './tls.js';
import { parseDuration, parseListenAddress } from './values.js';

/** A flag with a bad value, or one that cannot be combined with the others. */
export class FlagError extends AgentError {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super('ERR_FLAG', `${flag}: ${message}`);
  }
}

/** `run`'s flags as commander hands them over (defaults applied, values still text). */
export interface RunFlags {
  /** Required with `--source dir` (the default). */
  manifests?: string;
  /** `dir` (default) or `kubernetes`. */
  source?: string;
  /** A kubeconfig file (implies `--source kubernetes`). */
  kubeconfig?: string;
  kubeContext?: string;
  /** Required, from the command line, the environment or the config file. */
  nb?: string;
  /** The config file the other settings were read from (./layers.ts). */
  config?: string;
  sb?: string;
  ovs?: string;
  node?: string;
  netns?: string;
  natNetnsPrefix?: string;
  apiSocket?: string;
  /** False with `--no-api`. */
  api: boolean;
  /** `--cni-socket <path>`; false with `--no-cni-socket`. */
  cniSocket?: string | false;
  portReadyTimeout: string;
  startTimeout: string;
  listen?: string;
  owner: string;
  lock: string;
  resync: string;
  portsResync?: string;
  gatewayChassis?: string;
  /** `--node-label key=value`, repeatable. */
  nodeLabel?: string[];
  /** OVN health metrics: control sockets of this host's NB/SB servers and northd, OVN_RUNDIR. */
  nbCtl?: string;
  sbCtl?: string;
  northdCtl?: string;
  ovnRundir?: string;
  /** Has a default (commander). */
  ovnMetricsInterval?: string;
  privateKey?: string;
  certificate?: string;
  caCert?: string;
  logLevel?: string;
  pretty?: boolean;
}

export type RunConfig = Partial<AgentConfig> & Pick<AgentConfig, 'manifests' | 'nb'>;

/** Where a `--source kubernetes` agent finds its API server. */
export interface KubernetesSourceFlags {
  /** A kubeconfig file; undefined: `$KUBECONFIG`, `~/.kube/config`, then the pod's service account. */
  kubeconfigPath?: string;
  context?: string;
}

export interface ParsedRunFlags {
  config: RunConfig;
  /** Set when resources come from the Kubernetes API instead of `--manifests`. */
  kubernetes?: KubernetesSourceFlags;
  log: { level: string | undefined; pretty: boolean };
}

const TLS_FLAG_NAME: Record<TlsFile, string> = {
  privateKey: '--private-key',
  certificate: '--certificate',
  caCert: '--ca-cert',
};
/** sun_path of sockaddr_un is 108 bytes, the terminating NUL included (unix(7)). */
const MAX_SOCKET_PATH = 107;
/** An RFC 7047 §3.1 <id>: what a lock name must be. */
const OVSDB_ID = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Runs `parse`, turning its error into a {@link FlagError} of `flag`. */
function field<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new FlagError(flag, err instanceof Error ? err.message : String(err));
  }
}

function remotes(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  field(flag, () => parseRemotes(value));
  return value;
}

function duration(flag: string, value: string, opts: { min: number }): number {
  const ms = field(flag, () => parseDuration(value));
  if (ms < opts.min) throw new FlagError(flag, `must be at least ${opts.min} ms`);
  return ms;
}

function needs(flag: string, given: unknown, what: string, present: boolean): void {
  if (given !== undefined && !present) throw new FlagError(flag, `needs ${what}`);
}

/** TLS material from `-p/-c/-C`: all three or none; each file must be readable. */
function tlsFlags(flags: RunFlags): TlsOptions | undefined {
  const given = TLS_FILES.filter((k) => flags[k] !== undefined);
  if (given.length === 0) return undefined;
  const missing = TLS_FILES.filter((k) => !given.includes(k));
  if (missing.length > 0)
    throw new FlagError(
      TLS_FLAG_NAME[given[0]!],
      `needs ${missing.map((k) => TLS_FLAG_NAME[k]).join(' and ')} too`,
    );
  for (const k of TLS_FILES) {
    const problem = unreadableFile(flags[k]!);
    if (problem) throw new FlagError(TLS_FLAG_NAME[k], problem);
  }
  return { privateKey: flags.privateKey!, certificate: flags.certificate!, caCert: flags.caCert! };
}

/** `--source`, `--manifests`, `--kubeconfig`, `--kube-context`: one source, its flags only. */
function sourceFlags(flags: RunFlags): KubernetesSourceFlags | undefined {
  const source = flags.source ?? (flags.kubeconfig !== undefined ? 'kubernetes' : 'dir');
  if (source !== 'dir' && source !== 'kubernetes')
    throw new FlagError('--source', `"${source}" is not a source (use dir or kubernetes)`);
  if (source === 'dir') {
    needs('--kubeconfig', flags.kubeconfig, '--source kubernetes', false);
    needs('--kube-context', flags.kubeContext, '--source kubernetes', false);
    if (flags.manifests === undefined)
      throw new FlagError('--manifests', 'is required (or --source kubernetes)');
    if (flags.manifests.trim() === '') throw new FlagError('--manifests', 'is empty');
    return undefined;
  }
  if (flags.manifests !== undefined)
    throw new FlagError('--manifests', 'cannot be combined with --source kubernetes');
  const out: KubernetesSourceFlags = {};
  if (flags.kubeconfig !== undefined) {
    const problem = unreadableFile(flags.kubeconfig);
    if (problem) throw new FlagError('--kubeconfig', problem);
    out.kubeconfigPath = flags.kubeconfig;
  }
  if (flags.kubeContext !== undefined) {
    if (flags.kubeContext.trim() === '') throw new FlagError('--kube-context', 'is empty');
    out.context = flags.kubeContext;
  }
  return out;
}

/**
 * `--cni-socket`: served whenever the local API is, at Kube-OVN's daemon socket by default (the
 * path the NADs' `server_socket` names); `--no-cni-socket` switches it off.
 */
function cniSocketFlag(flags: RunFlags, apiSocket: string | undefined): string | undefined {
  if (flags.cniSocket === false) return undefined;
  if (flags.cniSocket !== undefined && apiSocket === undefined)
    throw new FlagError(
      '--cni-socket',
      flags.api ? 'needs --ovs and --sb (it serves workload ports)' : 'cannot be combined with --no-api',
    );
  if (apiSocket === undefined) return undefined;
  const socket = path.resolve(flags.cniSocket ?? DEFAULT_CNI_SOCKET);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH)
    throw new FlagError(
      '--cni-socket',
      `${socket} is longer than the ${MAX_SOCKET_PATH} bytes a unix socket path can have`,
    );
  if (socket === apiSocket)
    throw new FlagError('--cni-socket', `is the same path as --api-socket (${socket})`);
  return socket;
}

/**
 * Parses and checks `run`'s flags.
 * @throws FlagError (`ERR_FLAG`), its message starting with the flag.
 */
export function parseRunFlags(flags: RunFlags): ParsedRunFlags {
  const level = field('--log-level', () =>
    flags.logLevel === undefined ? undefined : resolveLevel(flags.logLevel),
  );
  const kubernetes = sourceFlags(flags);
  if (flags.nb === undefined || flags.nb.trim() === '')
    throw new FlagError('--nb', 'is required (the OVN Northbound remotes)');
  const nb = remotes('--nb', flags.nb)!;
  const ovs = remotes('--ovs', flags.ovs);
  const sb = remotes('--sb', flags.sb);
  needs('--sb', sb, '--ovs (the Southbound is read for the ports of this node)', ovs !== undefined);
  needs('--netns', flags.netns, '--ovs (it is where the node work happens)', ovs !== undefined);
  if (flags.netns !== undefined && !/^[^/\0]+$/.test(flags.netns))
    throw new FlagError('--netns', `"${flags.netns}" is not a network namespace name`);
  if (flags.apiSocket !== undefined) {
    if (!flags.api) throw new FlagError('--api-socket', 'cannot be combined with --no-api');
    needs(
      '--api-socket',
      flags.apiSocket,
      '--ovs and --sb (the local API serves workload ports)',
      !!(ovs && sb),
    );
  }
  const apiSocket = flags.api && ovs && sb ? path.resolve(flags.apiSocket ?? DEFAULT_API_SOCKET) : undefined;
  if (apiSocket !== undefined && Buffer.byteLength(apiSocket) > MAX_SOCKET_PATH)
    throw new FlagError(
      '--api-socket',
      `${apiSocket} is longer than the ${MAX_SOCKET_PATH} bytes a unix socket path can have`,
    );
  if (flags.natNetnsPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(flags.natNetnsPrefix))
    throw new FlagError(
      '--nat-netns-prefix',
      `"${flags.natNetnsPrefix}" is not a namespace name prefix (letters, digits, _ . -; at most 32)`,
    );
  const cniSocket = cniSocketFlag(flags, apiSocket);
  const listen = flags.listen;
  if (listen !== undefined) field('--listen', () => parseListenAddress(listen));
  if (flags.owner.trim() === '') throw new FlagError('--owner', 'is empty');
  if (!OVSDB_ID.test(flags.lock))
    throw new FlagError(
      '--lock',
      `"${flags.lock}" is not an OVSDB id (letters, digits and _, not first a digit)`,
    );
  if (flags.node !== undefined && flags.node.trim() === '') throw new FlagError('--node', 'is empty');
  const gatewayChassis = (flags.gatewayChassis ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');

  const nodeLabels: Record<string, string> = {};
  for (const text of flags.nodeLabel ?? []) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=(.*)$/.exec(text);
    if (!m) throw new FlagError('--node-label', `"${text}" is not key=value`);
    nodeLabels[m[1]!] = m[2]!;
  }

  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '')
      .map((c) => path.resolve(c));
  const ovnHealth = {
    ...(flags.nbCtl ? { nbCtl: list(flags.nbCtl) } : {}),
    ...(flags.sbCtl ? { sbCtl: list(flags.sbCtl) } : {}),
    ...(flags.northdCtl ? { northdCtl: path.resolve(flags.northdCtl) } : {}),
    ...(flags.ovnRundir ? { runDir: path.resolve(flags.ovnRundir) } : {}),
    ...(flags.ovnMetricsInterval !== undefined
      ? { intervalMs: duration('--ovn-metrics-interval', flags.ovnMetricsInterval, { min: 0 }) }
      : {}),
  };

  const tls = tlsFlags(flags);
  if (!tls) {
    for (const [flag, value] of [
      ['--nb', nb],
      ['--sb', sb],
      ['--ovs', ovs],
    ] as const) {
      const ssl = value === undefined ? [] : sslRemotes(value);
      if (ssl.length > 0)
        throw new FlagError(flag, `${ssl[0]} needs --private-key, --certificate and --ca-cert`);
    }
  }

  const config: RunConfig = {
    // The directory source's path; unused (empty) when resources come from Kubernetes.
    manifests: kubernetes ? '' : flags.manifests!,
    nb,
    sb,
    ovs,
    node: flags.node,
    ...(Object.keys(nodeLabels).length > 0 ? { nodeLabels } : {}),
    netns: flags.netns,
    ...(flags.natNetnsPrefix !== undefined ? { natNetnsPrefix: flags.natNetnsPrefix } : {}),
    apiSocket,
    ...(cniSocket === undefined ? {} : { cniSocket }),
    portReadyTimeoutMs: duration('--port-ready-timeout', flags.portReadyTimeout, { min: 1 }),
    startTimeoutMs: duration('--start-timeout', flags.startTimeout, { min: 0 }),
    listen,
    owner: flags.owner,
    lockName: flags.lock,
    resyncMs: duration('--resync', flags.resync, { min: 0 }),
    ...(flags.portsResync === undefined
      ? {}
      : { portsResyncMs: duration('--ports-resync', flags.portsResync, { min: 0 }) }),
    gatewayChassis,
    ...(tls ? { tls } : {}),
    ...(Object.keys(ovnHealth).length > 0 ? { ovnHealth } : {}),
  };
  return { config, log: { level, pretty: flags.pretty ?? false }, ...(kubernetes ? { kubernetes } : {}) };
}
