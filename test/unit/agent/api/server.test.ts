import { linkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCall, ApiClientError } from '../../../../agent/api/client.js';
import { createApiServer, errorResponse, handle, type ApiServer } from '../../../../agent/api/server.js';
import { IpamRejectedError } from '../../../../agent/ipam/errors.js';
import { PortError, type PortResult, type PortService } from '../../../../agent/node/ports/index.js';

const result: PortResult = {
  network: 'default/vswitch1',
  subnet: 'vswitch1-subnet',
  name: 'vm1.default.vswitch1.default.ovn',
  netns: 'vm1',
  ifname: 'eth0',
  ip: '172.20.10.10',
  prefix: 24,
  mac: '0a:00:00:00:00:01',
  gateway: '172.20.10.1',
  mtu: 1400,
  dhcp: false,
  hostIfname: 'h0123456789ab',
};

/** A port service that records calls and fails on demand. */
function fakePorts(fail?: unknown): PortService & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    add: async (req) => {
      calls.push(['add', req]);
      if (fail) throw fail;
      return result;
    },
    del: async (req) => {
      calls.push(['del', req]);
      return { deleted: [result] };
    },
    list: async () => [result],
    check: async (req) => {
      calls.push(['check', req]);
      return result;
    },
  };
}

describe('local API routing', () => {
  it('validates before calling the service and maps errors to statuses', async () => {
    const ports = fakePorts();
    const bad = await handle(ports, 'POST', '/v1/ports', async () => ({ netns: 'vm1' })).catch(errorResponse);
    expect(bad).toMatchObject({
      status: 400,
      body: { error: { code: 'ERR_PORT_BAD_REQUEST', field: 'network' } },
    });
    expect(ports.calls).toEqual([]);
    expect(await handle(ports, 'PUT', '/v1/ports', async () => ({}))).toMatchObject({ status: 405 });
    expect(await handle(ports, 'GET', '/v2/x', async () => ({}))).toMatchObject({ status: 404 });
  });

  it('errors: PortError keeps its status, others are 500 with their code', () => {
    expect(errorResponse(new PortError('UNAVAILABLE', 'ERR_PORT_NOT_WRITER', 'not writer')).status).toBe(503);
    expect(errorResponse(new PortError('TIMEOUT', 'ERR_PORT_NOT_READY', 'slow')).status).toBe(504);
    expect(errorResponse(new PortError('CONFLICT', 'ERR_IPAM_REJECTED', 'taken')).status).toBe(409);
    expect(errorResponse(new IpamRejectedError('s', 'taken', 'x'))).toEqual({
      status: 500,
      body: { error: { code: 'ERR_IPAM_REJECTED', message: 'x' } },
    });
  });
});

describe('local API over a unix socket', () => {
  let dir: string;
  let server: ApiServer;
  const ports = fakePorts();
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vpca-api-'));
    server = await createApiServer({ ports }, path.join(dir, 'run', 'agent.sock'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips add, list and del as JSON', async () => {
    const socket = server.socket;
    expect(
      await apiCall('POST', '/v1/ports', { network: 'default/vswitch1', netns: 'vm1' }, { socket }),
    ).toEqual(result);
    expect(await apiCall('GET', '/v1/ports', undefined, { socket })).toEqual({ ports: [result] });
    expect(await apiCall('DELETE', '/v1/ports', { netns: 'vm1' }, { socket })).toEqual({ deleted: [result] });
    expect(ports.calls).toEqual([
      ['add', { network: { namespace: 'default', name: 'vswitch1' }, netns: 'vm1' }],
      ['del', { netns: 'vm1' }],
    ]);
  });

  it('gives the client the code, status and field of an error', async () => {
    const err = await apiCall(
      'POST',
      '/v1/ports',
      { network: 'nope', netns: 'vm1' },
      { socket: server.socket },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiClientError);
    expect(err).toMatchObject({ status: 400, code: 'ERR_PORT_BAD_REQUEST', field: 'network' });
  });

  it('refuses to take over a live socket, and says so when nobody listens', async () => {
    await expect(createApiServer({ ports }, server.socket)).rejects.toThrow(/another process/);
    await expect(
      apiCall('GET', '/v1/ports', undefined, { socket: path.join(dir, 'none.sock') }),
    ).rejects.toThrow(/cannot reach the agent/);
  });
});

describe('the API socket path', () => {
  let dir: string;
  const ports = fakePorts();
  const mode = async (p: string) => (await stat(p)).mode & 0o7777;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vpca-apisock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the directory mode 0750, whether it is new or existed with another mode', async () => {
    const fresh = await createApiServer({ ports }, path.join(dir, 'new', 'run', 'agent.sock'));
    try {
      expect(await mode(path.join(dir, 'new', 'run'))).toBe(0o750);
    } finally {
      await fresh.close();
    }
    const existing = path.join(dir, 'open');
    await mkdir(existing);
    await chmod(existing, 0o777);
    const server = await createApiServer({ ports }, path.join(existing, 'agent.sock'));
    try {
      expect(await mode(existing)).toBe(0o750);
      expect(await mode(server.socket)).toBe(0o660);
      expect(await apiCall('GET', '/v1/ports', undefined, { socket: server.socket })).toEqual({
        ports: [result],
      });
    } finally {
      await server.close();
    }
  });

  it('sharedDir (the CNI socket in /run/openvswitch): an existing directory keeps its mode, a new one is 0750', async () => {
    const ovsRun = path.join(dir, 'openvswitch');
    await mkdir(ovsRun);
    await chmod(ovsRun, 0o755);
    const cni = await createApiServer({ ports }, path.join(ovsRun, 'kube-ovn-daemon.sock'), {
      sharedDir: true,
    });
    try {
      expect(await mode(ovsRun)).toBe(0o755);
      expect(await mode(cni.socket)).toBe(0o660);
      expect(
        await apiCall(
          'POST',
          '/v1/ports/check',
          { containerId: 'c1', ifname: 'eth0', netns: 'vm1' },
          { socket: cni.socket },
        ),
      ).toEqual(result);
      await expect(
        apiCall('GET', '/v1/ports/check', undefined, { socket: cni.socket }),
      ).rejects.toMatchObject({ status: 405 });
    } finally {
      await cni.close();
    }
    const fresh = await createApiServer({ ports }, path.join(dir, 'fresh-ovs', 'kube-ovn-daemon.sock'), {
      sharedDir: true,
    });
    await fresh.close();
    expect(await mode(path.join(dir, 'fresh-ovs'))).toBe(0o750);
    const file = path.join(ovsRun, 'not-a-socket');
    await writeFile(file, 'x');
    await expect(createApiServer({ ports }, file, { sharedDir: true })).rejects.toMatchObject({
      code: 'ERR_API_SOCKET_NOT_SOCKET',
    });
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  it('refuses a shared (sticky, world-writable) directory and leaves its mode alone', async () => {
    const shared = path.join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    await expect(createApiServer({ ports }, path.join(shared, 'agent.sock'))).rejects.toMatchObject({
      code: 'ERR_API_SOCKET_DIR',
      message: expect.stringMatching(/is a shared directory/),
    });
    expect(await mode(shared)).toBe(0o1777);
  });

  it('never removes a regular file at the socket path', async () => {
    const file = path.join(dir, 'file', 'agent.sock');
    await mkdir(path.dirname(file));
    await writeFile(file, 'precious');
    await expect(createApiServer({ ports }, file)).rejects.toMatchObject({
      code: 'ERR_API_SOCKET_NOT_SOCKET',
      message: `${file} exists and is a regular file, not a socket; not removing it (move it or choose another --api-socket)`,
    });
    expect(await readFile(file, 'utf8')).toBe('precious');
  });

  it('replaces a stale socket nobody accepts on, and refuses a live one', async () => {
    const sockDir = path.join(dir, 'stale');
    await mkdir(sockDir);
    const socket = path.join(sockDir, 'agent.sock');
    // A socket file without a listener: a second name of a bound socket, kept after it closes.
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(path.join(sockDir, 'old.sock'), resolve));
    linkSync(path.join(sockDir, 'old.sock'), socket);
    await new Promise((resolve) => other.close(resolve));
    expect((await stat(socket)).isSocket()).toBe(true);

    const server = await createApiServer({ ports }, socket);
    try {
      expect(await apiCall('GET', '/v1/ports', undefined, { socket })).toEqual({ ports: [result] });
      await expect(createApiServer({ ports }, socket)).rejects.toMatchObject({
        code: 'ERR_API_SOCKET_IN_USE',
      });
      // The refused attempt left the live socket alone.
      expect(await apiCall('GET', '/v1/ports', undefined, { socket })).toEqual({ ports: [result] });
    } finally {
      await server.close();
    }
  });
});
