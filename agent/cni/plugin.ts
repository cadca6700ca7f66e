/**
 * The CNI plugin's commands over the agent's local API: the runtime's request (environment and
 * stdin) in, what to print and the exit status out. Every error becomes a CNI error object.
 *
 * | CNI     | local API                                                       | prints            |
 * | ------- | --------------------------------------------------------------- | ----------------- |
 * | ADD     | POST /v1/ports {network, netns, ifname, containerId, defaultRoute, pod, ip?, mac?} | the result    |
 * | DEL     | DELETE /v1/ports {containerId, ifname, network} (netns optional) | nothing           |
 * | CHECK   | POST /v1/ports/check, then the address against `prevResult`      | nothing           |
 * | STATUS  | GET /v1/ports (the agent answers: it is up and loaded)           | nothing           |
 * | GC      | GET /v1/ports, DELETE each attachment of this network not valid  | nothing           |
 * | VERSION | —                                                               | supported versions|
 */
import { ApiClientError } from '../api/client.js';
import { formatNetwork } from '../node/ports/names.js';
import type { PortResult } from '../node/ports/service.js';
import { parseCniEnv, parseNetConf, type CniEnv, type NetConf } from './config.js';
import { CNI_CODES, CniError, formatCniError } from './errors.js';
import { formatAddResult, formatIpamResult, resultAddresses } from './result.js';
import { isSupported, LATEST_VERSION, SUPPORTED_VERSIONS } from './versions.js';

/** How the plugin reaches the agent (the local API client; a test may pass another). */
export type ApiCall = <T>(socket: string, method: string, path: string, body?: unknown) => Promise<T>;

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

/** The cniVersion to answer an error in: the configuration's, if it can be read at all. */
function versionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && isSupported(v) ? v : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

/** The agent's answer to a failed call → a CNI error that says what happened and where. */
export function agentError(err: unknown, command: string, conf: NetConf): CniError {
  const what = `${command} ${formatNetwork(conf.network)} (provider ${conf.provider})`;
  if (err instanceof CniError) return err;
  if (!(err instanceof ApiClientError)) {
    const msg = err instanceof Error ? err.message : String(err);
    return new CniError(CNI_CODES.TRY_AGAIN_LATER, `${what}: ${msg}`, `agent socket ${conf.serverSocket}`);
  }
  const details = `agent answered HTTP ${err.status} ${err.code}${err.field ? ` (field ${err.field})` : ''} on ${conf.serverSocket}`;
  const code = (() => {
    switch (err.status) {
      case 400:
        return err.field && /^(netns|ifname|containerId|pod)/.test(err.field)
          ? CNI_CODES.INVALID_ENV
          : CNI_CODES.INVALID_CONFIG;
      case 404:
        return err.code === 'ERR_PORT_NO_ATTACHMENT' ? CNI_CODES.UNKNOWN_CONTAINER : CNI_CODES.INVALID_CONFIG;
      case 409:
        return err.code === 'ERR_PORT_CHECK_FAILED' ? CNI_CODES.CHECK_FAILED : CNI_CODES.REFUSED;
      case 503:
      case 504:
        return CNI_CODES.TRY_AGAIN_LATER;
      default:
        return CNI_CODES.AGENT_FAILED;
    }
  })();
  return new CniError(code, `${what}: ${err.message}`, details);
}

async function add(env: CniEnv, conf: NetConf, call: ApiCall): Promise<string> {
  // A requested address: the runtime's `ips`/`mac` capabilities, else CNI_ARGS IP=/MAC=.
  const ip = conf.ip ?? env.args['IP']?.replace(/\/\d+$/, '');
  const mac = conf.mac ?? env.args['MAC'];
  const port = await call<PortResult>(conf.serverSocket, 'POST', '/v1/ports', {
    network: formatNetwork(conf.network),
    netns: env.netns,
    ifname: env.ifname,
    containerId: env.containerId,
    // Multus gives the cluster network eth0 and attachments net1, net2, …: a secondary
    // interface must not take the pod's default route from its primary network.
    defaultRoute: env.ifname === 'eth0',
    ...(conf.ipamOnly ? { ipamOnly: true } : {}),
    ...(env.pod ? { pod: env.pod } : {}),
    ...(ip ? { ip } : {}),
    ...(mac ? { mac } : {}),
  });
  // As IPAM: addresses and routes only, the delegating plugin makes the interface.
  return JSON.stringify((conf.ipamOnly ? formatIpamResult : formatAddResult)(port, conf.cniVersion));
}

async function del(env: CniEnv, conf: NetConf, call: ApiCall): Promise<void> {
  // By container id and interface: the namespace may be gone, and DEL must succeed then too.
  await call(conf.serverSocket, 'DELETE', '/v1/ports', {
    containerId: env.containerId,
    ifname: env.ifname,
    network: formatNetwork(conf.network),
  });
}

async function check(env: CniEnv, conf: NetConf, call: ApiCall): Promise<void> {
  const port = await call<PortResult>(conf.serverSocket, 'POST', '/v1/ports/check', {
    containerId: env.containerId,
    ifname: env.ifname,
    netns: env.netns,
    network: formatNetwork(conf.network),
  });
  const want = resultAddresses(conf.prevResult);
  const have = `${port.ip}/${port.prefix}`;
  if (conf.prevResult && !want.includes(have))
    throw new CniError(
      CNI_CODES.CHECK_FAILED,
      `CHECK ${formatNetwork(conf.network)}: port ${port.name} has ${have}, prevResult lists ${want.join(', ') || 'no address'}`,
    );
}

async function gc(conf: NetConf, call: ApiCall): Promise<void> {
  const valid = new Set((conf.validAttachments ?? []).map((a) => `${a.containerId}/${a.ifname}`));
  const { ports } = await call<{ ports: PortResult[] }>(conf.serverSocket, 'GET', '/v1/ports');
  const network = formatNetwork(conf.network);
  // Only CNI attachments (they have a container id) of this network; ports added by hand stay.
  for (const p of ports)
    if (p.containerId && p.network === network && !valid.has(`${p.containerId}/${p.ifname}`))
      await call(conf.serverSocket, 'DELETE', '/v1/ports', {
        containerId: p.containerId,
        ifname: p.ifname,
        network,
      });
}

/** Runs one CNI command. Never throws: errors are CNI error objects with a non-zero exit. */
export async function runPlugin(
  processEnv: NodeJS.ProcessEnv,
  stdin: string,
  call: ApiCall,
): Promise<PluginOutput> {
  let env: CniEnv | undefined;
  let conf: NetConf | undefined;
  try {
    env = parseCniEnv(processEnv);
    if (env.command === 'VERSION')
      return {
        stdout: JSON.stringify({ cniVersion: versionOf(stdin), supportedVersions: SUPPORTED_VERSIONS }),
        exitCode: 0,
      };
    conf = parseNetConf(stdin, env.command);
    switch (env.command) {
      case 'ADD':
        return { stdout: await add(env, conf, call), exitCode: 0 };
      case 'DEL':
        await del(env, conf, call);
        break;
      case 'CHECK':
        await check(env, conf, call);
        break;
      case 'STATUS':
        await call(conf.serverSocket, 'GET', '/v1/ports').catch((err: unknown) => {
          const e = agentError(err, 'STATUS', conf!);
          throw new CniError(CNI_CODES.NOT_AVAILABLE, e.message, e.details);
        });
        break;
      case 'GC':
        await gc(conf, call);
        break;
    }
    return { stdout: '', exitCode: 0 };
  } catch (err) {
    const e =
      err instanceof CniError
        ? err
        : conf
          ? agentError(err, env?.command ?? '', conf)
          : new CniError(CNI_CODES.IO_FAILURE, err instanceof Error ? err.message : String(err));
    return { stdout: JSON.stringify(formatCniError(e, versionOf(stdin))), exitCode: 1 };
  }
}
