/**
 * Desired Open_vSwitch state of one node, as a pure function of the resources.
 *
 * For each ProviderNetwork that does not exclude this node (Kube-OVN `ProviderNetwork` semantics):
 * - a provider bridge `br-<name>` of the configured datapath type with `fail_mode=standalone`:
 *   nobody programs it over OpenFlow, so it must behave as a learning switch (the NORMAL
 *   action) — with `secure` and no controller it would drop everything (ovs-vswitchd.conf.db(5)
 *   "Bridge fail_mode"); ovn-controller adds the patch port towards br-int itself;
 * - the uplink NIC as a port on it: the `customInterfaces` entry naming this node, else
 *   `defaultInterface`. The port is a trunk (`vlan_mode=trunk`) whose `trunks` are 0 plus the
 *   ids of the Vlans that use the network: VLAN 0 stands for untagged frames (ovs-vswitchd.conf.db(5)
 *   "Port trunks": on a trunk port an untagged packet belongs to VLAN 0, and a non-empty `trunks`
 *   drops every VLAN not listed). With no Vlan the port carries untagged traffic only — an empty
 *   `trunks` would mean "every VLAN", which the resources never asked for;
 * - the pair `<name>:br-<name>` for `ovn-bridge-mappings` (merged later, see ./mappings.ts).
 *
 * Problems (NIC absent on the node, name too long for a Linux interface) are reported per
 * resource and field; that provider network is skipped on this node.
 */
import type { ProviderNetwork, ResourceSet } from '../../resources/index.js';

/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1); the bridge's internal port is one. */
export const IFNAME_MAX = 15;
/** Prefix of provider bridges (as Kube-OVN names them). */
export const PROVIDER_BRIDGE_PREFIX = 'br-';
/** The integration bridge (ovn-controller(8) `external_ids:ovn-bridge`, default `br-int`). */
export const INTEGRATION_BRIDGE = 'br-int';

export interface DesiredUplink {
  /** NIC name = OVS Port and Interface name. */
  name: string;
  /** Sorted, without duplicates, always containing 0. */
  trunks: number[];
  /** Where the NIC name came from, e.g. `spec.defaultInterface` or `spec.customInterfaces[1].interface`. */
  field: string;
}

export interface DesiredProviderBridge {
  /** ProviderNetwork name = OVN physical network name (`network_name` of localnet ports). */
  network: string;
  /** `br-<network>`. */
  bridge: string;
  /** `ProviderNetwork/<name>`. */
  resource: string;
  datapathType: string;
  uplink: DesiredUplink;
  /**
   * MAC for the bridge's internal port (`other_config:hwaddr`, ovs-vswitchd.conf.db(5)): the
   * NIC's own, when the NIC's addresses move to the bridge, so neighbours' ARP caches stay valid.
   */
  hwaddr?: string;
}

export interface NodeOvsProblem {
  code:
    | 'NIC_NOT_FOUND'
    | 'NIC_IN_USE'
    | 'NAME_TOO_LONG'
    | 'BRIDGE_NOT_OWNED'
    | 'PORT_NOT_OWNED'
    | 'MAPPING_CONFLICT'
    | 'UPLINK_MOVE_FAILED';
  /** `Kind/name` of the resource concerned. */
  resource: string;
  /** Field path within the resource, e.g. `spec.defaultInterface`. */
  field: string;
  message: string;
}

export interface NodeOvsDesired {
  node: string;
  /** By bridge name. */
  bridges: Map<string, DesiredProviderBridge>;
  /** network → bridge, for `ovn-bridge-mappings`. */
  mappings: Map<string, string>;
  problems: NodeOvsProblem[];
}

export interface BuildNodeOvsOptions {
  /** This node's name (matched against `excludeNodes` and `customInterfaces[].nodes`). */
  node: string;
  /** `datapath_type` of the provider bridges (`netdev` for the userspace datapath, `` = system). */
  datapathType: string;
  /**
   * Names of the links present in the node's network namespace. When given, a provider network
   * whose NIC is absent is reported (`NIC_NOT_FOUND`) and skipped; when undefined, not checked.
   */
  links?: ReadonlySet<string>;
  /** NIC name → MAC; when given, each bridge takes its uplink's MAC (see `hwaddr`). */
  macs?: ReadonlyMap<string, string>;
}

/** `br-<name>`. */
export function providerBridgeName(network: string): string {
  return `${PROVIDER_BRIDGE_PREFIX}${network}`;
}

/** The uplink NIC of `pn` on `node` and the field it came from. */
export function uplinkOf(pn: ProviderNetwork, node: string): { name: string; field: string } {
  const i = pn.spec.customInterfaces.findIndex((c) => c.nodes.includes(node));
  const custom = i < 0 ? undefined : pn.spec.customInterfaces[i];
  return custom
    ? { name: custom.interface, field: `spec.customInterfaces[${i}].interface` }
    : { name: pn.spec.defaultInterface, field: 'spec.defaultInterface' };
}

/** 0 plus the ids of the Vlans whose provider is `network`, sorted and unique. */
export function trunksOf(resources: ResourceSet, network: string): number[] {
  const ids = new Set<number>([0]);
  for (const v of resources.vlans.values()) if (v.spec.provider === network) ids.add(v.spec.id);
  return [...ids].sort((a, b) => a - b);
}

/** Builds the desired state of `opts.node` (pure). */
export function buildNodeOvs(resources: ResourceSet, opts: BuildNodeOvsOptions): NodeOvsDesired {
  const out: NodeOvsDesired = { node: opts.node, bridges: new Map(), mappings: new Map(), problems: [] };
  const names = [...resources.providerNetworks.keys()].sort();
  for (const name of names) {
    const pn = resources.providerNetworks.get(name);
    if (!pn || pn.spec.excludeNodes.includes(opts.node)) continue;
    const resource = `ProviderNetwork/${name}`;
    const bridge = providerBridgeName(name);
    if (bridge.length > IFNAME_MAX) {
      out.problems.push({
        code: 'NAME_TOO_LONG',
        resource,
        field: 'metadata.name',
        message: `bridge name ${bridge} exceeds ${IFNAME_MAX} characters (name at most ${IFNAME_MAX - PROVIDER_BRIDGE_PREFIX.length})`,
      });
      continue;
    }
    const nic = uplinkOf(pn, opts.node);
    if (opts.links && !opts.links.has(nic.name)) {
      out.problems.push({
        code: 'NIC_NOT_FOUND',
        resource,
        field: nic.field,
        message: `interface ${nic.name} does not exist on node ${opts.node}; provider network skipped here`,
      });
      continue;
    }
    const used = [...out.bridges.values()].find((b) => b.uplink.name === nic.name);
    if (used) {
      out.problems.push({
        code: 'NIC_IN_USE',
        resource,
        field: nic.field,
        message: `interface ${nic.name} is already the uplink of ${used.resource} on node ${opts.node}`,
      });
      continue;
    }
    const hwaddr = opts.macs?.get(nic.name);
    out.bridges.set(bridge, {
      network: name,
      bridge,
      resource,
      datapathType: opts.datapathType,
      uplink: { name: nic.name, trunks: trunksOf(resources, name), field: nic.field },
      ...(hwaddr !== undefined ? { hwaddr } : {}),
    });
    out.mappings.set(name, bridge);
  }
  return out;
}
