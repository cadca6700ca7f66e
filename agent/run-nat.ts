/**
 * The NAT half of the node work (docs/nat.md): which VPC NAT gateways this node runs, and the
 * NAT reconciler that builds them, in its reconcile loop.
 *
 * - Placement: this node is a candidate for every gateway whose selector matches its name and
 *   labels; of the candidates, the holder of the gateway's Northbound lock runs it
 *   (agent/nat/placement.ts). Winning or losing one rebuilds the desired state at once.
 * - EIP addresses come from the Northbound writer's records (agent/nb/eips.ts): a change there
 *   (an address allocated, an EIP gone) rebuilds the desired state too.
 * - net1 is a workload port like a VM's, added through this node's {@link PortService} with
 *   `lanIp` (an LSP of this node, repaired and restored like any port); removing the gateway
 *   deletes it.
 */
import type { OvsdbClient } from '../ovsdb/index.js';
import type { Logger } from './log.js';
import type { AgentMetrics } from './metrics/index.js';
import { createNatMetrics } from './metrics/nat.js';
import {
  createMacvlanWan,
  createNatReconciler,
  LAN_IFNAME,
  NAT_NETNS_PREFIX,
  WAN_IFNAME,
  selectsNode,
  type GatewayDesired,
  type NatObjectStatus,
  type NatReconciler,
} from './nat/index.js';
import { createGatewayPlacement } from './nat/placement.js';
import { eipAddressesFromNb } from './nb/eips.js';
import type { PortService } from './node/ports/index.js';
import { parseNetwork } from './node/ports/names.js';
import type { Snapshot } from './pipeline/snapshot.js';
import { createReconcileLoop } from './reconcile/reconciler.js';
import type { RunnerHealth } from './reconcile/runner.js';
import { parseProvider } from './resources/index.js';

export interface NatWorkDeps {
  log: Logger;
  metrics?: AgentMetrics | undefined;
  nb: OvsdbClient;
  ports: PortService;
}

export interface NatWorkConfig {
  node: string;
  labels: Readonly<Record<string, string>>;
  owner: string;
  /** Namespace of the node's NICs (the external networks' `master`); undefined = the agent's own. */
  netns: string | undefined;
  /** Prefix of the gateways' namespace names (default `vpc-nat-gw-`). */
  netnsPrefix?: string;
  /** Periodic pass (rules flushed or addresses removed inside a namespace have no event). */
  resyncMs: number;
}

export interface NatWork {
  schedule(snapshot: Snapshot): void;
  settled(): Promise<void>;
  health(): RunnerHealth;
  status(): ReadonlyMap<string, NatObjectStatus>;
  /** The gateways this node runs now. */
  running(): string[];
  /**
   * This node's labels changed (its Node object): candidacy for every gateway is decided again.
   * The implied `kubernetes.io/hostname` and `kubernetes.io/os` stay unless `labels` says otherwise.
   */
  setLabels(labels: Readonly<Record<string, string>>): void;
  close(): Promise<void>;
}

/**
 * The network (`<namespace>/<nad>`) a gateway leg attaches through: the NAD of `subnet`'s provider
 * (`<nad>.<namespace>.ovn`).
 */
function networkOf(gw: GatewayDesired, subnetName: string, leg: string, snapshot: Snapshot | undefined) {
  const subnet = snapshot?.resources.subnets.get(subnetName);
  const p = subnet ? parseProvider(subnet.spec.provider) : undefined;
  if (!p)
    throw new Error(
      `VpcNatGateway ${gw.name}: subnet ${subnetName} has no NetworkAttachmentDefinition provider (<nad>.<namespace>.ovn) to attach ${leg} through`,
    );
  return parseNetwork(`${p.namespace}/${p.nad}`)!;
}

/** The LSPs of a gateway's legs, the same on every node that runs it. */
export const gatewayLanPortName = (gateway: string): string => `${NAT_NETNS_PREFIX}${gateway}.lan`;
export const gatewayWanPortName = (gateway: string): string => `${NAT_NETNS_PREFIX}${gateway}.wan`;

export function startNatWork(deps: NatWorkDeps, config: NatWorkConfig): NatWork {
  const { log, nb, ports } = deps;
  const node = { name: config.node, labels: { ...config.labels } };
  let latest: Snapshot | undefined;
  const placement = createGatewayPlacement({ client: nb, log: log.child({ module: 'nat-placement' }) });
  const macvlanWan = createMacvlanWan(config.netns === undefined ? {} : { hostNetns: config.netns });
  const reconciler: NatReconciler = createNatReconciler(
    {
      attachLan: async (gw) => {
        const r = await ports.add({
          network: networkOf(gw, gw.lan.subnet, LAN_IFNAME, latest),
          netns: gw.netns,
          ifname: LAN_IFNAME,
          ip: gw.lan.ip,
          defaultRoute: false,
          // It forwards the VMs' traffic: port security on its MAC only.
          routed: true,
          // The gateway's port, not this node's: the node that runs the gateway next takes the
          // LSP over with lanIp, even when this node is gone without deleting it.
          movable: `natgw/${gw.name}`,
          name: gatewayLanPortName(gw.name),
        });
        return { ifname: r.ifname };
      },
      detachLan: async (gw) => {
        await ports.del({ netns: gw.netns });
      },
      // net2: a macvlan of the external network's NIC (in the node's namespace), or, for an
      // external subnet on a ProviderNetwork/Vlan (no NIC named), a port on its logical switch,
      // which leaves through the localnet port and the provider bridge.
      attachWan: async (gw) => {
        if (gw.external.master) return macvlanWan(gw);
        const r = await ports.add({
          network: networkOf(gw, gw.external.subnet, WAN_IFNAME, latest),
          netns: gw.netns,
          ifname: WAN_IFNAME,
          mac: gw.wanMac,
          defaultRoute: false,
          // It holds the EIPs (configured by the NAT reconciler), not an address of its own.
          unaddressed: true,
          routed: true,
          movable: `natgw/${gw.name}/wan`,
          name: gatewayWanPortName(gw.name),
        });
        return { ifname: r.ifname };
      },
    },
    {
      node,
      owner: config.owner,
      ...(config.netnsPrefix !== undefined ? { netnsPrefix: config.netnsPrefix } : {}),
      hairpin: config.netns === undefined ? {} : { hostNetns: config.netns },
      runs: (gw) => placement.runs(gw),
      eipAddresses: () => eipAddressesFromNb(nb.cache, config.owner),
    },
  );
  const loop = createReconcileLoop(reconciler, {
    enabled: () => nb.isOnline,
    runner: {
      log,
      resyncMs: config.resyncMs,
      ...(deps.metrics ? { observer: deps.metrics.reconcilers } : {}),
    },
    onResult: (r) => {
      for (const [gw, done] of r.done)
        if (done.length > 0) log.info({ gateway: gw, done }, 'NAT gateway reconciled');
      if (r.removed.length > 0) log.info({ removed: r.removed }, 'NAT gateways removed');
    },
  });
  /** The latest snapshot again: the desired state depends on placement and EIP records too. */
  const rebuild = () => {
    if (latest) loop.set(latest, { complete: latest.complete });
  };
  const offPlacement = placement.onChange((gw, runs) => {
    log.info({ gateway: gw }, runs ? 'this node runs NAT gateway' : 'this node no longer runs NAT gateway');
    rebuild();
  });
  const offRecords = nb.cache.onChange((batch) => {
    if (batch.changes.some((c) => c.table === 'Address_Set')) rebuild();
  });
  loop.start();
  /** The per-object status of the last pass (the NAT reconciler's own, with Kube-OVN's fields). */
  const natStatus = () => reconciler.status() as ReadonlyMap<string, NatObjectStatus>;
  if (deps.metrics)
    createNatMetrics({
      registry: deps.metrics.registry,
      log,
      view: {
        // What the last pass built: the gateways this node runs, with their namespaces.
        running: () =>
          [...natStatus()]
            .filter(([id]) => id.startsWith('VpcNatGateway/'))
            .map(([id, st]) => ({
              name: id.slice('VpcNatGateway/'.length),
              netns: String(st.fields['netns']),
            })),
        eipStates: () => {
          const out: Record<string, number> = {};
          for (const [id, st] of natStatus())
            if (id.startsWith('IptablesEIP/')) out[st.state] = (out[st.state] ?? 0) + 1;
          return out;
        },
      },
    });

  const work: NatWork = {
    schedule(snapshot) {
      latest = snapshot;
      const candidates = [...snapshot.resources.natGateways.values()]
        .filter((g) => selectsNode(g.spec.selector, node))
        .map((g) => g.meta.name);
      // An incomplete load stands for nothing it does not show: give nothing up then.
      const keep = snapshot.complete ? [] : placement.running();
      placement
        .want([...candidates, ...keep])
        .catch((err: unknown) => log.warn({ err }, 'NAT placement failed'));
      loop.set(snapshot, { complete: snapshot.complete });
    },
    settled: () => loop.settled(),
    health: () => loop.health(),
    status: natStatus,
    running: () => placement.running(),
    setLabels(labels) {
      const next = { ...config.labels, ...labels };
      if (JSON.stringify(next) === JSON.stringify(node.labels)) return;
      node.labels = next;
      log.info({ labels: next }, 'node labels changed: NAT gateway candidacy decided again');
      if (latest) work.schedule(latest);
    },
    async close() {
      offPlacement();
      offRecords();
      await loop.stop();
      await placement.close();
    },
  };
  return work;
}
