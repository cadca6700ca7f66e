/**
 * NAT gateway metrics: the named nftables counter of every rule in each gateway this node runs
 * (one counter per SNAT/DNAT rule, two per FIP, one for hairpin; see docs/nat.md), and how many
 * EIPs are ready.
 *
 * The counters are read from the kernel at scrape time through one shared sampler (at most one
 * read per interval, concurrent scrapes share it) and exposed as counters: they only grow while
 * the table lives, and a re-created table starts again from zero, which `rate()` handles as a
 * counter reset. A gateway whose table cannot be read is counted in
 * `vpc_agent_collector_errors_total{collector="nat"}`; the others still appear.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { listNftCounters, type NftCounter } from '../../netlink/nftables.js';
import type { Logger } from '../log.js';
import { collectorMetrics, createSampler, setCounter } from './sampler.js';

export interface NatGatewaysView {
  /** The gateways this node runs now: name and namespace. */
  running(): { name: string; netns: string }[];
  /** EIPs of those gateways by state (`ready`, `pending`, `error`, …). */
  eipStates(): Record<string, number>;
}

export interface NatMetricsOptions {
  /** nft table of a gateway (default `vpc-nat-gw`). */
  table?: string;
  /** A read younger than this is served from the cache (default 5 s). */
  minIntervalMs?: number;
}

interface NatSample {
  counters: { gateway: string; counter: string; value: NftCounter }[];
}

export function createNatMetrics(
  deps: { registry: Registry; view: NatGatewaysView; log?: Logger },
  options: NatMetricsOptions = {},
): void {
  const table = options.table ?? 'vpc-nat-gw';
  const shared = collectorMetrics(deps.registry);
  const sampler = createSampler<NatSample>(
    async () => {
      const t0 = performance.now();
      const counters: NatSample['counters'] = [];
      let errors = 0;
      for (const gw of deps.view.running()) {
        try {
          for (const [counter, value] of await listNftCounters(gw.netns, 'ip', table))
            counters.push({ gateway: gw.name, counter, value });
        } catch (err) {
          errors++;
          deps.log?.debug({ err, gateway: gw.name }, 'NAT metrics: table not readable');
        }
      }
      shared.errors.inc({ collector: 'nat' }, errors);
      shared.refreshSeconds.set({ collector: 'nat' }, (performance.now() - t0) / 1000);
      return { counters };
    },
    { minIntervalMs: options.minIntervalMs ?? 5_000 },
  );
  shared.track(sampler);
  shared.errors.inc({ collector: 'nat' }, 0);
  const registers = [deps.registry];
  const perRule = (name: string, help: string, field: keyof NftCounter) =>
    new Counter({
      name,
      help,
      labelNames: ['gateway', 'counter'],
      registers,
      async collect() {
        const s = await sampler.get();
        this.reset();
        for (const c of s.counters)
          setCounter(this, c.value[field], { gateway: c.gateway, counter: c.counter });
      },
    });
  perRule(
    'vpc_agent_nat_rule_packets_total',
    'Packets translated by a NAT gateway rule, by gateway and rule counter (snat-<rule>, dnat-<rule>, fip-<rule>-in/-out, hairpin)',
    'packets',
  );
  perRule(
    'vpc_agent_nat_rule_bytes_total',
    'Bytes translated by a NAT gateway rule, by gateway and rule counter',
    'bytes',
  );
  new Gauge({
    name: 'vpc_agent_nat_gateways',
    help: 'NAT gateways this node runs',
    registers,
    collect() {
      this.set(deps.view.running().length);
    },
  });
  new Gauge({
    name: 'vpc_agent_nat_eips',
    help: 'EIPs of the NAT gateways this node runs, by state (ready, pending, degraded, error)',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(deps.view.eipStates())) this.set({ state }, n);
    },
  });
}
