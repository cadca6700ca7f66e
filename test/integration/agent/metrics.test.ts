/**
 * `/metrics` of `vpc-agent run` (createAgent) against a real NB: the text exposition parses,
 * values follow reconciles (passes, transactions, owned rows, IPAM) and a bad resource shows in
 * the validation errors gauge and counter while the valid ones beside it converge.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agent/run.js';
import { BROKEN_SUBNET_YAML, exampleDir, until, useCentral } from './nb/helpers.js';

const env = useCentral();

/** Parsed exposition: `name{labels}` → value; every non-comment line must be `series value`. */
async function scrape(base: string): Promise<{ type: string; samples: Map<string, number> }> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(m, `exposition line: ${line}`).not.toBeNull();
    samples.set(m![1]!, Number(m![2]));
  }
  return { type: res.headers.get('content-type') ?? '', samples };
}

describe('GET /metrics', () => {
  it('exposes resources, IPAM, reconcile and connection metrics that follow the agent', async () => {
    const { central } = env;
    const dir = await exampleDir('vpc-two-subnets', 'metrics');
    const agent = createAgent(
      {},
      {
        manifests: dir,
        nb: central.nb.unix,
        listen: '127.0.0.1:0',
        pollMs: 100,
        debounceMs: 20,
        lockName: 'test_metrics',
      },
    );
    try {
      await agent.start();
      await agent.loaded;
      await until(() => agent.engine.stats.transactions >= 1, 'first transaction');
      await agent.engine.settled();
      const base = `http://${agent.address()}`;

      const first = await scrape(base);
      expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
      const s = first.samples;
      expect(s.get('vpc_agent_resources_valid{kind="Vpc"}')).toBe(1);
      expect(s.get('vpc_agent_resources_valid{kind="Subnet"}')).toBe(2);
      expect(s.get('vpc_agent_resources_valid{kind="NetworkAttachmentDefinition"}')).toBe(2);
      expect([...s.keys()].some((k) => k.startsWith('vpc_agent_resources_validation_errors{'))).toBe(false);
      expect(s.get('vpc_agent_nb_writer')).toBe(1);
      expect(s.get('vpc_agent_ovsdb_connected{database="OVN_Northbound"}')).toBe(1);
      expect(s.get('vpc_agent_ovsdb_reconnects_total{database="OVN_Northbound"}')).toBe(0);
      // The NB client's traffic: the monitor's dump in, the reconcile transaction out.
      expect(s.get('vpc_agent_ovsdb_received_bytes_total{database="OVN_Northbound"}')).toBeGreaterThan(1000);
      expect(s.get('vpc_agent_ovsdb_sent_bytes_total{database="OVN_Northbound"}')).toBeGreaterThan(1000);
      expect(s.get('vpc_agent_ovsdb_messages_received_total{database="OVN_Northbound"}')).toBeGreaterThan(2);
      expect(s.get('vpc_agent_nb_reconcile_transactions_total')).toBe(agent.engine.stats.transactions);
      expect(s.get('vpc_agent_nb_reconcile_ops_total{kind="insert"}')).toBeGreaterThan(0);
      expect(s.get('vpc_agent_nb_owned_rows{table="Logical_Router"}')).toBe(1);
      expect(s.get('vpc_agent_nb_owned_rows{table="Logical_Switch"}')).toBe(2);
      expect(s.get('vpc_agent_nb_reconcile_last_pass_timestamp_seconds')).toBeGreaterThan(1.6e9);
      expect(s.get('vpc_agent_nb_reconcile_pass_duration_seconds_count')).toBeGreaterThan(0);
      // vswitch1-subnet: 172.20.10.0/24 minus network, broadcast and .1-.9 (gateway included).
      expect(s.get('vpc_agent_ipam_addresses{subnet="vswitch1-subnet",state="used"}')).toBe(0);
      expect(s.get('vpc_agent_ipam_addresses{subnet="vswitch1-subnet",state="available"}')).toBe(245);
      agent.ipam.allocate('vswitch1-subnet', 'metrics-test-vm');
      const ipam = (await scrape(base)).samples;
      expect(ipam.get('vpc_agent_ipam_addresses{subnet="vswitch1-subnet",state="used"}')).toBe(1);
      expect(ipam.get('vpc_agent_ipam_addresses{subnet="vswitch1-subnet",state="available"}')).toBe(244);
      expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(0);

      // A bad resource beside the valid ones: skipped, counted, and everything else still converges.
      const passes = s.get('vpc_agent_nb_reconcile_passes_total')!;
      await writeFile(path.join(dir, 'bad.yaml'), BROKEN_SUBNET_YAML);
      await until(async () => {
        const x = (await scrape(base)).samples;
        return x.get('vpc_agent_resources_validation_errors{kind="Subnet"}') === 1 && x;
      }, 'bad subnet reported');
      await agent.engine.reconcileNow();
      const after = (await scrape(base)).samples;
      expect(after.get('vpc_agent_resources_errors_total{kind="Subnet"}')).toBe(1);
      expect(after.get('vpc_agent_resources_valid{kind="Subnet"}')).toBe(2);
      expect(after.get('vpc_agent_nb_reconcile_passes_total')).toBeGreaterThan(passes);
      expect(after.get('vpc_agent_nb_owned_rows{table="Logical_Switch"}')).toBe(2);
      const debug = (await (await fetch(`${base}/debug`)).json()) as { validationErrors: { name: string }[] };
      expect(debug.validationErrors.map((e) => e.name)).toEqual(['broken-subnet']);

      // Removing a subnet changes the series: its IPAM pool and switch are gone.
      await rm(path.join(dir, 'bad.yaml'));
      const vpcYaml = path.join(dir, 'vpc-1.yaml');
      const text = await readFile(vpcYaml, 'utf8');
      const docs = text.split('\n---\n').filter((d) => !d.includes('name: vswitch2'));
      await writeFile(vpcYaml, docs.join('\n---\n'));
      await until(async () => {
        const x = (await scrape(base)).samples;
        return x.get('vpc_agent_nb_owned_rows{table="Logical_Switch"}') === 1 && x;
      }, 'subnet removed');
      const gone = (await scrape(base)).samples;
      expect(gone.has('vpc_agent_ipam_addresses{subnet="vswitch2-subnet",state="used"}')).toBe(false);
      expect(gone.has('vpc_agent_resources_validation_errors{kind="Subnet"}')).toBe(false);
      // The error counter keeps its total.
      expect(gone.get('vpc_agent_resources_errors_total{kind="Subnet"}')).toBe(1);

      const notFound = await fetch(`${base}/nope`);
      expect(notFound.status).toBe(404);
      expect(((await notFound.json()) as { paths: string[] }).paths).toContain('/metrics');
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
