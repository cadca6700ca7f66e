/**
 * NAT gateways on this node: a network namespace per VpcNatGateway with its LAN leg (net1), its
 * external leg (net2) holding the EIPs, and one nftables table for SNAT/DNAT/FIP. See docs/nat.md.
 */
export {
  createNatReconciler,
  statusOf as natStatusOf,
  type NatObjectStatus,
  type NatPlan,
  type NatReconciler,
  type NatReconcilerConfig,
  type NatResult,
} from './reconciler.js';
export { createMacvlanWan, garp, removeGateway, type NatAttachments } from './apply.js';
export {
  buildGateway,
  buildNatDesired,
  LAN_IFNAME,
  NAT_NETNS_PREFIX,
  parseSelector,
  selectsNode,
  WAN_IFNAME,
  type EipDesired,
  type GatewayDesired,
  type NatDesired,
  type NatDesiredOptions,
  type NatKind,
  type NatNode,
  type NatProblem,
  type RuleDesired,
} from './desired.js';
export { buildRuleset, NAT_TABLE, type NatRules, type RulesetScript } from './ruleset.js';
export { conntrackVictims } from './conntrack-policy.js';
export { markerOf, ownedNamespaces } from './observe.js';
export { ensureHairpin, hairpinDesired, shimName, SHIM_PREFIX } from './hairpin.js';
