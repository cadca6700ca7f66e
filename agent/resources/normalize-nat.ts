/**
 * Per-resource checks and defaults for the underlay (ProviderNetwork, Vlan) and the NAT
 * gateway kinds (VpcNatGateway, IptablesEIP and its SNAT/DNAT/FIP rules). See `normalize.ts`.
 */
import { isMulticastMac, isValidIfname, normalizeMac } from '../../netlink/inet.js';
import { cidrOrReport as parseCidrOrReport, ipOrReport, type Reporter } from './normalize.js';
import { DEFAULT_EXTERNAL_SUBNET, type Kind, type Meta } from './types.js';

type Raw = Record<string, unknown>;

/** NAT rules accept a bare address where a CIDR is expected (it becomes /32). */
const cidrOrReport = (text: string, field: string, report: Reporter) =>
  parseCidrOrReport(text, field, report, true);

export function normalizeUnderlay(
  kind: 'ProviderNetwork' | 'Vlan',
  s: Raw,
  meta: Meta,
  report: Reporter,
): unknown {
  if (kind === 'Vlan') {
    const id = s['id'] as number;
    if (id < 0 || id > 4094) report('spec.id', `${id} is out of range 0..4094 (IEEE 802.1Q; 0 = untagged)`);
    if (!(s['provider'] as string)) report('spec.provider', 'must name a ProviderNetwork');
    return { id, provider: s['provider'] };
  }
  // The node bridge is br-<name>; Linux interface names are at most 15 bytes.
  if (meta.name.length > 12)
    report('metadata.name', `${meta.name} is longer than 12 characters (bridge br-<name>)`);
  const def = s['defaultInterface'] as string;
  if (!isValidIfname(def))
    report('spec.defaultInterface', `${JSON.stringify(def)} is not a valid interface name`);
  const custom = (s['customInterfaces'] ?? []) as { interface: string; nodes: string[] }[];
  const nodeSeen = new Map<string, number>();
  custom.forEach((c, i) => {
    if (!isValidIfname(c.interface)) {
      report(
        `spec.customInterfaces[${i}].interface`,
        `${JSON.stringify(c.interface)} is not a valid interface name`,
      );
    }
    for (const n of c.nodes) {
      const prev = nodeSeen.get(n);
      if (prev !== undefined)
        report(`spec.customInterfaces[${i}].nodes`, `node ${n} is also in customInterfaces[${prev}]`);
      nodeSeen.set(n, i);
    }
  });
  return {
    defaultInterface: def,
    customInterfaces: custom,
    excludeNodes: (s['excludeNodes'] as string[] | undefined) ?? [],
  };
}

export function normalizeNat(kind: Kind, s: Raw, report: Reporter): unknown {
  switch (kind) {
    case 'VpcNatGateway': {
      const lan = ipOrReport(s['lanIp'] as string, 'spec.lanIp', report);
      const routes = ((s['routes'] ?? []) as Raw[]).flatMap((r, i) => {
        const cidr = cidrOrReport(r['cidr'] as string, `spec.routes[${i}].cidr`, report);
        const hop = ipOrReport(r['nextHopIP'] as string, `spec.routes[${i}].nextHopIP`, report, cidr?.family);
        return cidr && hop ? [{ cidr, nextHopIP: hop.text }] : [];
      });
      const ext = (s['externalSubnets'] as string[] | undefined) ?? [];
      return {
        vpc: s['vpc'],
        subnet: s['subnet'],
        lanIp: lan?.text ?? '',
        externalSubnets: ext.length ? ext : [DEFAULT_EXTERNAL_SUBNET],
        routes,
        selector: (s['selector'] as string[] | undefined) ?? [],
      };
    }
    case 'IptablesEIP': {
      const out: Raw = {
        natGwDp: s['natGwDp'],
        externalSubnet: (s['externalSubnet'] as string | undefined) ?? '',
      };
      if (s['v4ip']) out['v4ip'] = ipOrReport(s['v4ip'] as string, 'spec.v4ip', report, 4)?.text;
      if (s['macAddress']) {
        const mac = normalizeMac(s['macAddress'] as string);
        if (!mac || isMulticastMac(mac))
          report('spec.macAddress', `${String(s['macAddress'])} is not a unicast MAC address`);
        out['macAddress'] = mac;
      }
      return out;
    }
    case 'IptablesSnatRule':
      return {
        eip: s['eip'],
        internalCIDR: cidrOrReport(s['internalCIDR'] as string, 'spec.internalCIDR', report),
      };
    case 'IptablesFIPRule':
      return {
        eip: s['eip'],
        internalIp: ipOrReport(s['internalIp'] as string, 'spec.internalIp', report, 4)?.text,
      };
    case 'IptablesDnatRule': {
      const protocol = ((s['protocol'] as string | undefined) ?? 'tcp').toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp') report('spec.protocol', `${protocol} must be tcp or udp`);
      const port = (field: string): number => {
        const v = s[field];
        const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : NaN;
        if (!(n >= 1 && n <= 65535)) report(`spec.${field}`, `${JSON.stringify(v)} must be a port 1..65535`);
        return n;
      };
      return {
        eip: s['eip'],
        protocol,
        externalPort: port('externalPort'),
        internalIp: ipOrReport(s['internalIp'] as string, 'spec.internalIp', report, 4)?.text,
        internalPort: port('internalPort'),
      };
    }
    default:
      return undefined;
  }
}
