/** The CNI attachment fields of the local API: validation and which ports a DEL removes. */
import { describe, expect, it } from 'vitest';
import { delNetnsKey, portsToDelete } from '../../../../../agent/node/ports/del-match.js';
import type { NodePort } from '../../../../../agent/node/ports/nb-ports.js';
import type { LocalPortRecord } from '../../../../../agent/node/ports/ovs.js';
import { PortError } from '../../../../../agent/node/ports/errors.js';
import {
  validateAddRequest,
  validateCheckRequest,
  validateDelRequest,
} from '../../../../../agent/node/ports/request.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PortError);
    return (err as PortError).field;
  }
  return undefined;
}

describe('CNI fields of add, del and check requests', () => {
  it('add takes a container id and a pod', () => {
    expect(
      validateAddRequest({
        network: 'default/vswitch1',
        netns: '/var/run/netns/cni-1',
        ifname: 'net1',
        containerId: 'c0ffee',
        pod: { namespace: 'vms', name: 'virt-launcher-vm1-x' },
      }),
    ).toMatchObject({ containerId: 'c0ffee', pod: { namespace: 'vms', name: 'virt-launcher-vm1-x' } });
    const base = { network: 'default/vswitch1', netns: 'vm1' };
    expect(fieldOf(() => validateAddRequest({ ...base, containerId: 'has space' }))).toBe('containerId');
    expect(fieldOf(() => validateAddRequest({ ...base, pod: { namespace: 'vms' } }))).toBe('pod.name');
    expect(fieldOf(() => validateAddRequest({ ...base, pod: { namespace: 'Vms', name: 'a' } }))).toBe(
      'pod.namespace',
    );
    expect(fieldOf(() => validateAddRequest({ ...base, pod: { namespace: 'a', name: 'b', uid: 'x' } }))).toBe(
      'pod.uid',
    );
    expect(fieldOf(() => validateAddRequest({ ...base, pod: 'a/b' }))).toBe('pod');
  });

  it('del: a container id alone will do (the namespace may be gone); ifname needs it', () => {
    expect(validateDelRequest({ containerId: 'c1', ifname: 'net1' })).toEqual({
      containerId: 'c1',
      ifname: 'net1',
    });
    expect(validateDelRequest({ containerId: 'c1', netns: '' })).toEqual({ containerId: 'c1' });
    expect(fieldOf(() => validateDelRequest({ ifname: 'net1', netns: 'vm1' }))).toBe('ifname');
    expect(fieldOf(() => validateDelRequest({ containerId: 'c1', ifname: 'a/b' }))).toBe('ifname');
  });

  it('check needs container id, ifname and netns', () => {
    expect(validateCheckRequest({ containerId: 'c1', ifname: 'net1', netns: '/proc/1/ns/net' })).toEqual({
      containerId: 'c1',
      ifname: 'net1',
      netns: '/proc/1/ns/net',
    });
    expect(fieldOf(() => validateCheckRequest({ ifname: 'net1', netns: 'x' }))).toBe('containerId');
    expect(fieldOf(() => validateCheckRequest({ containerId: 'c1', netns: 'x' }))).toBe('ifname');
    expect(fieldOf(() => validateCheckRequest({ containerId: 'c1', ifname: 'net1' }))).toBe('netns');
  });
});

const nodePort = (name: string, over: Partial<NodePort>): NodePort => ({
  name,
  subnet: 's1',
  ip: '172.20.10.2',
  mac: '0a:00:00:00:00:01',
  owner: `vm/n1/${name}`,
  chassis: 'n1',
  node: 'n1',
  netns: '/var/run/netns/cni-1',
  network: 'default/vswitch1',
  ifname: 'eth0',
  dhcp: false,
  defaultRoute: true,
  ...over,
});
const record = (lsp: string, over: Partial<LocalPortRecord>): LocalPortRecord => ({
  host: `h-${lsp}`,
  lsp,
  mac: '0a:00:00:00:00:01',
  netns: '/var/run/netns/cni-1',
  network: 'default/vswitch1',
  ifname: 'eth0',
  dhcp: false,
  error: undefined,
  ofport: 1,
  ...over,
});

describe('which ports a DEL removes', () => {
  const a = nodePort('a', { containerId: 'c1', ifname: 'eth0' });
  const b = nodePort('b', { containerId: 'c1', ifname: 'net1', network: 'default/vswitch2' });
  const c = nodePort('c', { containerId: 'c2', netns: '/var/run/netns/cni-2' });
  const mine = new Map([a, b, c].map((p) => [p.name, p]));
  const local = [record('a', {}), record('b', { ifname: 'net1' }), record('orphan', { ifname: 'net2' })];
  const names = (r: ReturnType<typeof portsToDelete>) => ({
    nb: r.nbPorts.map((p) => p.name),
    local: r.local.map((l) => l.lsp),
  });

  it('one attachment by container id + ifname, without a namespace', () => {
    expect(names(portsToDelete(mine, local, { containerId: 'c1', ifname: 'net1' }))).toEqual({
      nb: ['b'],
      local: ['b'],
    });
    expect(names(portsToDelete(mine, local, { containerId: 'c1' }))).toEqual({
      nb: ['a', 'b'],
      local: ['a', 'b'],
    });
    expect(names(portsToDelete(mine, local, { containerId: 'gone' }))).toEqual({ nb: [], local: [] });
  });

  it('by namespace: also an OVS port whose LSP is gone', () => {
    expect(names(portsToDelete(mine, local, { netns: '/var/run/netns/cni-1' }))).toEqual({
      nb: ['a', 'b'],
      local: ['a', 'b', 'orphan'],
    });
  });

  it('locks the recorded namespace of a DEL that names none', () => {
    expect(delNetnsKey(mine, { containerId: 'c2' })).toBe('/var/run/netns/cni-2');
    expect(delNetnsKey(mine, { netns: 'x', containerId: 'c2' })).toBe('x');
    expect(delNetnsKey(mine, { containerId: 'zz' })).toBe('container:zz');
  });
});
