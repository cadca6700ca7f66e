/**
 * The plugin's commands against the agent's real local API server (agent/api/server.ts, over a
 * unix socket) backed by a port service that records what reached it and fails on demand: what
 * the plugin sends passes the agent's validation, and each agent answer becomes the right CNI
 * output. The whole path with OVN is the e2e test (test/e2e/cni).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiCall } from '../../../../agent/api/client.js';
import { createApiServer, type ApiServer } from '../../../../agent/api/server.js';
import { runPlugin } from '../../../../agent/cni/plugin.js';
import { PortError, type PortResult, type PortService } from '../../../../agent/node/ports/index.js';

const port: PortResult = {
  network: 'default/vswitch1',
  subnet: 'vswitch1-subnet',
  name: 'vm1.vms.vswitch1.default.ovn',
  netns: '/var/run/netns/cni-1',
  ifname: 'net1',
  ip: '172.20.10.2',
  prefix: 24,
  mac: '0a:58:ac:14:0a:02',
  gateway: '172.20.10.1',
  mtu: 1400,
  dhcp: false,
  hostIfname: 'h0123456789ab',
  containerId: 'c1',
  defaultRoute: true,
};

let calls: unknown[][] = [];
let fail: unknown;
let listed: PortResult[] = [];
const service: PortService = {
  add: async (req) => {
    calls.push(['add', req]);
    if (fail) throw fail;
    return port;
  },
  del: async (req) => {
    calls.push(['del', req]);
    if (fail) throw fail;
    return { deleted: [] };
  },
  list: async () => {
    calls.push(['list']);
    if (fail) throw fail;
    return listed;
  },
  check: async (req) => {
    calls.push(['check', req]);
    if (fail) throw fail;
    return port;
  },
};

let dir: string;
let server: ApiServer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vpca-cni-'));
  server = await createApiServer({ ports: service }, path.join(dir, 'run', 'cni.sock'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  calls = [];
  fail = undefined;
  listed = [];
});

const conf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'vswitch1',
    type: 'kube-ovn',
    provider: 'vswitch1.default.ovn',
    server_socket: server.socket,
    ...extra,
  });
const env = (command: string, extra: Record<string, string> = {}) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/var/run/netns/cni-1',
  CNI_IFNAME: 'net1',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=vms;K8S_POD_NAME=virt-launcher-vm1-x',
  ...extra,
});
const call = <T>(socket: string, method: string, p: string, body?: unknown) =>
  apiCall<T>(method, p, body, { socket });
const parsed = (s: string) => JSON.parse(s) as Record<string, unknown>;

describe('CNI plugin over the local API', () => {
  it('ADD sends network, netns, ifname, container id and pod; prints the result', async () => {
    const out = await runPlugin(env('ADD'), conf(), call);
    expect(out.exitCode).toBe(0);
    expect(parsed(out.stdout)).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'net1', mac: port.mac, sandbox: '/var/run/netns/cni-1' }],
      ips: [{ address: '172.20.10.2/24', gateway: '172.20.10.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '172.20.10.1' }],
      dns: {},
    });
    expect(calls).toEqual([
      [
        'add',
        {
          network: { namespace: 'default', name: 'vswitch1' },
          netns: '/var/run/netns/cni-1',
          ifname: 'net1',
          containerId: 'c1',
          defaultRoute: false,
          pod: { namespace: 'vms', name: 'virt-launcher-vm1-x' },
        },
      ],
    ]);
  });

  it('ADD: only eth0 (the primary network) asks for the default route', async () => {
    await runPlugin(env('ADD', { CNI_IFNAME: 'eth0' }), conf(), call);
    expect(calls[0]?.[1]).toMatchObject({ ifname: 'eth0', defaultRoute: true });
  });

  it('ADD asks for the address of CNI_ARGS IP= / MAC=, or of runtimeConfig', async () => {
    await runPlugin(env('ADD', { CNI_ARGS: 'IP=172.20.10.60/24;MAC=0a:00:00:00:00:60' }), conf(), call);
    expect(calls[0]?.[1]).toMatchObject({ ip: '172.20.10.60', mac: '0a:00:00:00:00:60' });
    calls = [];
    await runPlugin(
      env('ADD', { CNI_ARGS: 'IP=172.20.10.60' }),
      conf({ runtimeConfig: { ips: ['172.20.10.61/24'] } }),
      call,
    );
    expect(calls[0]?.[1]).toMatchObject({ ip: '172.20.10.61' });
  });

  it('DEL goes by container id and interface, also without CNI_NETNS; prints nothing', async () => {
    for (const netns of ['/var/run/netns/cni-1', '']) {
      calls = [];
      const out = await runPlugin(env('DEL', { CNI_NETNS: netns }), conf(), call);
      expect(out).toEqual({ stdout: '', exitCode: 0 });
      expect(calls).toEqual([
        ['del', { containerId: 'c1', ifname: 'net1', network: { namespace: 'default', name: 'vswitch1' } }],
      ]);
    }
  });

  it('CHECK asks the agent and compares prevResult', async () => {
    const prev = { cniVersion: '1.0.0', ips: [{ address: '172.20.10.2/24', interface: 0 }] };
    expect(await runPlugin(env('CHECK'), conf({ prevResult: prev }), call)).toEqual({
      stdout: '',
      exitCode: 0,
    });
    expect(calls[0]).toEqual([
      'check',
      {
        containerId: 'c1',
        ifname: 'net1',
        netns: '/var/run/netns/cni-1',
        network: { namespace: 'default', name: 'vswitch1' },
      },
    ]);
    const other = { ...prev, ips: [{ address: '172.20.10.9/24' }] };
    const out = await runPlugin(env('CHECK'), conf({ prevResult: other }), call);
    expect(out.exitCode).toBe(1);
    expect(parsed(out.stdout)).toMatchObject({
      code: 102,
      msg: expect.stringMatching(/has 172.20.10.2\/24, prevResult lists 172.20.10.9\/24/),
    });
  });

  it('maps agent errors to CNI codes with the message and where it came from', async () => {
    const cases: [unknown, number, RegExp][] = [
      [
        new PortError('CONFLICT', 'ERR_IPAM_TAKEN', 'ip: 172.20.10.2 is taken', { field: 'ip' }),
        100,
        /is taken/,
      ],
      [
        new PortError(
          'NOT_FOUND',
          'ERR_PORT_NO_NETWORK',
          'network: no NetworkAttachmentDefinition default/vswitch1',
        ),
        7,
        /no NetworkAttachmentDefinition/,
      ],
      [new PortError('TIMEOUT', 'ERR_PORT_NOT_READY', 'port not ready'), 11, /not ready/],
      [new PortError('INTERNAL', 'ERR_NETLINK', 'veth failed'), 101, /veth failed/],
    ];
    for (const [err, code, msg] of cases) {
      fail = err;
      const out = await runPlugin(env('ADD'), conf(), call);
      expect(out.exitCode).toBe(1);
      const e = parsed(out.stdout);
      expect(e).toMatchObject({ cniVersion: '1.0.0', code });
      expect(e['msg']).toMatch(/^ADD default\/vswitch1 \(provider vswitch1.default.ovn\): /);
      expect(e['msg']).toMatch(msg);
      expect(e['details']).toMatch(new RegExp(`^agent answered HTTP \\d+ ERR_\\w+.* on ${server.socket}$`));
    }
    fail = new PortError('NOT_FOUND', 'ERR_PORT_NO_ATTACHMENT', 'no port of container c1');
    expect(parsed((await runPlugin(env('CHECK'), conf(), call)).stdout)['code']).toBe(3);
  });

  it('an unreachable agent: ADD says try again later (11), STATUS not available (50)', async () => {
    const gone = conf({ cniVersion: '1.1.0', server_socket: path.join(dir, 'absent.sock') });
    const add = parsed((await runPlugin(env('ADD'), gone, call)).stdout);
    expect(add).toMatchObject({
      cniVersion: '1.1.0',
      code: 11,
      msg: expect.stringMatching(/cannot reach the agent/),
    });
    const status = await runPlugin({ CNI_COMMAND: 'STATUS' }, gone, call);
    expect(status.exitCode).toBe(1);
    expect(parsed(status.stdout)['code']).toBe(50);
    expect(await runPlugin({ CNI_COMMAND: 'STATUS' }, conf({ cniVersion: '1.1.0' }), call)).toEqual({
      stdout: '',
      exitCode: 0,
    });
  });

  it('bad input never reaches the agent: env code 4, config code 7, version code 1', async () => {
    const noIf = parsed((await runPlugin(env('ADD', { CNI_IFNAME: '' }), conf(), call)).stdout);
    expect(noIf).toMatchObject({ code: 4, msg: 'CNI_IFNAME is required for ADD' });
    expect(parsed((await runPlugin(env('ADD'), conf({ provider: 'ovn' }), call)).stdout)['code']).toBe(7);
    expect(parsed((await runPlugin(env('ADD'), conf({ cniVersion: '9.9.9' }), call)).stdout)).toMatchObject({
      cniVersion: '1.1.0',
      code: 1,
    });
    expect(calls).toEqual([]);
  });

  it('as another plugin’s IPAM: asks for an address only, prints ips and routes without interfaces', async () => {
    const ipam = conf({
      type: 'macvlan',
      ipam: { type: 'kube-ovn', provider: 'mv.default', server_socket: server.socket },
    });
    const out = await runPlugin(env('ADD'), ipam, call);
    expect(calls[0]?.[1]).toMatchObject({ network: { namespace: 'default', name: 'mv' }, ipamOnly: true });
    expect(parsed(out.stdout)).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '172.20.10.2/24', gateway: '172.20.10.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '172.20.10.1' }],
      dns: {},
    });
  });

  it('VERSION lists the versions in the configuration’s version', async () => {
    const out = await runPlugin({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}', call);
    expect(parsed(out.stdout)).toEqual({
      cniVersion: '0.4.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    expect(parsed((await runPlugin({ CNI_COMMAND: 'VERSION' }, '', call)).stdout)['cniVersion']).toBe(
      '1.1.0',
    );
  });

  it('GC deletes only this network’s CNI attachments that are not valid', async () => {
    listed = [
      { ...port, containerId: 'keep', ifname: 'net1' },
      { ...port, containerId: 'stale', ifname: 'net1' },
      { ...port, containerId: 'other-net', network: 'default/vswitch2' },
      { ...port, containerId: undefined, ifname: 'eth0' },
    ];
    const gc = conf({
      cniVersion: '1.1.0',
      'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'net1' }],
    });
    expect(await runPlugin({ CNI_COMMAND: 'GC' }, gc, call)).toEqual({ stdout: '', exitCode: 0 });
    expect(calls).toEqual([
      ['list'],
      ['del', { containerId: 'stale', ifname: 'net1', network: { namespace: 'default', name: 'vswitch1' } }],
    ]);
  });
});
