/**
 * Inputs, options and outputs of the Northbound builders (see `index.ts` and
 * docs/northbound.md).
 */
import { DEFAULT_EXTERNAL_SUBNET, type ResourceSet } from '../../resources/types.js';
import type { DesiredState } from '../desired.js';

/** A workload (VM) port that must exist: one Logical_Switch_Port. */
export interface PortAllocation {
  /** Subnet (= Logical_Switch) name. */
  subnet: string;
  /** Logical_Switch_Port name; the node sets `external_ids:iface-id` to it. */
  name: string;
  /** Address from IPAM (canonical text). */
  ip: string;
  /** MAC from IPAM (lower-case `xx:xx:…`). */
  mac: string;
  /** IPAM owner key; written to `external_ids[IP_OWNER_KEY]` so IPAM is rebuilt from NB. */
  owner: string;
  /** `resource` of the row (default `Port/<name>`). */
  resource?: string;
  /** Chassis the port binds on (`options:requested-chassis`); none = wherever it shows up. */
  chassis?: string;
}

/** The ovn-cluster router's way out, for `natOutgoing` (docs/northbound.md, "natOutgoing"). */
export interface NatGatewayOptions {
  /** Name of the VLAN (underlay) Subnet that leads outside. */
  externalSubnet: string;
  /**
   * Address of the router's port on the external subnet (the SNAT address). Allocate it from
   * IPAM with owner {@link natGatewayOwner}; without it no gateway is built (a warning).
   */
  ip?: string;
  /** Gateway chassis names, highest priority first; empty = no Gateway_Chassis rows. */
  chassis: string[];
}

export interface BuildOptions {
  /** DHCPv4 `lease_time` (s) unless the subnet's dhcpV4Options say otherwise. */
  leaseTime: number;
  /** DHCP `mtu` for overlay subnets without `mtu`: 1500 minus Geneve over IPv4 (58) with headroom. */
  overlayMtu: number;
  /** DHCP `mtu` for VLAN (underlay) subnets without `mtu`: no encapsulation. */
  underlayMtu: number;
  /** See {@link NatGatewayOptions}. */
  natGateway: NatGatewayOptions;
  /**
   * Also write `other_config:subnet`/`exclude_ips` (`ipv6_prefix` for IPv6) on Logical_Switches.
   * Off: the agent's IPAM is the only allocator, and ovn-northd's native IPAM stays idle so it
   * cannot hand a `dynamic` port an address IPAM does not know.
   */
  ovnIpamHints: boolean;
}

/** Defaults, each with its reason in {@link BuildOptions}. */
export const DEFAULT_BUILD_OPTIONS: Readonly<BuildOptions> = Object.freeze({
  leaseTime: 3600,
  overlayMtu: 1400,
  underlayMtu: 1500,
  natGateway: Object.freeze({ externalSubnet: DEFAULT_EXTERNAL_SUBNET, chassis: [] as string[] }),
  ovnIpamHints: false,
});

/** Options as callers pass them: anything left out takes its default. */
export type BuildOptionsInput = Partial<Omit<BuildOptions, 'natGateway'>> & {
  natGateway?: Partial<NatGatewayOptions>;
};

export interface BuildInput {
  resources: ResourceSet;
  ports: readonly PortAllocation[];
  options?: BuildOptionsInput;
  /**
   * The address of each IptablesEIP, by name: allocated from IPAM before the build (owner
   * {@link eipOwner}), recorded in Northbound so it stays the EIP's across restarts. An EIP
   * without one gets no record (a warning).
   */
  eips?: ReadonlyMap<string, string>;
}

/** IPAM owner of an IptablesEIP's address. */
export const eipOwner = (eip: string): string => `eip/${eip}`;

/** Something valid resources still cannot express in NB; the rest is built regardless. */
export interface BuildWarning {
  /** `Kind/name` (or `Port/<name>`). */
  resource: string;
  message: string;
}

export interface BuildResult {
  state: DesiredState;
  warnings: BuildWarning[];
}

/** IPAM owner of the ovn-cluster router's address on the external subnet. */
export function natGatewayOwner(vpc: string): string {
  return `router/${vpc}`;
}

/** Fills in defaults. */
export function resolveOptions(input: BuildOptionsInput = {}): BuildOptions {
  const d = DEFAULT_BUILD_OPTIONS;
  const gw = input.natGateway ?? {};
  const natGateway: NatGatewayOptions = {
    externalSubnet: gw.externalSubnet ?? d.natGateway.externalSubnet,
    chassis: [...(gw.chassis ?? d.natGateway.chassis)],
  };
  if (gw.ip !== undefined) natGateway.ip = gw.ip;
  return {
    leaseTime: input.leaseTime ?? d.leaseTime,
    overlayMtu: input.overlayMtu ?? d.overlayMtu,
    underlayMtu: input.underlayMtu ?? d.underlayMtu,
    ovnIpamHints: input.ovnIpamHints ?? d.ovnIpamHints,
    natGateway,
  };
}
