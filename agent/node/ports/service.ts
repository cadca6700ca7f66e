/**
 * `PortService`: the CNI ADD/DEL path of a workload (VM) port on this node.
 *
 * add: request → NAD → provider → Subnet → IPAM (owner per namespace+network, so a retried ADD
 * gets the same address) → the LSP in the agent's desired NB state, reconciled and seen in the
 * NB cache → veth pair (host end in the node namespace, peer configured in the target
 * namespace) → OVS port on br-int with `iface-id` → ready once the SB Port_Binding is on this
 * chassis with `up` = true.
 *
 * del: OVS port, veth pair, IP and LSP — idempotent (deleting what is gone is success).
 *
 * Single writer: in this release the agent serving a port must hold the NB writer lock (it
 * writes the LSP itself); otherwise the request fails with 503 `ERR_PORT_NOT_WRITER`. Requests
 * run one at a time (a queue), which keeps IPAM, the ports list and interface naming simple.
 */
import { getLink, listLinks, netnsExists, rtnl } from '../../../netlink/index.js';
import type { DatabaseCache, OvsdbClient } from '../../../ovsdb/index.js';
import type { Ipam } from '../../ipam/index.js';
import { IpamError, IpamUnknownSubnetError } from '../../ipam/index.js';
import type { Logger } from '../../log.js';
import type { PortAllocation } from '../../nb/build/index.js';
import { subnetByProvider, type ResourceSet, type Subnet } from '../../resources/types.js';
import { bindingState } from './binding.js';
import { badRequest, PortError } from './errors.js';
import {
  defaultPortName,
  formatNetwork,
  hostIfname,
  nextIfname,
  parsePortOwner,
  portOwner,
} from './names.js';
import { subnetMtu } from './nb.js';
import { localPorts, planAttach, planDetach, type LocalPortRecord } from './ovs.js';
import type { ValidAddRequest, ValidDelRequest } from './request.js';
import { plugVeth, unplugVeth } from './veth.js';
import { waitForCache } from './wait.js';

export interface PortServiceDeps {
  /** This node's Open_vSwitch (monitoring Bridge/Port/Interface). */
  ovs: OvsdbClient;
  /** Southbound, monitoring this chassis and its Port_Bindings (./binding.ts). */
  sb: OvsdbClient;
  /** The NB monitor cache (the agent's writer client). */
  nbCache: DatabaseCache;
  ipam: Ipam;
  /** The agent's workload ports by LSP name — part of its desired NB state. */
  ports: Map<string, PortAllocation>;
  resources(): ResourceSet | undefined;
  /** Resolves once resources are loaded and IPAM/ports were rebuilt from NB. */
  loaded: Promise<void>;
  isWriter(): boolean;
  /** Rebuilds the desired NB state from resources + ports and waits until a pass applied it. */
  publish(): Promise<void>;
  log?: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

export interface PortServiceConfig {
  /** OVN chassis name of this node (`external_ids:system-id`). */
  chassis: string;
  /** Namespace of br-int's datapath and the host-side veths (undefined = the agent's own). */
  nodeNetns: string | undefined;
  owner: string;
  /** How long to wait for the SB binding to come up (504 after). */
  readyTimeoutMs: number;
  /** How long to wait for the LSP to show in (or leave) NB (504 after). */
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
}

export interface PortService {
  add(req: ValidAddRequest): Promise<PortResult>;
  del(req: ValidDelRequest): Promise<{ deleted: PortResult[] }>;
  list(): Promise<PortResult[]>;
}

const samePort = (a: PortAllocation, b: PortAllocation) =>
  a.subnet === b.subnet &&
  a.ip === b.ip &&
  a.mac === b.mac &&
  a.owner === b.owner &&
  a.resource === b.resource &&
  a.chassis === b.chassis;

const NOT_WRITER =
  'this agent is not the Northbound writer: in this release ports are served only by the agent ' +
  'holding the NB writer lock (forwarding from other nodes comes later)';

/**
 * Runs `fn` once every earlier call with the same key has settled; other keys do not wait.
 * A promise chain per key is all this needs, so no mutex package is pulled in for it.
 */
function keyedSerial(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (key, fn) => {
    const next = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return next;
  };
}

export function createPortService(deps: PortServiceDeps, config: PortServiceConfig): PortService {
  const perNetns = keyedSerial();

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

  function toResult(
    p: PortAllocation,
    rec: Pick<LocalPortRecord, 'netns' | 'ifname' | 'dhcp' | 'network'>,
  ): PortResult {
    const subnet = deps.resources()?.subnets.get(p.subnet);
    return {
      network: rec.network,
      subnet: p.subnet,
      name: p.name,
      netns: rec.netns,
      ifname: rec.ifname,
      ip: p.ip,
      prefix: subnet?.spec.cidr.prefix ?? 0,
      mac: p.mac,
      gateway: subnet?.spec.gateway ?? '',
      mtu: subnet ? subnetMtu(subnet, config) : 0,
      dhcp: rec.dhcp,
      hostIfname: hostIfname(p.name),
      binding: bindingState(deps.sb.cache, config.chassis, p.name),
    };
  }

  /** The ifname this request gets: asked for, recorded before, the peer of our host end, or the next free. */
  async function chooseIfname(
    req: ValidAddRequest,
    host: string,
    others: LocalPortRecord[],
    recorded?: string,
  ) {
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
    const hostLink = await getLink(rtnl(config.nodeNetns), host);
    const links = await listLinks(rtnl(req.netns));
    const mine = hostLink && links.find((l) => l.kind === 'veth' && l.linkIndex === hostLink.index);
    if (mine) return mine.name;
    return nextIfname(new Set([...links.map((l) => l.name), ...others.map((o) => o.ifname)]));
  }

  /** True when NB has LSP `name` with `addresses[0]` = `want` (undefined: has no such LSP). */
  function lspHas(name: string, want: string | undefined): boolean {
    const row = deps.nbCache.lookup('Logical_Switch_Port', 'name', name)[0];
    const addr = (row?.['addresses'] as string[] | undefined)?.[0];
    return want === undefined ? row === undefined : addr === want;
  }

  async function waitNb(name: string, want: string | undefined): Promise<void> {
    const check = () => (lspHas(name, want) ? true : undefined);
    await waitForCache(
      deps.nbCache,
      check,
      config.nbTimeoutMs,
      () =>
        new PortError(
          'TIMEOUT',
          'ERR_PORT_NB_TIMEOUT',
          `logical switch port ${name} did not ${want ? 'appear in' : 'leave'} Northbound within ${config.nbTimeoutMs} ms`,
        ),
    );
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
    if (!deps.isWriter()) throw new PortError('UNAVAILABLE', 'ERR_PORT_NOT_WRITER', NOT_WRITER);
    const subnet = resolveNetwork(req);
    if (!netnsExists(req.netns)) throw badRequest('netns', `no network namespace ${req.netns} (/run/netns)`);
    if (req.dhcp && !subnet.spec.enableDHCP)
      throw badRequest('dhcp', `subnet ${subnet.meta.name} has enableDHCP: false`);
    const network = formatNetwork(req.network);
    const owner = portOwner(req.netns, req.network);
    const existing = [...deps.ports.values()].find((p) => p.owner === owner);
    const name = req.name ?? existing?.name ?? defaultPortName(req.netns, req.network, subnet.spec.provider);
    if (existing && existing.name !== name)
      throw new PortError(
        'CONFLICT',
        'ERR_PORT_EXISTS',
        `name: ${req.netns} already has port ${existing.name} on ${network}`,
        {
          field: 'name',
        },
      );
    const host = hostIfname(name);
    const local = localPorts(deps.ovs.cache, config.owner).filter((l) => l.netns === req.netns);
    const recorded = local.find((l) => l.lsp === name);
    const others = local.filter((l) => l.lsp !== name);
    const ifname = await chooseIfname(req, host, others, recorded?.ifname);
    const dhcp = req.dhcp ?? recorded?.dhcp ?? false;
    // Checked after the awaits above, synchronously with taking the name below: a request for
    // another namespace may have taken it meanwhile.
    const taken = deps.ports.get(name);
    if (taken && taken.owner !== owner)
      throw new PortError(
        'CONFLICT',
        'ERR_PORT_NAME_TAKEN',
        `name: logical port ${name} belongs to ${taken.owner}`,
        { field: 'name' },
      );

    let alloc;
    try {
      alloc = deps.ipam.allocate(subnet.meta.name, owner, {
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
    lap('allocate');
    const port: PortAllocation = {
      subnet: subnet.meta.name,
      name,
      ip: alloc.ip,
      mac: alloc.mac,
      owner,
      resource: `Port/${name}`,
      chassis: config.chassis,
    };
    const fresh = !existing;
    const unchanged =
      existing !== undefined && samePort(existing, port) && lspHas(name, `${port.mac} ${port.ip}`);
    deps.ports.set(name, port);
    try {
      // A retried ADD whose LSP is already in NB as wanted needs no pass.
      if (!unchanged) await deps.publish();
      await waitNb(name, `${port.mac} ${port.ip}`);
    } catch (err) {
      if (fresh) {
        deps.ports.delete(name);
        deps.ipam.release(owner, subnet.meta.name);
        await deps.publish().catch(() => undefined);
      }
      throw err;
    }
    lap('nb');

    const mtu = subnetMtu(subnet, config);
    const defaultRoute = !dhcp && (req.defaultRoute ?? others.length === 0);
    const { created } = await plugVeth({
      nodeNetns: config.nodeNetns,
      host,
      netns: req.netns,
      ifname,
      mac: port.mac,
      mtu,
      address: dhcp ? undefined : `${port.ip}/${subnet.spec.cidr.prefix}`,
      defaultVia: defaultRoute ? subnet.spec.gateway : undefined,
    });
    lap('veth');
    const spec = {
      name: host,
      lsp: name,
      mac: port.mac,
      netns: req.netns,
      network,
      ifname,
      dhcp,
      owner: config.owner,
    };
    // vswitchd does not reopen a re-created device under an existing port name: remove it first.
    if (created) await deps.ovs.run((cache) => planDetach(cache, host), { waitForCache: true });
    await deps.ovs.run((cache) => planAttach(cache, spec), { waitForCache: true });
    lap('ovs');
    await waitForCache(
      deps.sb.cache,
      () => (bindingState(deps.sb.cache, config.chassis, name) === 'up' ? true : undefined),
      config.readyTimeoutMs,
      () => notReady(name, host),
    );
    lap('bind');
    timings['total'] = Math.round((performance.now() - t0) * 10) / 10;
    deps.log?.info({ port: name, netns: req.netns, ifname, ip: port.ip, timings }, 'port ready');
    return { ...toResult(port, { netns: req.netns, ifname, dhcp, network }), timings };
  }

  function notReady(name: string, host: string): PortError {
    const state = bindingState(deps.sb.cache, config.chassis, name);
    const iface = localPorts(deps.ovs.cache, config.owner).find((l) => l.host === host);
    const why =
      state === 'no-chassis'
        ? `chassis ${config.chassis} is not registered in the Southbound (is ovn-controller running?)`
        : state === 'unbound'
          ? `the Port_Binding is not on chassis ${config.chassis}`
          : 'the Port_Binding is not up yet';
    const ovsErr = iface?.error ? `; OVS interface ${host}: ${iface.error}` : '';
    return new PortError(
      'TIMEOUT',
      'ERR_PORT_NOT_READY',
      `port ${name} not ready within ${config.readyTimeoutMs} ms: ${why}${ovsErr}`,
    );
  }

  async function del(req: ValidDelRequest): Promise<{ deleted: PortResult[] }> {
    await deps.loaded;
    const match = (netns: string, network: string) =>
      netns === req.netns && (req.network === undefined || network === formatNetwork(req.network));
    const nbPorts = [...deps.ports.values()].filter((p) => {
      const o = parsePortOwner(p.owner);
      return o !== undefined && match(o.netns, formatNetwork(o.network));
    });
    const local = localPorts(deps.ovs.cache, config.owner).filter((l) => match(l.netns, l.network));
    if (nbPorts.length > 0 && !deps.isWriter())
      throw new PortError('UNAVAILABLE', 'ERR_PORT_NOT_WRITER', NOT_WRITER);
    const deleted: PortResult[] = [];
    const names = new Set([...nbPorts.map((p) => p.name), ...local.map((l) => l.lsp)]);
    for (const name of names) {
      const p = deps.ports.get(name);
      const rec = local.find((l) => l.lsp === name);
      const host = rec?.host ?? hostIfname(name);
      await deps.ovs.run((cache) => planDetach(cache, host), { waitForCache: true });
      await unplugVeth(config.nodeNetns, host);
      if (p) {
        const o = parsePortOwner(p.owner);
        deleted.push(
          toResult(p, {
            netns: req.netns,
            ifname: rec?.ifname ?? '',
            dhcp: rec?.dhcp ?? false,
            network: rec?.network ?? (o ? formatNetwork(o.network) : ''),
          }),
        );
        deps.ipam.release(p.owner, p.subnet);
        deps.ports.delete(name);
      }
    }
    if (nbPorts.length > 0) {
      await deps.publish();
      for (const p of nbPorts) await waitNb(p.name, undefined);
    }
    deps.log?.info({ netns: req.netns, deleted: deleted.map((d) => d.name) }, 'ports deleted');
    return { deleted };
  }

  async function list(): Promise<PortResult[]> {
    await deps.loaded;
    const out: PortResult[] = [];
    for (const rec of localPorts(deps.ovs.cache, config.owner)) {
      const p = deps.ports.get(rec.lsp);
      if (p) out.push(toResult(p, rec));
    }
    return out;
  }

  return {
    add: (req) => perNetns(req.netns, () => add(req)),
    del: (req) => perNetns(req.netns, () => del(req)),
    list: () => list(),
  };
}
