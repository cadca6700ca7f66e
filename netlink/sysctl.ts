/**
 * sysctl values of a network namespace (`net.*` keys only: those are the per-namespace ones, see
 * sysctl(8) and Documentation/admin-guide/sysctl/net.rst). /proc/sys/net resolves against the network
 * namespace of the thread that opens the file, so the file is opened, written and closed
 * synchronously inside {@link inNetns}. `{ via: 'exec' }` runs `ip netns exec NAME sysctl` instead.
 *
 * Keys use sysctl(8) syntax: dots separate components; a `/` stands for a dot inside a component
 * (`net.ipv4.conf.eth0/100.forwarding`). A slash-separated path under net/ is accepted too.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { NetlinkInputError, toNetlinkError } from './errors.js';
import { execIn } from './exec.js';
import { checkIfname } from './inet.js';
import { defaultVia, type Via } from './namespaces.js';
import { inNetns } from './setns.js';

/** `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward`; rejects keys outside `net.`. */
export function sysctlPath(key: string): string {
  const parts = key.includes('.') ? key.split('.').map((p) => p.replace(/\//g, '.')) : key.split('/');
  if (parts[0] !== 'net' || parts.length < 2 || parts.some((p) => p === '' || p === '..' || p === '.')) {
    throw new NetlinkInputError(`sysctl ${JSON.stringify(key)}: only net.* keys are per-namespace`);
  }
  return `/proc/sys/${parts.join('/')}`;
}

function run<T>(netns: string | undefined, fn: () => T, op: string): T {
  return netns === undefined ? fn() : inNetns(netns, fn, op);
}

/** Reads `key` in `netns` (undefined = the agent's own namespace), trimmed. */
export async function readSysctl(
  netns: string | undefined,
  key: string,
  opts: { via?: Via } = {},
): Promise<string> {
  const path = sysctlPath(key);
  if (netns !== undefined && (opts.via ?? defaultVia()) === 'exec') {
    return (await execIn('sysctl', ['-n', key], { op: 'sysctl.read', target: key, netns })).trim();
  }
  try {
    return run(netns, () => readFileSync(path, 'utf8'), 'sysctl.read').trim();
  } catch (err) {
    throw toNetlinkError(err, { op: 'sysctl.read', target: key, ...(netns === undefined ? {} : { netns }) });
  }
}

/** Writes `value` to `key` in `netns`. Refuses to touch the agent's own namespace unless `netns` is given. */
export async function writeSysctl(
  netns: string,
  key: string,
  value: string | number,
  opts: { via?: Via } = {},
): Promise<void> {
  const path = sysctlPath(key);
  if ((opts.via ?? defaultVia()) === 'exec') {
    await execIn('sysctl', ['-q', '-w', `${key}=${value}`], { op: 'sysctl.write', target: key, netns });
    return;
  }
  try {
    inNetns(netns, () => writeFileSync(path, String(value)), 'sysctl.write');
  } catch (err) {
    throw toNetlinkError(err, { op: 'sysctl.write', target: key, netns });
  }
}

/**
 * Turns IPv6 off on link `ifname` of `netns` (undefined = the agent's own namespace):
 * `net.ipv6.conf.<ifname>.disable_ipv6 = 1`. Done before the link comes up, the kernel then never
 * gives it a link-local address, runs DAD or joins multicast groups for it (work that otherwise
 * holds the RTNL lock in a kernel worker for every new link). A kernel without IPv6
 * (no /proc/sys/net/ipv6) has nothing to turn off: that is success.
 */
export function disableIpv6(netns: string | undefined, ifname: string): void {
  checkIfname(ifname);
  const path = `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`;
  const write = () => {
    try {
      writeFileSync(path, '1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync('/proc/sys/net/ipv6')) return;
      throw err;
    }
  };
  try {
    if (netns === undefined) write();
    else inNetns(netns, write, 'sysctl.write');
  } catch (err) {
    throw toNetlinkError(err, {
      op: 'sysctl.write',
      target: `net.ipv6.conf.${ifname}.disable_ipv6`,
      ...(netns === undefined ? {} : { netns }),
    });
  }
}
