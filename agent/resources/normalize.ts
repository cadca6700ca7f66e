/**
 * Per-resource semantic checks and defaults: everything that can be decided from one resource
 * alone. Cross-resource rules are in `validate.ts`.
 *
 * Defaults (each with its reason):
 * - Subnet `gateway`: first usable address of `cidrBlock` (Kube-OVN does the same).
 * - Subnet `vpc`: `ovn-cluster`, the default VPC, which exists without being declared.
 * - Subnet `protocol`: the family of `cidrBlock`.
 * - Subnet `provider`: `ovn` (Kube-OVN's primary network).
 * - Subnet `enableDHCP`: **true** (Kube-OVN defaults to false). VMs then get their address and
 *   default route from OVN's built-in DHCP without anyone logging in to configure them — the
 *   manual route step the seed setups needed. `enableDHCP: false` turns it off.
 * - Vpc staticRoute `policy`: `policyDst`.
 * - IptablesDnatRule `protocol`: `tcp`.
 */
import { normalizeNat, normalizeUnderlay } from './normalize-nat.js';
import {
  cidrContains,
  formatIp,
  isValidIfname,
  parseCidr,
  tryParseIp,
  type Cidr,
} from '../../netlink/inet.js';
import {
  firstUsable,
  formatRange,
  mergeRanges,
  parseIpRange,
  reservedAddresses,
  type IpRange,
} from './net.js';
import {
  DEFAULT_PROVIDER,
  DEFAULT_VPC,
  type Acl,
  type AclAction,
  type Kind,
  type Meta,
  type NadSpec,
  type PolicyRoute,
  type StaticRoute,
  type SubnetSpec,
  type VpcPeering,
  type VpcSpec,
} from './types.js';

/** Records one error at `field`. */
export type Reporter = (field: string, message: string) => void;

type Raw = Record<string, unknown>;

export const ACL_ACTIONS: readonly AclAction[] = [
  'allow',
  'allow-related',
  'allow-stateless',
  'drop',
  'reject',
];
/** ovn-nb(5): ACL and Logical_Router_Policy priorities are 0..32767. */
export const MAX_PRIORITY = 32767;

/** Parses a CIDR, reporting a parse failure at `field`. */
export function cidrOrReport(
  text: string,
  field: string,
  report: Reporter,
  bareIp = false,
): Cidr | undefined {
  try {
    return parseCidr(text, { allowBareIp: bareIp });
  } catch (e) {
    report(field, (e as Error).message);
    return undefined;
  }
}

/** Parses an address (of `family`, if given), reporting a failure at `field`. */
export function ipOrReport(text: string, field: string, report: Reporter, family?: 4 | 6) {
  const ip = tryParseIp(text);
  if (!ip) report(field, `${JSON.stringify(text)} is not an IP address`);
  else if (family !== undefined && ip.family !== family)
    report(field, `${text} is not an IPv${family} address`);
  else return ip;
  return undefined;
}

function priorityOk(p: number, field: string, report: Reporter): void {
  if (p < 0 || p > MAX_PRIORITY) report(field, `${p} is out of range 0..${MAX_PRIORITY}`);
}

/**
 * Splits Kube-OVN's `dhcpV4Options` string (`k=v,k=v`, values may be `{a,b}` sets as in
 * ovn-nb(5) DHCP_Options) into a record.
 */
export function parseDhcpOptions(text: string, field: string, report: Reporter): Record<string, string> {
  const out: Record<string, string> = {};
  let depth = 0;
  let cur = '';
  const parts: string[] = [];
  for (const ch of text) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq <= 0 || !/^[a-z][a-z0-9_]*$/.test(key)) {
      report(field, `${JSON.stringify(part)} is not a key=value option`);
      continue;
    }
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

function normalizeSubnet(s: Raw, report: Reporter): SubnetSpec | undefined {
  const block = s['cidrBlock'] as string;
  if (s['protocol'] === 'Dual' || block.includes(',')) {
    report(
      s['protocol'] === 'Dual' ? 'spec.protocol' : 'spec.cidrBlock',
      'dual-stack subnets are not supported yet',
    );
    return undefined;
  }
  const cidr = cidrOrReport(block, 'spec.cidrBlock', report);
  if (!cidr) return undefined;
  const protocol = cidr.family === 4 ? 'IPv4' : 'IPv6';
  if (s['protocol'] !== undefined && s['protocol'] !== protocol) {
    report('spec.protocol', `${String(s['protocol'])} does not match cidrBlock ${cidr.text} (${protocol})`);
  }
  if ((cidr.family === 4 && cidr.prefix > 30) || (cidr.family === 6 && cidr.prefix > 126)) {
    report('spec.cidrBlock', `${cidr.text} is too small: no address left beside the gateway`);
    return undefined;
  }
  const reserved = reservedAddresses(cidr);
  let gatewayValue = firstUsable(cidr);
  if (s['gateway'] !== undefined) {
    const gw = ipOrReport(s['gateway'] as string, 'spec.gateway', report, cidr.family);
    if (!gw) return undefined;
    if (!cidrContains(cidr, gw)) {
      report('spec.gateway', `${gw.text} is not inside cidrBlock ${cidr.text}`);
      return undefined;
    }
    if (reserved.includes(gw.value)) {
      report(
        'spec.gateway',
        `${gw.text} is the ${gw.value === cidr.first ? 'network' : 'broadcast'} address of ${cidr.text}`,
      );
      return undefined;
    }
    gatewayValue = gw.value;
  }
  const ranges: IpRange[] = [{ first: gatewayValue, last: gatewayValue }];
  ((s['excludeIps'] ?? []) as string[]).forEach((text, i) => {
    const field = `spec.excludeIps[${i}]`;
    try {
      const r = parseIpRange(text);
      if (r.family !== cidr.family || !cidrContains(cidr, r.first) || !cidrContains(cidr, r.last)) {
        report(field, `${text} is not inside cidrBlock ${cidr.text}`);
      } else ranges.push(r);
    } catch (e) {
      report(field, (e as Error).message);
    }
  });
  const excludeRanges = mergeRanges(ranges);

  const provider = (s['provider'] as string | undefined) ?? DEFAULT_PROVIDER;
  // `<nad>.<namespace>` (no `.ovn`): addresses only, for a NAD of another CNI (an external
  // network on a NIC); `checkSubnet` requires that NAD.
  const external =
    provider === DEFAULT_PROVIDER || parseProvider(provider) ? undefined : parseAttachment(provider);
  if (provider !== DEFAULT_PROVIDER && !parseProvider(provider) && !external) {
    report(
      'spec.provider',
      `${JSON.stringify(provider)} must be "ovn", "<nad>.<namespace>.ovn" or, for an external network, "<nad>.<namespace>"`,
    );
  }
  const allowSubnets: Cidr[] = [];
  ((s['allowSubnets'] ?? []) as string[]).forEach((text, i) => {
    const c = cidrOrReport(text, `spec.allowSubnets[${i}]`, report, true);
    if (c) allowSubnets.push(c);
  });
  const mtu = s['mtu'] as number | undefined;
  const minMtu = cidr.family === 4 ? 68 : 1280; // RFC 791, RFC 8200 §5
  if (mtu !== undefined && (mtu < minMtu || mtu > 65535))
    report('spec.mtu', `${mtu} is out of range ${minMtu}..65535`);
  const acls: Acl[] = [];
  ((s['acls'] ?? []) as Raw[]).forEach((a, i) => {
    const f = `spec.acls[${i}]`;
    if (a['direction'] !== 'from-lport' && a['direction'] !== 'to-lport') {
      report(`${f}.direction`, `${JSON.stringify(a['direction'])} must be from-lport or to-lport`);
    }
    if (a['action'] === 'pass') {
      // Kube-OVN accepts it for newer OVN (ACL tiers); OVN 23.03's ACL.action has no `pass`,
      // and applying the subnet without that ACL would be a half-applied resource.
      report(`${f}.action`, '"pass" is not supported by this OVN (23.03 has no ACL tiers)');
    } else if (!ACL_ACTIONS.includes(a['action'] as AclAction)) {
      report(`${f}.action`, `${JSON.stringify(a['action'])} must be one of ${ACL_ACTIONS.join(', ')}`);
    }
    priorityOk(a['priority'] as number, `${f}.priority`, report);
    if (!(a['match'] as string).trim()) report(`${f}.match`, 'must not be empty');
    acls.push(a as unknown as Acl);
  });
  if (s['vlan'] !== undefined && (s['vlan'] as string) === '') report('spec.vlan', 'must not be empty');

  const out: SubnetSpec = {
    vpc: (s['vpc'] as string | undefined) || DEFAULT_VPC,
    protocol,
    cidr,
    gateway: formatIp(cidr.family, gatewayValue),
    gatewayValue,
    excludeRanges,
    excludeIps: excludeRanges.map((r) => formatRange(cidr.family, r)),
    provider,
    natOutgoing: (s['natOutgoing'] as boolean | undefined) ?? false,
    private: (s['private'] as boolean | undefined) ?? false,
    allowSubnets,
    enableDHCP: (s['enableDHCP'] as boolean | undefined) ?? true,
    dhcpV4Options: parseDhcpOptions(
      (s['dhcpV4Options'] as string | undefined) ?? '',
      'spec.dhcpV4Options',
      report,
    ),
    acls,
    gatewayType: (s['gatewayType'] as 'distributed' | 'centralized' | undefined) ?? 'distributed',
    gatewayNode: (s['gatewayNode'] as string | undefined) ?? '',
    namespaces: (s['namespaces'] as string[] | undefined) ?? [],
    default: (s['default'] as boolean | undefined) ?? false,
  };
  if (s['vlan']) out.vlan = s['vlan'] as string;
  if (mtu !== undefined) out.mtu = mtu;
  if (external) out.external = external;
  return out;
}

/** Splits `<nad>.<namespace>`, the provider of a Subnet that only gives out addresses. */
export function parseAttachment(provider: string): { nad: string; namespace: string } | undefined {
  const cut = provider.lastIndexOf('.');
  if (cut <= 0) return undefined;
  const nad = provider.slice(0, cut);
  const namespace = provider.slice(cut + 1);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(nad))
    return undefined;
  return { nad, namespace };
}

/** Splits `<nad>.<namespace>.ovn` (the NAD name may itself contain dots). */
export function parseProvider(provider: string): { nad: string; namespace: string } | undefined {
  const parts = provider.split('.');
  if (parts.length < 3 || parts[parts.length - 1] !== 'ovn') return undefined;
  const namespace = parts[parts.length - 2] ?? '';
  const nad = parts.slice(0, -2).join('.');
  if (!nad || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) return undefined;
  return { nad, namespace };
}

function normalizeVpc(s: Raw, meta: Meta, report: Reporter): VpcSpec {
  const staticRoutes: StaticRoute[] = [];
  ((s['staticRoutes'] ?? []) as Raw[]).forEach((r, i) => {
    const f = `spec.staticRoutes[${i}]`;
    const cidr = cidrOrReport(r['cidr'] as string, `${f}.cidr`, report, true);
    const hop = ipOrReport(r['nextHopIP'] as string, `${f}.nextHopIP`, report, cidr?.family);
    if (cidr && hop) {
      staticRoutes.push({
        cidr,
        nextHopIP: hop.text,
        nextHop: hop.value,
        policy: (r['policy'] as 'policyDst' | 'policySrc' | undefined) ?? 'policyDst',
        routeTable: (r['routeTable'] as string | undefined) ?? '',
      });
    }
  });
  const policyRoutes: PolicyRoute[] = [];
  ((s['policyRoutes'] ?? []) as Raw[]).forEach((r, i) => {
    const f = `spec.policyRoutes[${i}]`;
    priorityOk(r['priority'] as number, `${f}.priority`, report);
    const action = r['action'] as string;
    if (action !== 'allow' && action !== 'drop' && action !== 'reroute') {
      report(`${f}.action`, `${JSON.stringify(action)} must be allow, drop or reroute`);
    }
    if (!(r['match'] as string).trim()) report(`${f}.match`, 'must not be empty');
    const route: PolicyRoute = {
      priority: r['priority'] as number,
      match: r['match'] as string,
      action,
    } as PolicyRoute;
    if (action === 'reroute') {
      if (r['nextHopIP'] === undefined) report(`${f}.nextHopIP`, 'is required when action is reroute');
      else {
        const hop = ipOrReport(r['nextHopIP'] as string, `${f}.nextHopIP`, report);
        if (hop) route.nextHopIP = hop.text;
      }
    } else if (r['nextHopIP'] !== undefined) {
      report(`${f}.nextHopIP`, `is only used with action reroute (action is ${action})`);
    }
    policyRoutes.push(route);
  });
  const vpcPeerings: VpcPeering[] = [];
  const peers = (s['vpcPeerings'] ?? []) as Raw[];
  if (meta.name === DEFAULT_VPC && peers.length > 0) {
    report(
      'spec.vpcPeerings',
      `peering is only between custom VPCs; the default VPC ${DEFAULT_VPC} cannot peer`,
    );
  }
  const seen = new Set<string>();
  peers.forEach((p, i) => {
    const f = `spec.vpcPeerings[${i}]`;
    const remote = p['remoteVpc'] as string;
    if (remote === meta.name) report(`${f}.remoteVpc`, 'a VPC cannot peer with itself');
    else if (remote === DEFAULT_VPC) {
      report(`${f}.remoteVpc`, `peering is only between custom VPCs; ${DEFAULT_VPC} cannot peer`);
    } else if (seen.has(remote)) report(`${f}.remoteVpc`, `${remote} is listed twice`);
    seen.add(remote);
    const text = p['localConnectIP'] as string;
    let network: Cidr | undefined;
    try {
      network = parseCidr(text, { allowHostBits: true });
    } catch (e) {
      report(`${f}.localConnectIP`, (e as Error).message);
      return;
    }
    const addr = tryParseIp(text.slice(0, text.indexOf('/')));
    const ptp = network.family === 4 ? [30, 31] : [126, 127];
    if (!addr || !ptp.includes(network.prefix)) {
      report(`${f}.localConnectIP`, `${text} must be an address with a /${ptp[0]} or /${ptp[1]} prefix`);
      return;
    }
    if (reservedAddresses(network).includes(addr.value)) {
      report(`${f}.localConnectIP`, `${addr.text} is the network or broadcast address of ${network.text}`);
      return;
    }
    vpcPeerings.push({
      remoteVpc: remote,
      localConnectIP: text,
      address: addr.text,
      addressValue: addr.value,
      network,
    });
  });
  const out: VpcSpec = {
    namespaces: (s['namespaces'] as string[] | undefined) ?? [],
    staticRoutes,
    policyRoutes,
    vpcPeerings,
  };
  if (s['defaultSubnet']) out.defaultSubnet = s['defaultSubnet'] as string;
  return out;
}

function normalizeNad(s: Raw, meta: Meta, report: Reporter): NadSpec | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s['config'] as string);
  } catch (e) {
    report('spec.config', `is not valid JSON: ${(e as Error).message}`);
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    report('spec.config', 'must be a JSON object (a CNI network configuration)');
    return undefined;
  }
  let config = parsed as Raw;
  if (Array.isArray(config['plugins'])) {
    const plugins = config['plugins'] as Raw[];
    config = plugins.find((p) => p?.['type'] === 'kube-ovn') ?? plugins[0] ?? {};
  }
  const cniType = config['type'];
  if (typeof cniType !== 'string' || !cniType) {
    report('spec.config.type', 'is required (the CNI plugin type, e.g. kube-ovn)');
    return undefined;
  }
  const out: NadSpec = { config, cniType, kubeOvn: cniType === 'kube-ovn' };
  if (!out.kubeOvn) {
    // Another CNI (macvlan, ipvlan, …) on a NIC, possibly asking our IPAM for addresses.
    const master = config['master'];
    if (master !== undefined && (typeof master !== 'string' || !isValidIfname(master)))
      report('spec.config.master', `${JSON.stringify(master)} is not a valid interface name`);
    else if (master !== undefined) out.master = master;
    const ipam = config['ipam'] as Raw | undefined;
    if (ipam && typeof ipam === 'object' && ipam['type'] === 'kube-ovn') {
      const expected = `${meta.name}.${meta.namespace ?? 'default'}`;
      if (ipam['provider'] !== undefined && ipam['provider'] !== expected)
        report(
          'spec.config.ipam.provider',
          `${String(ipam['provider'])} must be <name>.<namespace>, i.e. ${expected}`,
        );
    }
    return out;
  }
  const expected = `${meta.name}.${meta.namespace ?? 'default'}.ovn`;
  const provider = config['provider'];
  if (typeof provider !== 'string' || !provider) {
    report('spec.config.provider', `is required for type kube-ovn (expected ${expected})`);
  } else if (provider !== expected) {
    report('spec.config.provider', `${provider} must be <name>.<namespace>.ovn, i.e. ${expected}`);
  } else out.provider = provider;
  const socket = config['server_socket'];
  if (socket !== undefined && typeof socket !== 'string')
    report('spec.config.server_socket', 'must be a string');
  else if (socket !== undefined) out.serverSocket = socket;
  return out;
}

/** Normalizes the zod-checked `spec` of `kind`; reports problems and may return undefined. */
export function normalizeSpec(kind: Kind, spec: Raw, meta: Meta, report: Reporter): unknown {
  switch (kind) {
    case 'Subnet':
      return normalizeSubnet(spec, report);
    case 'Vpc':
      return normalizeVpc(spec, meta, report);
    case 'NetworkAttachmentDefinition':
      return normalizeNad(spec, meta, report);
    case 'ProviderNetwork':
    case 'Vlan':
      return normalizeUnderlay(kind, spec, meta, report);
    default:
      return normalizeNat(kind, spec, report);
  }
}
