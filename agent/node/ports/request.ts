/**
 * Validation of port requests as they arrive from the local API (JSON of unknown shape): every
 * problem is a 400 naming its field. Pure — no lookups of namespaces, NADs or IPAM here.
 */
import { normalizeMac, tryParseIp } from '../../../netlink/inet.js';
import { badRequest } from './errors.js';
import { IFNAME_MAX, K8S_OBJECT_NAME, parseNetwork, type NetworkRef } from './names.js';

export interface AddPortRequest {
  /** `<namespace>/<nad>`. */
  network: string;
  /** Network namespace (name under /run/netns) that gets the interface. */
  netns: string;
  /** Interface name in `netns` (default `eth0`, then `net1`, …). */
  ifname?: string;
  /** LSP name (default Kube-OVN style, see ./names.ts). */
  name?: string;
  /** Static address, honoured or refused with IPAM's reason. */
  ip?: string;
  mac?: string;
  /** Leave the interface without address and route: the guest's DHCP client configures it. */
  dhcp?: boolean;
  /** Add the default route via the subnet gateway (default: only for the namespace's first port). */
  defaultRoute?: boolean;
  /** The runtime's container id (CNI_CONTAINERID): recorded, so that a DEL finds the port by it. */
  containerId?: string;
  /** The pod (CNI_ARGS K8S_POD_NAMESPACE/K8S_POD_NAME): the LSP is named after it, as Kube-OVN does. */
  pod?: PodRef;
  /**
   * Only an address (the plugin as another plugin's IPAM: macvlan makes the interface). The LSP
   * records the reservation; no veth, no OVS port, no binding.
   */
  ipamOnly?: boolean;
}

export interface PodRef {
  namespace: string;
  name: string;
}

export interface DelPortRequest {
  /** The namespace's ports; optional when `containerId` is given (a DEL may come without it). */
  netns?: string;
  /** Only this network's port (default: every port of `netns`). */
  network?: string;
  /** Only the ports added with this container id. */
  containerId?: string;
  /** Only the port with this interface name (with `containerId`: one CNI attachment). */
  ifname?: string;
}

/** CNI CHECK: is the attachment `containerId` + `ifname` complete and bound? */
export interface CheckPortRequest {
  containerId: string;
  ifname: string;
  netns: string;
  network?: string;
}

/** A checked add request, with `network` parsed. */
export interface ValidAddRequest extends Omit<AddPortRequest, 'network'> {
  network: NetworkRef;
  /**
   * The port routes others' traffic (a NAT gateway's LAN leg; see `NodePort.routed`). Set by
   * the agent itself, never taken from the API: a VM's port always has full port security.
   */
  routed?: boolean;
  /**
   * The port belongs to something that moves between nodes (a NAT gateway's LAN leg), named by
   * this key: its IPAM owner is the key's, not the node's, its LSP (named by `name`, which is
   * then required) keeps its address when another node adds it, and the node adding it takes
   * the LSP over from the node that had it. Set by the agent itself, never taken from the API;
   * the caller guarantees one node at a time (the gateway's lock).
   */
  movable?: string;
  /**
   * The interface gets no address and no route from the port service (the LSP still records
   * the port's address): its owner configures it (a NAT gateway's external leg holds the EIPs).
   * Set by the agent itself.
   */
  unaddressed?: boolean;
}

export interface ValidDelRequest {
  netns?: string;
  network?: NetworkRef;
  containerId?: string;
  ifname?: string;
}

export interface ValidCheckRequest {
  containerId: string;
  ifname: string;
  netns: string;
  network?: NetworkRef;
}

/**
 * A name under /run/netns (one path component, as `ip netns` accepts) or an absolute path of a
 * namespace file (`/proc/PID/ns/net`, `/var/run/netns/X`), as CNI passes it.
 */
export function checkNetnsName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '')
    throw badRequest(field, 'required (a network namespace name or path)');
  if (v.length > 255 || /\s/.test(v))
    throw badRequest(field, `${JSON.stringify(v)} is not a network namespace`);
  if (v.startsWith('/')) {
    if (v.split('/').some((part) => part === '..'))
      throw badRequest(field, `${JSON.stringify(v)}: a namespace path may not contain ..`);
    return v;
  }
  if (v.includes('/') || v === '.' || v === '..')
    throw badRequest(field, `${JSON.stringify(v)} is not a network namespace name`);
  return v;
}

function checkNetwork(v: unknown): NetworkRef {
  if (typeof v !== 'string' || v === '') throw badRequest('network', 'required (<namespace>/<nad>)');
  const n = parseNetwork(v);
  if (!n) throw badRequest('network', `${JSON.stringify(v)} is not <namespace>/<nad>`);
  return n;
}

function optString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw badRequest(field, 'must be a non-empty string');
  return v;
}

function optBool(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(field, 'must be true or false');
  return v;
}

function asObject(body: unknown, field = 'body'): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(field, 'must be a JSON object');
  return body as Record<string, unknown>;
}

function checkKnown(body: Record<string, unknown>, known: readonly string[], prefix = ''): void {
  for (const k of Object.keys(body)) if (!known.includes(k)) throw badRequest(prefix + k, 'unknown field');
}

const ADD_FIELDS = [
  'network',
  'netns',
  'ifname',
  'name',
  'ip',
  'mac',
  'dhcp',
  'defaultRoute',
  'containerId',
  'pod',
  'ipamOnly',
] as const;

/** Container ids as runtimes make them (64 hex digits, or any printable token up to 255 bytes). */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

function optContainerId(body: Record<string, unknown>): string | undefined {
  const v = optString(body, 'containerId');
  if (v !== undefined && !CONTAINER_ID.test(v))
    throw badRequest('containerId', `${JSON.stringify(v)}: use 1-255 of [A-Za-z0-9_.-]`);
  return v;
}

function checkIfname(ifname: string | undefined): string | undefined {
  if (
    ifname !== undefined &&
    (Buffer.byteLength(ifname) > IFNAME_MAX || /[/:\s]/.test(ifname) || ifname === '.' || ifname === '..')
  )
    throw badRequest(
      'ifname',
      `${JSON.stringify(ifname)} is not an interface name (1-15 bytes, no / : or space)`,
    );
  return ifname;
}

function optPod(body: Record<string, unknown>): PodRef | undefined {
  const v = body['pod'];
  if (v === undefined || v === null) return undefined;
  const o = asObject(v, 'pod');
  checkKnown(o, ['namespace', 'name'], 'pod.');
  const out: Record<string, string> = {};
  for (const k of ['namespace', 'name'] as const) {
    const x = o[k];
    if (typeof x !== 'string' || !K8S_OBJECT_NAME.test(x) || x.length > 253)
      throw badRequest(`pod.${k}`, `${JSON.stringify(x)} is not a Kubernetes object name`);
    out[k] = x;
  }
  return { namespace: out['namespace']!, name: out['name']! };
}

export function validateAddRequest(raw: unknown): ValidAddRequest {
  const body = asObject(raw);
  checkKnown(body, ADD_FIELDS);
  const network = checkNetwork(body['network']);
  const netns = checkNetnsName('netns', body['netns']);
  const ifname = checkIfname(optString(body, 'ifname'));
  const containerId = optContainerId(body);
  const pod = optPod(body);
  const name = optString(body, 'name');
  if (name !== undefined && !/^[A-Za-z0-9_.:-]{1,253}$/.test(name))
    throw badRequest('name', `${JSON.stringify(name)}: use 1-253 of [A-Za-z0-9_.:-]`);
  const ip = optString(body, 'ip');
  if (ip !== undefined && !tryParseIp(ip))
    throw badRequest('ip', `${JSON.stringify(ip)} is not an IP address`);
  const mac = optString(body, 'mac');
  if (mac !== undefined && !normalizeMac(mac))
    throw badRequest('mac', `${JSON.stringify(mac)} is not a MAC address`);
  const dhcp = optBool(body, 'dhcp');
  const defaultRoute = optBool(body, 'defaultRoute');
  const ipamOnly = optBool(body, 'ipamOnly');
  return {
    network,
    netns,
    ...(ifname === undefined ? {} : { ifname }),
    ...(name === undefined ? {} : { name }),
    ...(ip === undefined ? {} : { ip }),
    ...(mac === undefined ? {} : { mac: normalizeMac(mac) as string }),
    ...(dhcp === undefined ? {} : { dhcp }),
    ...(defaultRoute === undefined ? {} : { defaultRoute }),
    ...(containerId === undefined ? {} : { containerId }),
    ...(pod === undefined ? {} : { pod }),
    ...(ipamOnly ? { ipamOnly } : {}),
  };
}

export function validateDelRequest(raw: unknown): ValidDelRequest {
  const body = asObject(raw);
  checkKnown(body, ['netns', 'network', 'containerId', 'ifname']);
  const containerId = optContainerId(body);
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  const netns =
    containerId !== undefined && !given(body['netns']) ? undefined : checkNetnsName('netns', body['netns']);
  const network = given(body['network']) ? checkNetwork(body['network']) : undefined;
  const ifname = checkIfname(optString(body, 'ifname'));
  if (ifname !== undefined && containerId === undefined)
    throw badRequest('ifname', 'needs containerId (a DEL of one attachment)');
  return {
    ...(netns === undefined ? {} : { netns }),
    ...(network ? { network } : {}),
    ...(containerId === undefined ? {} : { containerId }),
    ...(ifname === undefined ? {} : { ifname }),
  };
}

export function validateCheckRequest(raw: unknown): ValidCheckRequest {
  const body = asObject(raw);
  checkKnown(body, ['netns', 'network', 'containerId', 'ifname']);
  const containerId = optContainerId(body);
  if (containerId === undefined) throw badRequest('containerId', 'required');
  const ifname = checkIfname(optString(body, 'ifname'));
  if (ifname === undefined) throw badRequest('ifname', 'required');
  const netns = checkNetnsName('netns', body['netns']);
  const network =
    body['network'] === undefined || body['network'] === null ? undefined : checkNetwork(body['network']);
  return { containerId, ifname, netns, ...(network ? { network } : {}) };
}
