/**
 * sysctl values of a network namespace (`net.*` keys only: those are the per-namespace ones, see
 * sysctl(8) and Documentation/admin-guide/sysctl/net.rst). /proc/sys/net resolves against the network
 * namespace of the thread that opens the file, so the file is opened, written and closed
 * synchronously inside {@link inNetns}. `{ via: 'exec' }` runs `ip netns exec NAME sysctl` instead.
 *
 * Keys use sysctl(8) syntax: dots separate components; a `/` stands for a dot inside a component
 * (`net.ipv4.conf.eth0/100.forwarding`). A slash-separated path under net/ is accepted too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { NetlinkInputError, toNetlinkError } from './errors.js';
import { execIn } from './exec.js';
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
