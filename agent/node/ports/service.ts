/**
 * `PortService`: the CNI ADD/DEL path of a workload (VM) port on this node, served by this
 * node's agent whether or not it is the Northbound writer.
 *
 * add: request → NAD → provider → Subnet → IPAM (against every address Northbound holds) →
 * this node's LSP written to NB with its address claims (./nb-ports.ts; a claim lost to another
 * node means: allocate again) → host state (./host.ts: veth pair, OVS port on br-int) → ready
 * once the SB Port_Binding is on this chassis with `up` = true. A retried ADD gets the same
 * port back (the IPAM owner is per node, namespace and network).
 *
 * A failed add undoes every step it took, in reverse: OVS port, veth, LSP, IP.
 *
 * del: OVS port, veth pair, LSP and IP — idempotent (deleting what is gone is success).
 *
 * Requests for one namespace run one at a time, in order; different namespaces run side by
 * side. Ports being added or deleted are marked busy, so the repair pass (./reconciler.ts)
 * leaves them alone until the request is done.
 */
import { getLink, listLinks, netnsExists, rtnl } from '../../../netlink/index.js';
import { createTxnBatcher, type OvsdbClient } from '../../../ovsdb/index.js';
import type { Ipam } from '../../ipam/index.js';
import { IpamError, IpamUnknownSubnetError } from '../../ipam/index.js';
import type { Logger } from '../../log.js';
import { subnetByProvider, type ResourceSet, type Subnet } from '../../resources/types.js';
import { bindingState } from './binding.js';
import { badRequest, PortError } from './errors.js';
import { ensureHost, removeHost, type HostContext } from './host.js';
import { createPortWriter } from './port-writer.js';
import type { KeyedSerial } from './serial.js';
import {
  defaultPortName,
  formatNetwork,
  hostIfname,
  movablePortOwner,
  nextIfname,
  podPortName,
  portIpamOwner,
} from './names.js';
import {
  ClaimTakenError,
  nodePortsFromNb,
  planPortRemove,
  subnetDhcp,
  subnetSwitch,
  type NodePort,
} from './nb-ports.js';
import { subnetMtu } from './nb.js';
import { localPorts } from './ovs.js';
import { checkAttachment } from './check.js';
import { vmIpamOwner, vmKey, workloadIdentity, type PodInfo } from './identity.js';
import { reapVmPorts, retainedPort } from './vm-ports.js';
import { delNetnsKey, portsToDelete } from './del-match.js';
import type { ValidAddRequest, ValidCheckRequest, ValidDelRequest } from './request.js';
import { waitForCache } from './wait.js';

export interface PortServiceDeps {
  /** This node's Open_vSwitch (monitoring Bridge/Port/Interface). */
  ovs: OvsdbClient;
  /** Southbound, monitoring this chassis and its Port_Bindings (./binding.ts). */
  sb: OvsdbClient;
  /** The Northbound client (any agent's: writes only this node's rows). */
  nb: OvsdbClient;
  ipam: Ipam;
  /** The resources in effect (the latest snapshot's). */
  resources(): ResourceSet | undefined;
  /** Resolves once the first snapshot is in. */
  loaded: Promise<void>;
  /** Ports with a request in flight (the repair pass skips them). */
  busy: Set<string>;
  /** Serializes work on one namespace: requests and the repair pass never interleave there. */
  perNetns: KeyedSerial;
  /**
   * This node's pod `namespace/name`, when the agent watches pods (Kubernetes source): a KubeVirt
   * VM's port is keyed by the VM (./identity.ts). Undefined: ports are keyed by namespace.
   */
  pods?: (namespace: string, name: string) => Promise<PodInfo | undefined>;
  /** The VMs that exist (`namespace/name`) after a complete list; undefined while unknown. */
  vms?: () => ReadonlySet<string> | undefined;
  log?: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

export interface PortServiceConfig {
  /** OVN chassis name of this node (`external_ids:system-id`). */
  chassis: string;
  /** Node name (part of the IPAM owner). */
  node: string;
  /** Namespace of br-int's datapath and the host-side veths (undefined = the agent's own). */
  nodeNetns: string | undefined;
  /** Deployment owner id (the writer's rows). */
  owner: string;
  /** This node's owner id (its ports' rows). */
  nodeOwnerId: string;
  /** How long to wait for the SB binding to come up (504 after). */
  readyTimeoutMs: number;
  /** How long a Northbound write may take (a failing-over NB included). */
  nbTimeoutMs: number;
  overlayMtu: number;
  underlayMtu: number;
}

/** What `add` returns (and `list` lists). */
export interface PortResult {
  network: string;
  subnet: string;
  /** LSP name (`iface-id`). */
  name: string;
  netns: string;
  ifname: string;
  ip: string;
  prefix: number;
  mac: string;
  gateway: string;
  mtu: number;
  dhcp: boolean;
  /** Host-side veth = OVS port on br-int. */
  hostIfname: string;
  /** SB binding state on this chassis. */
  binding?: string;
  /** Milliseconds per phase of this add (allocate, nb, veth, ovs, bind, total). */
  timings?: Record<string, number>;
  /** The CNI attachment's container id, when a CNI plugin added the port. */
  containerId?: string;
  /** `<namespace>/<name>` of the pod the port was added for. */
  pod?: string;
  /** The port's namespace has the default route via the gateway. */
  defaultRoute?: boolean;
  /** `<namespace>/<name>` of the KubeVirt VM the port belongs to. */
  vm?: string;
  /** A VM's port kept (address, MAC, LSP) while the VM has no pod here. */
  retained?: boolean;
  /** Only an address, for another plugin's interface. */
  ipamOnly?: boolean;
}

export interface PortService {
  add(req: ValidAddRequest): Promise<PortResult>;
  del(req: ValidDelRequest): Promise<{ deleted: PortResult[] }>;
  list(): Promise<PortResult[]>;
  /** CNI CHECK of one attachment: its PortResult, or a PortError saying what is wrong. */
  check(req: ValidCheckRequest): Promise<PortResult>;
  /** Removes the retained ports of VMs that are gone for good (`vms` complete); their names. */
  reapVmPorts?(): Promise<string[]>;
}

/** How often an add allocates again after losing an address claim to another node. */
const MAX_CLAIMS = 8;

export function createPortService(deps: PortServiceDeps, config: PortServiceConfig): PortService {
  const perNetns = deps.perNetns;
  const host: HostContext = {
    ovs: deps.ovs,
    nodeNetns: config.nodeNetns,
    owner: config.owner,
    overlayMtu: config.overlayMtu,
    underlayMtu: config.underlayMtu,
    attach: createTxnBatcher(deps.ovs, { waitForCache: true }),
  };
  // This node's ports as Northbound holds them, read again only when the cache changed: a burst
  // of adds reads them once per add, and each read parses every port of the node.
  let mineAt = -1;
  let mineCache = new Map<string, NodePort>();
  const mine = () => {
    if (mineAt !== deps.nb.cache.seqno) {
      mineCache = nodePortsFromNb(deps.nb.cache, config.nodeOwnerId);
      mineAt = deps.nb.cache.seqno;
    }
    return mineCache;
  };
  // Removals of concurrent deletes (and failed adds) in one Northbound transaction: they touch
  // disjoint rows, and one switch update instead of hundreds keeps northd and the cluster calm.
  const nbRemove = createTxnBatcher(deps.nb, { waitForCache: true, timeoutMs: config.nbTimeoutMs });
  const removeLsp = (name: string) =>
    nbRemove.run((cache) => planPortRemove(cache, config.nodeOwnerId, name));
  const writer = createPortWriter(deps.nb, {
    owner: config.owner,
    nodeOwnerId: config.nodeOwnerId,
    timeoutMs: config.nbTimeoutMs,
  });

  function resolveNetwork(req: { network: ValidAddRequest['network'] }): Subnet {
    const resources = deps.resources();
    const key = formatNetwork(req.network);
    const nad = resources?.nads.get(key);
    if (!resources || !nad)
      throw new PortError(
        'NOT_FOUND',
        'ERR_PORT_NO_NETWORK',
        `network: no NetworkAttachmentDefinition ${key}`,
        {
          field: 'network',
        },
      );
    if (!nad.spec.kubeOvn || !nad.spec.provider) throw badRequest('network', `${key} is not a kube-ovn NAD`);
    const subnet = subnetByProvider(resources, nad.spec.provider);
    if (!subnet)
      throw new PortError(
        'NOT_FOUND',
        'ERR_PORT_NO_SUBNET',
        `network: no Subnet has provider ${nad.spec.provider} (NAD ${key})`,
        { field: 'network' },
      );
    return subnet;
  }

  function toResult(p: NodePort): PortResult {
    const subnet = deps.resources()?.subnets.get(p.subnet);
    return {
      network: p.network,
      subnet: p.subnet,
      name: p.name,
      netns: p.netns,
      ifname: p.ifname,
      ip: p.ip,
      prefix: subnet?.spec.cidr.prefix ?? 0,
      mac: p.mac,
      gateway: subnet?.spec.gateway ?? '',
      mtu: subnet ? subnetMtu(subnet, config) : 0,
      dhcp: p.dhcp,
      hostIfname: hostIfname(p.name),
      binding: bindingState(deps.sb.cache, config.chassis, p.name),
      ...(p.containerId ? { containerId: p.containerId } : {}),
      ...(p.pod ? { pod: p.pod } : {}),
      defaultRoute: p.defaultRoute,
      ...(p.vm ? { vm: p.vm } : {}),
      ...(p.retained ? { retained: true } : {}),
      ...(p.ipamOnly ? { ipamOnly: true } : {}),
    };
  }

  /** The ifname this request gets: asked for, recorded before, the peer of our host end, or the next free. */
  async function chooseIfname(req: ValidAddRequest, hostName: string, others: NodePort[], recorded?: string) {
    if (req.ifname) {
      if (others.some((o) => o.ifname === req.ifname))
        throw new PortError(
          'CONFLICT',
          'ERR_PORT_IFNAME_IN_USE',
          `ifname: ${req.ifname} is another port's in ${req.netns}`,
          {
            field: 'ifname',
          },
        );
      return req.ifname;
    }
    if (recorded) return recorded;
    const hostLink = await getLink(rtnl(config.nodeNetns), hostName);
    const links = await listLinks(rtnl(req.netns));
    const peer = hostLink && links.find((l) => l.kind === 'veth' && l.linkIndex === hostLink.index);
    if (peer) return peer.name;
    return nextIfname(new Set([...links.map((l) => l.name), ...others.map((o) => o.ifname)]));
  }

  function allocate(subnet: Subnet, owner: string, req: ValidAddRequest) {
    try {
      return deps.ipam.allocate(subnet.meta.name, owner, {
        ...(req.ip ? { ip: req.ip } : {}),
        ...(req.mac ? { mac: req.mac } : {}),
      });
    } catch (err) {
      if (err instanceof IpamUnknownSubnetError)
        throw new PortError('NOT_FOUND', err.code, err.message, { cause: err });
      if (err instanceof IpamError) {
        const field = (err as { reason?: string }).reason?.startsWith('mac') ? 'mac' : 'ip';
        throw new PortError('CONFLICT', err.code, `${field}: ${err.message}`, { field, cause: err });
      }
      throw err;
    }
  }

  /**
   * Waits (bounded) until the writer's switch of `subnet` — and its DHCP options, when the
   * subnet hands out DHCP — is in Northbound: a VM is often started right after its Subnet.
   */
  async function switchReady(subnet: Subnet): Promise<void> {
    const name = subnet.meta.name;
    const ready = () => {
      if (!subnetSwitch(deps.nb.cache, config.owner, name)) return undefined;
      return !subnet.spec.enableDHCP || subnetDhcp(deps.nb.cache, config.owner, name) ? true : undefined;
    };
    if (ready()) return;
    await waitForCache(deps.nb.cache, ready, config.nbTimeoutMs, () =>
      subnetSwitch(deps.nb.cache, config.owner, name)
        ? new Error('DHCP options not there yet') // the LSP is written without; the repair pass adds them
        : new PortError(
            'TIMEOUT',
            'ERR_PORT_NO_SWITCH',
            `subnet ${name}: its logical switch did not appear in Northbound within ${config.nbTimeoutMs} ms (is a Northbound writer running?)`,
          ),
    ).catch((err: unknown) => {
      if (err instanceof PortError) throw err;
    });
  }

  /** Writes the LSP of `port`, allocating again when another node won the address. */
  async function writeLsp(subnet: Subnet, req: ValidAddRequest, port: NodePort): Promise<NodePort> {
    const v4 = subnet.spec.cidr.family === 4;
    await switchReady(subnet);
    for (let attempt = 1; ; attempt++) {
      try {
        await writer.write(port, { v4, staticMac: req.mac !== undefined });
        return port;
      } catch (err) {
        if (!(err instanceof ClaimTakenError)) throw err;
        const fixed = err.what === 'ip' ? req.ip : req.mac;
        if (fixed !== undefined || attempt >= MAX_CLAIMS) throw err;
        deps.log?.debug(
          { port: port.name, err: err.message },
          'address claimed by another node; allocating again',
        );
        deps.ipam.release(port.owner, port.subnet);
        const next = allocate(subnet, port.owner, req);
        port = { ...port, ip: next.ip, mac: next.mac };
      }
    }
  }

  async function add(req: ValidAddRequest): Promise<PortResult> {
    const t0 = performance.now();
    const timings: Record<string, number> = {};
    let mark = t0;
    const lap = (k: string) => {
      const now = performance.now();
      timings[k] = Math.round((now - mark) * 10) / 10;
      mark = now;
    };
    await deps.loaded;
    const subnet = resolveNetwork(req);
    if (!netnsExists(req.netns)) throw badRequest('netns', `no network namespace ${req.netns}`);
    if (req.dhcp && !subnet.spec.enableDHCP)
      throw badRequest('dhcp', `subnet ${subnet.meta.name} has enableDHCP: false`);
    const network = formatNetwork(req.network);
    if (req.movable !== undefined && req.name === undefined)
      throw badRequest('name', 'required for a movable port');
    const provider = subnet.spec.provider;
    const wl =
      req.pod && deps.pods
        ? workloadIdentity(await deps.pods(req.pod.namespace, req.pod.name), provider)
        : {};
    // Requested by the caller, else by the pod's annotations.
    req = {
      ...req,
      ...(wl.ip && !req.ip ? { ip: wl.ip } : {}),
      ...(wl.mac && !req.mac ? { mac: wl.mac } : {}),
    };
    const owner =
      req.movable !== undefined
        ? movablePortOwner(req.movable)
        : wl.vm
          ? vmIpamOwner(wl.vm, network)
          : portIpamOwner(config.node, req.netns, network);
    const ports = [...mine().values()];
    const existing = ports.find((p) => p.owner === owner);
    if (existing && !existing.retained && existing.netns !== req.netns)
      throw new PortError(
        'CONFLICT',
        'ERR_PORT_VM_IN_USE',
        `VM ${existing.vm ?? ''}: its port ${existing.name} is in use in ${existing.netns} (DEL that attachment first)`,
      );
    const name =
      req.name ??
      existing?.name ??
      (wl.vm
        ? podPortName(wl.vm.name, wl.vm.namespace, provider)
        : req.pod
          ? podPortName(req.pod.name, req.pod.namespace, subnet.spec.provider)
          : defaultPortName(
              req.netns.startsWith('/') ? hostIfname(req.netns) : req.netns,
              req.network,
              subnet.spec.provider,
            ));
    if (existing && existing.name !== name)
      throw new PortError(
        'CONFLICT',
        'ERR_PORT_EXISTS',
        `name: ${req.netns} already has port ${existing.name} on ${network}`,
        {
          field: 'name',
        },
      );
    if (deps.busy.has(name))
      throw new PortError('CONFLICT', 'ERR_PORT_BUSY', `name: port ${name} has a request in progress`, {
        field: 'name',
      });
    deps.busy.add(name);
    const undo: (() => Promise<unknown>)[] = [];
    try {
      const others = ports.filter((p) => p.netns === req.netns && p.name !== name);
      const ifname = req.ipamOnly
        ? (req.ifname ?? existing?.ifname ?? 'eth0')
        : await chooseIfname(req, hostIfname(name), others, existing?.ifname);
      // "dhcp" on the port: the host side configures no address (the guest's client or, for an
      // unaddressed port, its owner does).
      const dhcp = req.unaddressed === true || (req.dhcp ?? existing?.dhcp ?? false);
      // A movable port's LSP another node had: taken over with its address, which stays held
      // (by the LSP) even if this add fails.
      const takenOver =
        !existing &&
        req.movable !== undefined &&
        deps.nb.cache.lookup('Logical_Switch_Port', 'name', name).length > 0;
      const alloc = allocate(subnet, owner, req);
      if (!existing && !takenOver) undo.push(async () => deps.ipam.release(owner, subnet.meta.name));
      lap('allocate');
      let port: NodePort = {
        name,
        subnet: subnet.meta.name,
        ip: alloc.ip,
        mac: alloc.mac,
        owner,
        chassis: config.chassis,
        node: config.node,
        netns: req.netns,
        network,
        ifname,
        dhcp,
        defaultRoute: !dhcp && (req.defaultRoute ?? existing?.defaultRoute ?? others.length === 0),
        ...((req.routed ?? existing?.routed) ? { routed: true } : {}),
        ...(req.movable !== undefined ? { movable: true } : {}),
        ...(req.containerId ? { containerId: req.containerId } : {}),
        ...(req.pod ? { pod: `${req.pod.namespace}/${req.pod.name}` } : {}),
        ...(wl.vm ? { vm: vmKey(wl.vm) } : {}),
        ...(req.ipamOnly ? { ipamOnly: true } : {}),
      };
      port = await writeLsp(subnet, req, port);
      if (!existing && !takenOver) undo.push(() => removeLsp(name));
      lap('nb');
      if (port.ipamOnly) {
        // The delegating plugin makes the interface: the reservation is all there is.
        timings['total'] = Math.round((performance.now() - t0) * 10) / 10;
        deps.log?.info(
          { port: name, netns: req.netns, ip: port.ip, timings },
          'address reserved (IPAM only)',
        );
        return { ...toResult(port), timings };
      }
      undo.push(() => removeHost(host, name, req.netns));
      await ensureHost(host, port, subnet, lap);
      await waitForCache(
        deps.sb.cache,
        () => (bindingState(deps.sb.cache, config.chassis, name) === 'up' ? true : undefined),
        config.readyTimeoutMs,
        () => notReady(name, hostIfname(name)),
      );
      lap('bind');
      timings['total'] = Math.round((performance.now() - t0) * 10) / 10;
      deps.log?.info({ port: name, netns: req.netns, ifname, ip: port.ip, timings }, 'port ready');
      return { ...toResult(port), timings };
    } catch (err) {
      // Undo in reverse; a retried ADD of an existing port keeps its LSP and address.
      for (const step of undo.reverse()) {
        await step().catch((e: unknown) =>
          deps.log?.warn({ err: e, port: name }, 'undo of a failed port add failed'),
        );
      }
      throw err;
    } finally {
      deps.busy.delete(name);
    }
  }

  function notReady(name: string, hostName: string): PortError {
    const state = bindingState(deps.sb.cache, config.chassis, name);
    const iface = localPorts(deps.ovs.cache, config.owner).find((l) => l.host === hostName);
    const why =
      state === 'no-chassis'
        ? `chassis ${config.chassis} is not registered in the Southbound (is ovn-controller running?)`
        : state === 'unbound'
          ? `the Port_Binding is not on chassis ${config.chassis}`
          : 'the Port_Binding is not up yet';
    const ovsErr = iface?.error ? `; OVS interface ${hostName}: ${iface.error}` : '';
    return new PortError(
      'TIMEOUT',
      'ERR_PORT_NOT_READY',
      `port ${name} not ready within ${config.readyTimeoutMs} ms: ${why}${ovsErr}`,
    );
  }

  async function del(req: ValidDelRequest): Promise<{ deleted: PortResult[] }> {
    await deps.loaded;
    const { nbPorts, local } = portsToDelete(mine(), localPorts(deps.ovs.cache, config.owner), req);
    const deleted: PortResult[] = [];
    const names = new Set([...nbPorts.map((p) => p.name), ...local.map((l) => l.lsp)]);
    for (const name of names) {
      deps.busy.add(name);
      try {
        const p = nbPorts.find((x) => x.name === name);
        await removeHost(host, name, req.netns ?? p?.netns);
        const subnet = p && deps.resources()?.subnets.get(p.subnet);
        const vmGone = p?.vm !== undefined && deps.vms?.()?.has(p.vm) === false;
        if (p?.vm && subnet && !vmGone) {
          // A VM's port outlives its pod: the address, MAC and LSP wait for the VM's next pod.
          if (!p.retained)
            await writer.write(retainedPort(p), { v4: subnet.spec.cidr.family === 4, staticMac: false });
          // The retained LSP holds the address now (IPAM follows Northbound); when another node
          // takes the port over or it is reaped, nothing of it stays reserved here.
          deps.ipam.release(p.owner, p.subnet);
          deleted.push({ ...toResult(p), retained: true });
          continue;
        }
        await removeLsp(name);
        if (p) {
          deleted.push(toResult(p));
          deps.ipam.release(p.owner, p.subnet);
        }
      } finally {
        deps.busy.delete(name);
      }
    }
    deps.log?.info({ netns: req.netns, deleted: deleted.map((d) => d.name) }, 'ports deleted');
    return { deleted };
  }

  async function list(): Promise<PortResult[]> {
    await deps.loaded;
    return [...mine().values()].sort((a, b) => a.name.localeCompare(b.name)).map(toResult);
  }

  return {
    add: (req) => perNetns(req.netns, () => add(req)),
    // A DEL without its namespace (gone, or not passed) queues behind the port's recorded one.
    del: (req) => perNetns(delNetnsKey(mine(), req), () => del(req)),
    list: () => list(),
    reapVmPorts: () =>
      reapVmPorts(
        {
          nb: deps.nb,
          ipam: deps.ipam,
          busy: deps.busy,
          perNetns,
          mine,
          ...(deps.log ? { log: deps.log } : {}),
        },
        { nodeOwnerId: config.nodeOwnerId, nbTimeoutMs: config.nbTimeoutMs },
        deps.vms?.(),
      ),
    check: (req) =>
      perNetns(req.netns, async () => {
        await deps.loaded;
        return toResult(
          await checkAttachment(
            { ovs: deps.ovs, sb: deps.sb, ports: mine(), nodeNetns: config.nodeNetns },
            { chassis: config.chassis, owner: config.owner },
            req,
          ),
        );
      }),
  };
}
