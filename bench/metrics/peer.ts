/**
 * The peer of the `metrics` benchmark: collection as OVS exporters of the ovs_exporter /
 * kube-ovn-pinger kind do it, one process per command per scrape:
 * - `ovs-appctl -t <ctl> dpctl/show`, `upcall/show` (the datapath values);
 * - `ovs-vsctl --format=json list Interface` for the interface columns our collector monitors, and
 *   `list Bridge` for each bridge's ports;
 * - `ovs-ofctl dump-aggregate <bridge>` per bridge (its flow count).
 * It parses the same values ours exposes (with our parsers for the unixctl texts, so only the
 * transport differs) and renders them into a prom-client registry, as an exporter would.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Counter, Gauge, Registry } from 'prom-client';
import { parseDpctlShow, parseUpcallShow } from '../../agent/metrics/datapath-parse.js';

const exec = promisify(execFile);

export interface PeerTarget {
  vswitchdCtl: string;
  ovsRemote: string;
  /** Directory of the `<bridge>.mgmt` sockets. */
  runDir: string;
}

/** Commands spawned per scrape for `bridges` bridges. */
export const peerProcessesPerScrape = (bridges: number) => 4 + bridges;

/** One scrape: spawn, parse, render. Returns the exposition text. */
export async function peerScrape(t: PeerTarget): Promise<string> {
  const appctl = (cmd: string) => exec('ovs-appctl', ['-t', t.vswitchdCtl, cmd]).then((r) => r.stdout);
  const vsctlList = (table: string, columns: string) =>
    exec(
      'ovs-vsctl',
      [`--db=${t.ovsRemote}`, '--timeout=10', '--format=json', `--columns=${columns}`, 'list', table],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    ).then((r) => JSON.parse(r.stdout) as { headings: string[]; data: unknown[][] });
  const [dpctl, upcall, table, bridgeTable] = await Promise.all([
    appctl('dpctl/show'),
    appctl('upcall/show'),
    vsctlList('Interface', 'name,statistics,link_state,mtu,ofport,external_ids'),
    vsctlList('Bridge', 'name,ports'),
  ]);
  const bridges = bridgeTable.data.map((r) => String(r[0]));
  const flows = await Promise.all(
    bridges.map(async (b) => {
      const out = (await exec('ovs-ofctl', ['dump-aggregate', `unix:${path.join(t.runDir, `${b}.mgmt`)}`]))
        .stdout;
      return Number(/flow_count=(\d+)/.exec(out)?.[1] ?? NaN);
    }),
  );

  const registry = new Registry();
  const registers = [registry];
  const lookups = new Counter({
    name: 'peer_dp_lookups_total',
    help: 'h',
    labelNames: ['datapath', 'result'],
    registers,
  });
  for (const dp of parseDpctlShow(dpctl)) {
    if (dp.lookups)
      for (const [k, v] of Object.entries(dp.lookups)) lookups.inc({ datapath: dp.name, result: k }, v);
  }
  const limit = new Gauge({ name: 'peer_upcall_flow_limit', help: 'h', labelNames: ['datapath'], registers });
  for (const u of parseUpcallShow(upcall)) if (u.flows) limit.set({ datapath: u.name }, u.flows.limit);
  const of = new Gauge({ name: 'peer_bridge_flows', help: 'h', labelNames: ['bridge'], registers });
  bridges.forEach((b, i) => of.set({ bridge: b }, flows[i]!));

  const ports = new Gauge({ name: 'peer_bridge_ports', help: 'h', labelNames: ['bridge'], registers });
  for (const r of bridgeTable.data) {
    const set = r[1];
    ports.set(
      { bridge: String(r[0]) },
      Array.isArray(set) && set[0] === 'set' ? (set[1] as unknown[]).length : 1,
    );
  }
  // ovs-vsctl JSON: {headings, data: [[name, ["map", [[k, v]…]], …]]}.
  const col = (n: string) => table.headings.indexOf(n);
  const stats = new Counter({
    name: 'peer_interface_stat_total',
    help: 'h',
    labelNames: ['interface', 'port', 'stat'],
    registers,
  });
  const pairs = (v: unknown) => (Array.isArray(v) && v[0] === 'map' ? (v[1] as [string, unknown][]) : []);
  for (const row of table.data) {
    const name = String(row[col('name')]);
    const port = String(pairs(row[col('external_ids')]).find(([k]) => k === 'iface-id')?.[1] ?? '');
    for (const [k, v] of pairs(row[col('statistics')])) {
      if (typeof v === 'number' && v >= 0) stats.inc({ interface: name, port, stat: k }, v);
    }
  }
  return registry.metrics();
}
