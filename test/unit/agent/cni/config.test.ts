import { describe, expect, it } from 'vitest';
import { parseCniArgs, parseCniEnv, parseNetConf, providerNetwork } from '../../../../agent/cni/config.js';
import { CniError } from '../../../../agent/cni/errors.js';

/** The NAD config of the seeds, as Kube-OVN's docs give it. */
const SEED = {
  cniVersion: '0.3.1',
  name: 'vswitch1',
  type: 'kube-ovn',
  server_socket: '/run/openvswitch/kube-ovn-daemon.sock',
  provider: 'vswitch1.default.ovn',
};

const codeOf = (f: () => unknown): number | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof CniError) return err.code;
    throw err;
  }
  return undefined;
};

describe('network configuration (stdin)', () => {
  it("reads the seeds' NAD config: provider → NAD, server_socket", () => {
    expect(parseNetConf(JSON.stringify(SEED), 'ADD')).toEqual({
      cniVersion: '0.3.1',
      name: 'vswitch1',
      type: 'kube-ovn',
      provider: 'vswitch1.default.ovn',
      network: { namespace: 'default', name: 'vswitch1' },
      serverSocket: '/run/openvswitch/kube-ovn-daemon.sock',
      ipamOnly: false,
    });
  });

  it('maps providers: the namespace is the last part, .ovn is optional, dotted NAD names stay whole', () => {
    expect(providerNetwork('vswitch1.default.ovn')).toEqual({ namespace: 'default', name: 'vswitch1' });
    expect(providerNetwork('net.a.b.tenant1.ovn')).toEqual({ namespace: 'tenant1', name: 'net.a.b' });
    expect(providerNetwork('attach.kube-system')).toEqual({ namespace: 'kube-system', name: 'attach' });
    for (const bad of ['ovn', 'vswitch1', 'vswitch1.ovn', 'UPPER.default.ovn', '.default.ovn'])
      expect(
        codeOf(() => providerNetwork(bad)),
        bad,
      ).toBe(7);
    expect(() => providerNetwork('ovn')).toThrow(/default pod network/);
  });

  it('defaults server_socket to the Kube-OVN daemon socket; a relative path is refused', () => {
    const { server_socket: _s, ...rest } = SEED;
    expect(parseNetConf(JSON.stringify(rest), 'ADD').serverSocket).toBe(
      '/run/openvswitch/kube-ovn-daemon.sock',
    );
    expect(() => parseNetConf(JSON.stringify({ ...SEED, server_socket: 'x.sock' }), 'ADD')).toThrow(
      /server_socket "x.sock" is not an absolute path/,
    );
  });

  it('reads provider and server_socket under ipam when another plugin delegates its IPAM', () => {
    const conf = parseNetConf(
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'mv',
        type: 'macvlan',
        master: 'eth1',
        ipam: { type: 'kube-ovn', server_socket: '/run/x/agent.sock', provider: 'mv.default' },
      }),
      'ADD',
    );
    expect(conf).toMatchObject({
      ipamOnly: true,
      provider: 'mv.default',
      serverSocket: '/run/x/agent.sock',
      network: { namespace: 'default', name: 'mv' },
    });
  });

  it('errors carry the spec codes: not JSON 6, version 1, missing provider 7', () => {
    expect(codeOf(() => parseNetConf('{nope', 'ADD'))).toBe(6);
    expect(codeOf(() => parseNetConf('[]', 'ADD'))).toBe(6);
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...SEED, cniVersion: '0.2.0' }), 'ADD'))).toBe(1);
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...SEED, cniVersion: '0.3.1' }), 'CHECK'))).toBe(1);
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...SEED, cniVersion: '1.0.0' }), 'GC'))).toBe(1);
    const { provider: _p, ...noProvider } = SEED;
    expect(() => parseNetConf(JSON.stringify(noProvider), 'ADD')).toThrow(/provider is required/);
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...SEED, provider: 5 }), 'ADD'))).toBe(7);
  });

  it('GC reads cni.dev/valid-attachments (or cni.dev/attachments)', () => {
    const gc = {
      ...SEED,
      cniVersion: '1.1.0',
      'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }],
    };
    expect(parseNetConf(JSON.stringify(gc), 'GC').validAttachments).toEqual([
      { containerId: 'c1', ifname: 'eth0' },
    ]);
    const alt = { ...SEED, cniVersion: '1.1.0', 'cni.dev/attachments': [] };
    expect(parseNetConf(JSON.stringify(alt), 'GC').validAttachments).toEqual([]);
    const bad = { ...SEED, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ ifname: 'eth0' }] };
    expect(() => parseNetConf(JSON.stringify(bad), 'GC')).toThrow(/valid-attachments\[0\] needs containerID/);
  });

  it('reads a requested address from runtimeConfig (ips and mac capabilities)', () => {
    const rc = { runtimeConfig: { ips: ['172.20.10.50/24'], mac: '0a:00:00:00:00:50' } };
    expect(parseNetConf(JSON.stringify({ ...SEED, ...rc }), 'ADD')).toMatchObject({
      ip: '172.20.10.50',
      mac: '0a:00:00:00:00:50',
    });
    const two = { runtimeConfig: { ips: ['172.20.10.50/24', '172.20.10.51/24'] } };
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...SEED, ...two }), 'ADD'))).toBe(2);
    expect(codeOf(() => parseNetConf(JSON.stringify({ ...SEED, runtimeConfig: { ips: 'x' } }), 'ADD'))).toBe(
      7,
    );
  });

  it('keeps prevResult for CHECK', () => {
    const prev = { cniVersion: '1.0.0', ips: [{ address: '172.20.10.2/24' }] };
    expect(
      parseNetConf(JSON.stringify({ ...SEED, cniVersion: '1.0.0', prevResult: prev }), 'CHECK').prevResult,
    ).toEqual(prev);
  });
});

describe('environment (CNI_*)', () => {
  const base = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c0ffee',
    CNI_NETNS: '/var/run/netns/cni-1234',
    CNI_IFNAME: 'net1',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS:
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=vms;K8S_POD_NAME=virt-launcher-vm1-abcde;K8S_POD_INFRA_CONTAINER_ID=c0ffee',
  };

  it('reads what a kubelet passes, pod from CNI_ARGS', () => {
    expect(parseCniEnv(base)).toEqual({
      command: 'ADD',
      containerId: 'c0ffee',
      netns: '/var/run/netns/cni-1234',
      ifname: 'net1',
      args: {
        IgnoreUnknown: '1',
        K8S_POD_NAMESPACE: 'vms',
        K8S_POD_NAME: 'virt-launcher-vm1-abcde',
        K8S_POD_INFRA_CONTAINER_ID: 'c0ffee',
      },
      pod: { namespace: 'vms', name: 'virt-launcher-vm1-abcde' },
    });
  });

  it('requires per command: ADD/CHECK need CNI_NETNS, DEL does not; VERSION needs nothing', () => {
    expect(codeOf(() => parseCniEnv({ ...base, CNI_NETNS: '' }))).toBe(4);
    expect(codeOf(() => parseCniEnv({ ...base, CNI_COMMAND: 'CHECK', CNI_NETNS: undefined }))).toBe(4);
    expect(parseCniEnv({ ...base, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBeUndefined();
    expect(() => parseCniEnv({ ...base, CNI_COMMAND: 'DEL', CNI_IFNAME: '' })).toThrow(
      /CNI_IFNAME is required for DEL/,
    );
    expect(parseCniEnv({ CNI_COMMAND: 'VERSION' })).toEqual({ command: 'VERSION', args: {} });
    expect(() => parseCniEnv({})).toThrow(/CNI_COMMAND is required/);
    expect(() => parseCniEnv({ CNI_COMMAND: 'UP' })).toThrow(/"UP" is not one of/);
  });

  it('CNI_ARGS: K=V pairs; a part without = is code 4; no pod without both keys', () => {
    expect(parseCniArgs('A=1;B=x=y;')).toEqual({ A: '1', B: 'x=y' });
    expect(codeOf(() => parseCniArgs('A=1;oops'))).toBe(4);
    expect(parseCniEnv({ ...base, CNI_ARGS: 'K8S_POD_NAME=p' }).pod).toBeUndefined();
  });
});
