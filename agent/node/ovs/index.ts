/**
 * `agent/node/ovs` — this node's Open_vSwitch database: provider bridges `br-<network>` with their
 * uplink NIC as a VLAN trunk, the agent's pairs merged into `ovn-bridge-mappings`, and optionally
 * br-int. Pure desired builder + pure plan + a reconciler over `OvsdbClient.run`.
 */
export * from './datapath.js';
export * from './desired.js';
export * from './mappings.js';
export {
  integrationDatapathType,
  planNodeOvs,
  resolveDatapathType,
  rootRow,
  bridgeByName,
  type NodeOvsPlan,
  type PlanOptions,
} from './plan.js';
export * from './reconciler.js';
export * from './errors.js';
export * from './uplink.js';
