import { rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
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
