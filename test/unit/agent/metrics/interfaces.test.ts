/**
 * The interface collector on Interface rows recorded from a sandbox node's Open_vSwitch
 * database (two VM ports and br-int), and on broken rows and a disconnected client.
 */
import { describe, expect, it } from 'vitest';
import {
  bridgePorts,
  createInterfaceCollector,
  interfaceSnapshot,
  type InterfaceRowsSource,
} from '../../../../agent/metrics/interfaces.js';
import { createMetrics } from '../../../../agent/metrics/index.js';
import type { Row } from '../../../../ovsdb/index.js';
import { fixture } from './replay.js';

const ROWS = JSON.parse(fixture('interface-rows.json')) as Row[];
const BRIDGES = JSON.parse(fixture('bridge-rows.json')) as Row[];
const PLACEMENT: Record<string, { subnet: string; vpc: string }> = {
  vm1: { subnet: 'subnet-a', vpc: 'vpc-1' },
  vm2: { subnet: 'subnet-b', vpc: 'vpc-1' },
};
const lookup = (id: string) => PLACEMENT[id];

/** A source over fixed rows: what an `OvsdbClient` with the interface monitor offers. */
function source(
  rows: Row[],
  online = true,
): InterfaceRowsSource & { rows: Row[]; seqno: number; online: boolean } {
  const s = {
    rows,
    seqno: 1,
    online,
    get isOnline() {
      return s.online;
    },
    cache: {
      get seqno() {
        return s.seqno;
      },
      rows: (table: string) => {
        if (table === 'Bridge') return BRIDGES[Symbol.iterator]();
        if (table !== 'Interface') throw new Error(`table ${table} is not monitored`);
        return s.rows[Symbol.iterator]();
      },
    },
  };
  return s;
}

function setup(src: InterfaceRowsSource, options: Parameters<typeof createInterfaceCollector>[1] = {}) {
  const metrics = createMetrics({ isWriter: () => false }, { processMetrics: false });
  const collector = createInterfaceCollector(
    { registry: metrics.registry, source: src },
    { lookup, ...options },
  );
  const values = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return { metrics, collector, values, text: () => metrics.registry.metrics() };
}

describe('bridgePorts', () => {
  it('counts the recorded ports of br-int, a one-port bridge (a bare uuid) and an empty one', () => {
    expect(bridgePorts(BRIDGES)).toEqual({ 'br-int': 3 });
    const uuid = '3659c292-0ce9-4f37-80be-1f905eed68b8';
    const rows = [
      { _uuid: 'a', name: 'br-one', ports: uuid },
      { _uuid: 'b', name: 'br-none', ports: [] },
      { _uuid: 'c', ports: [uuid] },
    ] as unknown as Row[];
    expect(bridgePorts(rows)).toEqual({ 'br-one': 1, 'br-none': 0 });
  });
});

describe('interfaceSnapshot on recorded rows', () => {
  it('labels VM ports with iface-id, subnet and VPC, puts them first, and reads the counters', () => {
    const snap = interfaceSnapshot(ROWS, { lookup });
    expect(snap.interfaces.map((i) => i.labels)).toEqual([
      { interface: 'h-vm1', port: 'vm1', subnet: 'subnet-a', vpc: 'vpc-1' },
      { interface: 'h-vm2', port: 'vm2', subnet: 'subnet-b', vpc: 'vpc-1' },
      { interface: 'br-int', port: '', subnet: '', vpc: '' },
    ]);
    const vm1 = snap.interfaces[0]!;
    expect(vm1.stats).toMatchObject({ rx_packets: 17, rx_bytes: 1398, tx_packets: 29, tx_bytes: 2314 });
    expect(Object.keys(vm1.stats).sort()).toEqual([
      'rx_bytes',
      'rx_dropped',
      'rx_errors',
      'rx_packets',
      'tx_bytes',
      'tx_dropped',
      'tx_errors',
      'tx_packets',
    ]);
    expect(vm1).toMatchObject({ linkState: 'up', mtu: 1500, ofport: 1 });
    expect(snap.byLinkState).toEqual({ up: 2, down: 1, unknown: 0 });
    expect(snap.dropped).toBe(0);
  });

  it('bounds the series: maxInterfaces keeps VM ports first; perInterface false keeps none', () => {
    const one = interfaceSnapshot(ROWS, { lookup, maxInterfaces: 1 });
    expect(one.interfaces.map((i) => i.labels.interface)).toEqual(['h-vm1']);
    expect(one.dropped).toBe(2);
    const none = interfaceSnapshot(ROWS, { lookup, perInterface: false });
    expect(none.interfaces).toEqual([]);
    expect(none.dropped).toBe(3);
    expect(none.byLinkState.up).toBe(2);
  });

  it('skips rows without a name and values that are not counts; unknown ports get empty labels', () => {
    const broken = [
      { _uuid: 'a', statistics: { rx_bytes: 5 } },
      { _uuid: 'b', name: '', statistics: {} },
      {
        _uuid: 'c',
        name: 'patch-x',
        statistics: { rx_bytes: -1, tx_bytes: 1.5, rx_packets: '7', tx_packets: 9 },
        link_state: 'sideways',
        mtu: 'big',
        external_ids: { 'iface-id': 'not-ours' },
      },
      { _uuid: 'd', name: 'odd', statistics: ['set', []], external_ids: ['map', []], ofport: -1 },
    ] as unknown as Row[];
    const snap = interfaceSnapshot(broken, { lookup });
    expect(snap.invalid).toBe(2);
    expect(snap.interfaces).toEqual([
      {
        labels: { interface: 'patch-x', port: 'not-ours', subnet: '', vpc: '' },
        text: '{interface="patch-x",port="not-ours",subnet="",vpc=""}',
        stats: { tx_packets: 9 },
      },
      {
        labels: { interface: 'odd', port: '', subnet: '', vpc: '' },
        text: '{interface="odd",port="",subnet="",vpc=""}',
        stats: {},
        ofport: -1,
      },
    ]);
    expect(snap.byLinkState.unknown).toBe(2);
  });
});

describe('interface collector on the agent registry', () => {
  it('exposes the statistics as counters and link/MTU/ofport as gauges, labelled', async () => {
    const { text } = setup(source(ROWS));
    const out = await text();
    expect(out).toContain('# TYPE vpc_agent_interface_rx_bytes_total counter');
    expect(out).toContain(
      'vpc_agent_interface_rx_bytes_total{interface="h-vm1",port="vm1",subnet="subnet-a",vpc="vpc-1"} 1398',
    );
    expect(out).toContain(
      'vpc_agent_interface_tx_packets_total{interface="br-int",port="",subnet="",vpc=""} 0',
    );
    expect(out).toContain('# TYPE vpc_agent_interface_link_up gauge');
    expect(out).toContain('vpc_agent_interface_link_up{interface="br-int",port="",subnet="",vpc=""} 0');
    expect(out).toContain(
      'vpc_agent_interface_mtu_bytes{interface="h-vm2",port="vm2",subnet="subnet-b",vpc="vpc-1"} 1500',
    );
    expect(out).toContain('vpc_agent_interfaces{link_state="up"} 2');
    expect(out).toContain('vpc_agent_bridge_ports{bridge="br-int"} 3');
    expect(out).toContain('vpc_agent_interface_series_dropped 0');
    expect(out).toContain('vpc_agent_collector_errors_total{collector="interfaces"} 0');
  });

  it('follows the cache: a newer row replaces the values, a removed interface loses its series', async () => {
    const src = source(ROWS.map((r) => ({ ...r })));
    const { values } = setup(src);
    const rx = async () =>
      (await values('vpc_agent_interface_rx_bytes_total')).find((v) => v.labels['interface'] === 'h-vm1')
        ?.value;
    expect(await rx()).toBe(1398);
    const vm1 = src.rows.findIndex((r) => r['name'] === 'h-vm1');
    src.rows[vm1] = {
      ...src.rows[vm1]!,
      statistics: { ...(src.rows[vm1]!['statistics'] as object), rx_bytes: 5000 },
    };
    src.seqno++;
    expect(await rx()).toBe(5000);
    src.rows.splice(vm1, 1);
    src.seqno++;
    expect(await rx()).toBeUndefined();
  });

  it('perInterface false: only the node-level series', async () => {
    const { text } = setup(source(ROWS), { perInterface: false });
    const out = await text();
    expect(out).not.toMatch(/^vpc_agent_interface_\w+\{/m);
    expect(out).toContain('vpc_agent_interface_series_dropped 3');
    expect(out).toContain('vpc_agent_interfaces{link_state="down"} 1');
  });

  it('a disconnected client: one error per scrape, no interface series, the rest of the registry intact', async () => {
    const src = source(ROWS, false);
    const { text, values } = setup(src);
    const out = await text();
    expect(out).not.toMatch(/^vpc_agent_interface_\w+\{/m);
    expect(out).toContain('vpc_agent_collector_errors_total{collector="interfaces"} 1');
    expect(out).toContain('vpc_agent_nb_writer 0');
    src.online = true;
    expect((await values('vpc_agent_interface_rx_bytes_total')).length).toBe(3);
  });
});
