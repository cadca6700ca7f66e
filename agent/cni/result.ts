/**
 * The ADD result (CNI spec §5 "Result types") in the configuration's cniVersion, from the
 * agent's port. Pure.
 *
 * - `interfaces`: the interface in the sandbox (`name`, `mac`, `sandbox` = CNI_NETNS; `mtu` from
 *   1.1.0). The host-side veth is left out: it is the agent's, and a chained plugin has no
 *   business with it.
 * - `ips`: the port's address with its prefix, the subnet gateway, `interface: 0`; 0.3.x/0.4.0
 *   also carry `version` ("4"/"6").
 * - `routes`: the default route via the gateway when the agent gave the port one.
 * - `dns`: empty — the subnets carry no DNS settings.
 */
import type { PortResult } from '../node/ports/service.js';
import { atLeast, type CniVersion } from './versions.js';

/** The fields of a PortResult the result needs (what the local API returns). */
export type PortAnswer = Pick<
  PortResult,
  'ifname' | 'mac' | 'ip' | 'prefix' | 'gateway' | 'mtu' | 'netns' | 'defaultRoute'
>;

const family = (ip: string) => (ip.includes(':') ? 6 : 4);

export function formatAddResult(port: PortAnswer, cniVersion: CniVersion): Record<string, unknown> {
  const v = family(port.ip);
  const legacy = !atLeast(cniVersion, '1.0.0');
  const hasGateway = port.gateway !== '';
  return {
    cniVersion,
    interfaces: [
      {
        name: port.ifname,
        mac: port.mac,
        sandbox: port.netns,
        ...(atLeast(cniVersion, '1.1.0') && port.mtu > 0 ? { mtu: port.mtu } : {}),
      },
    ],
    ips: [
      {
        ...(legacy ? { version: String(v) } : {}),
        address: `${port.ip}/${port.prefix}`,
        ...(hasGateway ? { gateway: port.gateway } : {}),
        interface: 0,
      },
    ],
    routes:
      port.defaultRoute !== false && hasGateway
        ? [{ dst: v === 4 ? '0.0.0.0/0' : '::/0', gw: port.gateway }]
        : [],
    dns: {},
  };
}

/**
 * The result of an IPAM-only ADD (this plugin as another plugin's IPAM): addresses and routes
 * only — the delegating plugin makes the interface, so `ips[].interface` is left out.
 */
export function formatIpamResult(port: PortAnswer, cniVersion: CniVersion): Record<string, unknown> {
  const full = formatAddResult(port, cniVersion);
  const ips = (full['ips'] as Record<string, unknown>[]).map(({ interface: _i, ...rest }) => rest);
  return { cniVersion, ips, routes: full['routes'], dns: {} };
}

/** The addresses a result lists (`ip/prefix`), for CHECK against `prevResult`. */
export function resultAddresses(result: Record<string, unknown> | undefined): string[] {
  const ips = result?.['ips'];
  if (!Array.isArray(ips)) return [];
  return ips
    .map((x) => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>)['address'] : undefined))
    .filter((a): a is string => typeof a === 'string');
}
