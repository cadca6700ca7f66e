/**
 * `agent/node/ports` — workload (VM) ports on this node: names, request validation, this node's
 * LSPs and their address claims (./nb-ports.ts), the host state (./host.ts: veth pair, OVS port on
 * br-int), the SB binding wait, the {@link PortService} for requests (./service.ts) and the
 * reconciler that repairs them from Northbound (./reconciler.ts).
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
