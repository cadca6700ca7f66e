/** The event-fed metrics: OVSDB reconnects / leader changes and the port add decorator. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../../agent/errors.js';
import { createMetrics, instrumentPortService, watchOvsdbClient } from '../../../../agent/metrics/index.js';
import type { PortResult, PortService } from '../../../../agent/node/ports/index.js';
import type { OvsdbClient } from '../../../../ovsdb/index.js';

async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>) {
  const metric = await m.registry.getSingleMetric(name)?.get();
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value;
}

describe('watchOvsdbClient', () => {
  it('counts connections after the first as reconnects, and leader changes', async () => {
    const m = createMetrics({}, { processMetrics: false });
    const client = new EventEmitter();
    const off = watchOvsdbClient(m, 'OVN_Northbound', client as unknown as OvsdbClient);
    const db = { database: 'OVN_Northbound' };
    expect(await value(m, 'vpc_agent_ovsdb_reconnects_total', db)).toBe(0);
    client.emit('connected', {});
    expect(await value(m, 'vpc_agent_ovsdb_reconnects_total', db)).toBe(0);
    client.emit('connected', {});
    client.emit('connected', {});
    client.emit('leaderChanged', {});
    expect(await value(m, 'vpc_agent_ovsdb_reconnects_total', db)).toBe(2);
    expect(await value(m, 'vpc_agent_ovsdb_leader_changes_total', db)).toBe(1);
    off();
    client.emit('connected', {});
    expect(await value(m, 'vpc_agent_ovsdb_reconnects_total', db)).toBe(2);
  });
});

describe('instrumentPortService', () => {
  it('times adds by result and counts failures by code', async () => {
    const m = createMetrics({}, { processMetrics: false });
    let fail: Error | undefined;
    const inner: PortService = {
      add: () => (fail ? Promise.reject(fail) : Promise.resolve({ name: 'p' } as PortResult)),
      del: () => Promise.resolve({ deleted: [] }),
      list: () => Promise.resolve([]),
      check: () => Promise.resolve({ name: 'p' } as PortResult),
    };
    const svc = instrumentPortService(inner, m);
    const req = {} as Parameters<PortService['add']>[0];
    await expect(svc.add(req)).resolves.toEqual({ name: 'p' });
    fail = new AgentError('ERR_PORT_NO_NETWORK', 'no network');
    await expect(svc.add(req)).rejects.toThrow('no network');
    fail = new Error('boom');
    await expect(svc.add(req)).rejects.toThrow('boom');
    expect(await value(m, 'vpc_agent_ports_add_failures_total', { code: 'ERR_PORT_NO_NETWORK' })).toBe(1);
    expect(await value(m, 'vpc_agent_ports_add_failures_total', { code: 'ERR_UNEXPECTED' })).toBe(1);
    const hist = await m.registry.getSingleMetric('vpc_agent_ports_add_duration_seconds')?.get();
    const count = (result: string) =>
      hist?.values.find(
        (v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels['result'] === result,
      )?.value;
    expect(count('ok')).toBe(1);
    expect(count('error')).toBe(2);
    await expect(svc.del({} as Parameters<PortService['del']>[0])).resolves.toEqual({ deleted: [] });
  });
});
