/**
 * `agent/node/ports` — workload (VM) ports on this node: names, request validation, the OVS
 * port on br-int, the veth pair, the SB binding wait and the {@link PortService} tying them to
 * IPAM and the NB desired state (the contract is in ./service.ts).
 */
export * from './binding.js';
export * from './errors.js';
export * from './names.js';
export * from './nb.js';
export * from './ovs.js';
export * from './request.js';
export * from './service.js';
export * from './veth.js';
export * from './wait.js';
