/**
 * What a runtime hands the plugin: the network configuration on stdin (CNI spec §1, as a
 * NetworkAttachmentDefinition's `config` holds it) and the CNI_* variables (§2 "Parameters").
 * Pure: text and an environment in, a checked {@link Invocation} out, or a {@link CniError}
 * with the spec's code.
 *
 * Kube-OVN's configuration keys are read as Kube-OVN defines them: `provider`
 * (`<nad>.<namespace>.ovn` names the NAD `<namespace>/<nad>`), `server_socket` (the agent's
 * socket), and the same two under `ipam` when another plugin (macvlan, …) delegates its IPAM
 * to this one.
 */
import { DEFAULT_CNI_SOCKET } from '../api/protocol.js';
import { DEFAULT_PROVIDER, parseNetwork, type NetworkRef } from '../node/ports/names.js';
import { CNI_CODES, CniError } from './errors.js';
import { isSupported, SUPPORTED_VERSIONS, type CniVersion } from './versions.js';

/** The `type` names this plugin is installed under. */
export const PLUGIN_TYPES = ['kube-ovn', 'vpc-agent-cni'] as const;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

export interface Attachment {
  containerId: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  /** The network's `name`. */
  name: string;
  type: string;
  provider: string;
  /** The NAD the provider names. */
  network: NetworkRef;
  /** The agent's socket (`server_socket`). */
  serverSocket: string;
  /** Called as another plugin's IPAM (`ipam.type` is this plugin): only addresses are asked for. */
  ipamOnly: boolean;
  /** CHECK (and DEL since 1.0): the result of the ADD. */
  prevResult?: Record<string, unknown>;
  /** GC: the attachments the runtime still knows (`cni.dev/valid-attachments`). */
  validAttachments?: Attachment[];
  /** `runtimeConfig.ips[0]` (the `ips` capability, Multus' `ips` of a network selection), no prefix. */
  ip?: string;
  /** `runtimeConfig.mac` (the `mac` capability). */
  mac?: string;
}

export interface CniEnv {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifname?: string;
  /** CNI_ARGS `K=V;K=V`. */
  args: Record<string, string>;
  /** From CNI_ARGS K8S_POD_NAMESPACE and K8S_POD_NAME, when a kubelet passes them. */
  pod?: { namespace: string; name: string };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string')
    throw new CniError(CNI_CODES.INVALID_CONFIG, `network configuration: ${where}${key} must be a string`);
  return v;
}

/**
 * `<nad>.<namespace>[.ovn]` → NAD `<namespace>/<nad>`. A namespace has no dots (an RFC 1123
 * label) and a NAD name may have some, so the namespace is the last part.
 */
export function providerNetwork(provider: string): NetworkRef {
  if (provider === DEFAULT_PROVIDER)
    throw new CniError(
      CNI_CODES.INVALID_CONFIG,
      `network configuration: provider "${DEFAULT_PROVIDER}" is Kube-OVN's default pod network, which vpc-agent does not serve; use a NetworkAttachmentDefinition's provider <nad>.<namespace>.ovn`,
    );
  const parts = provider.replace(/\.ovn$/, '').split('.');
  const namespace = parts.pop();
  const network = namespace && parts.length > 0 ? parseNetwork(`${namespace}/${parts.join('.')}`) : undefined;
  if (!network)
    throw new CniError(
      CNI_CODES.INVALID_CONFIG,
      `network configuration: provider "${provider}" is not <nad>.<namespace>[.ovn]`,
    );
  return network;
}

function attachments(v: unknown): Attachment[] {
  if (!Array.isArray(v))
    throw new CniError(
      CNI_CODES.INVALID_CONFIG,
      'network configuration: cni.dev/valid-attachments must be a list',
    );
  return v.map((a, i) => {
    if (!isObject(a) || typeof a['containerID'] !== 'string' || typeof a['ifname'] !== 'string')
      throw new CniError(
        CNI_CODES.INVALID_CONFIG,
        `network configuration: cni.dev/valid-attachments[${i}] needs containerID and ifname`,
      );
    return { containerId: a['containerID'], ifname: a['ifname'] };
  });
}

/** Parses the configuration on stdin. `command` decides what must be there. */
export function parseNetConf(text: string, command: CniCommand): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniError(
      CNI_CODES.DECODE_FAILURE,
      `network configuration on stdin is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!isObject(raw))
    throw new CniError(CNI_CODES.DECODE_FAILURE, 'network configuration must be a JSON object');
  const version = str(raw, 'cniVersion', '') ?? '';
  if (!isSupported(version))
    throw new CniError(
      CNI_CODES.INCOMPATIBLE_VERSION,
      `cniVersion "${version}" is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
    );
  if (command === 'CHECK' && (version === '0.3.0' || version === '0.3.1'))
    throw new CniError(
      CNI_CODES.INCOMPATIBLE_VERSION,
      `CHECK needs cniVersion 0.4.0 or later, not ${version}`,
    );
  if ((command === 'STATUS' || command === 'GC') && version !== '1.1.0')
    throw new CniError(CNI_CODES.INCOMPATIBLE_VERSION, `${command} needs cniVersion 1.1.0, not ${version}`);
  const type = str(raw, 'type', '') ?? '';
  const ipam = isObject(raw['ipam']) ? raw['ipam'] : undefined;
  const ipamType = ipam ? str(ipam, 'type', 'ipam.') : undefined;
  const ours = (t: string | undefined) => t !== undefined && (PLUGIN_TYPES as readonly string[]).includes(t);
  const ipamOnly = !ours(type) && ours(ipamType);
  // As IPAM, Kube-OVN's keys sit under `ipam`; the top level is the delegating plugin's.
  const keys = ipamOnly && ipam ? ipam : raw;
  const where = ipamOnly ? 'ipam.' : '';
  const provider = str(keys, 'provider', where) ?? (ipamOnly ? undefined : str(raw, 'provider', ''));
  if (!provider)
    throw new CniError(
      CNI_CODES.INVALID_CONFIG,
      `network configuration: ${where}provider is required (<nad>.<namespace>.ovn, e.g. vswitch1.default.ovn)`,
    );
  const serverSocket =
    str(keys, 'server_socket', where) ?? str(raw, 'server_socket', '') ?? DEFAULT_CNI_SOCKET;
  if (!serverSocket.startsWith('/'))
    throw new CniError(
      CNI_CODES.INVALID_CONFIG,
      `network configuration: ${where}server_socket "${serverSocket}" is not an absolute path`,
    );
  const valid = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'];
  const rc = isObject(raw['runtimeConfig']) ? raw['runtimeConfig'] : {};
  const ips = rc['ips'];
  if (ips !== undefined && !(Array.isArray(ips) && ips.every((x) => typeof x === 'string')))
    throw new CniError(
      CNI_CODES.INVALID_CONFIG,
      'network configuration: runtimeConfig.ips must be a list of addresses',
    );
  if (Array.isArray(ips) && ips.length > 1)
    throw new CniError(
      CNI_CODES.UNSUPPORTED_FIELD,
      `network configuration: runtimeConfig.ips has ${ips.length} addresses; a port has one`,
    );
  const ip = Array.isArray(ips) && typeof ips[0] === 'string' ? ips[0].replace(/\/\d+$/, '') : undefined;
  const mac = str(rc, 'mac', 'runtimeConfig.');
  return {
    cniVersion: version,
    name: str(raw, 'name', '') ?? '',
    type,
    provider,
    network: providerNetwork(provider),
    serverSocket,
    ipamOnly,
    ...(isObject(raw['prevResult']) ? { prevResult: raw['prevResult'] } : {}),
    ...(command === 'GC' && valid !== undefined ? { validAttachments: attachments(valid) } : {}),
    ...(ip ? { ip } : {}),
    ...(mac ? { mac } : {}),
  };
}

/** `K=V;K=V` (CNI_ARGS); a part without `=` is an error. */
export function parseCniArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_CODES.INVALID_ENV, `CNI_ARGS: "${part}" is not KEY=VALUE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function need(env: NodeJS.ProcessEnv, key: string, command: string): string {
  const v = env[key];
  if (v === undefined || v === '')
    throw new CniError(CNI_CODES.INVALID_ENV, `${key} is required for ${command}`);
  return v;
}

/** The CNI_* variables. Which are required depends on the command (CNI spec §2). */
export function parseCniEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env['CNI_COMMAND'];
  if (!command) throw new CniError(CNI_CODES.INVALID_ENV, 'CNI_COMMAND is required');
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new CniError(
      CNI_CODES.INVALID_ENV,
      `CNI_COMMAND "${command}" is not one of ${COMMANDS.join(', ')}`,
    );
  const cmd = command as CniCommand;
  const args = parseCniArgs(env['CNI_ARGS']);
  const out: CniEnv = { command: cmd, args };
  if (cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK') {
    out.containerId = need(env, 'CNI_CONTAINERID', cmd);
    out.ifname = need(env, 'CNI_IFNAME', cmd);
    // A DEL may come after the namespace is gone, without CNI_NETNS.
    const netns = cmd === 'DEL' ? env['CNI_NETNS'] || undefined : need(env, 'CNI_NETNS', cmd);
    if (netns !== undefined) out.netns = netns;
  }
  const ns = args['K8S_POD_NAMESPACE'];
  const name = args['K8S_POD_NAME'];
  if (ns && name) out.pod = { namespace: ns, name };
  return out;
}
