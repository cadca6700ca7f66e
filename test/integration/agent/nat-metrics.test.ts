/**
 * NAT metrics against real nftables in a real namespace: each named counter of a gateway's table
 * becomes a Prometheus counter; a gateway whose table cannot be read is counted as a collector
 * error and the others still appear.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createNatMetrics } from '../../../agent/metrics/nat.js';
import { run } from '../../../agent/sandbox/process.js';
import { applyNftScript } from '../../../netlink/nftables.js';
import { closeNftContext } from '../../../netlink/libnftables.js';
import { useTestNamespaces } from '../../harness/netns.js';

const ns = useTestNamespaces('natm');

describe('NAT metrics', () => {
  it('reads every named counter of the gateways this node runs; an unreadable one is an error, not a gap', async () => {
    const gw = `${ns.prefix}gw`;
    await run('ip', ['netns', 'add', gw]);
    await applyNftScript(
      gw,
      [
        'table ip vpc-nat-gw {',
        '  counter snat-s1 { packets 7 bytes 700 }',
        '  counter dnat-d1 { packets 3 bytes 180 }',
        '}',
      ].join('\n'),
    );
    const registry = new Registry();
    createNatMetrics(
      {
        registry,
        view: {
          running: () => [
            { name: 'gw1', netns: gw },
            { name: 'gone', netns: `${ns.prefix}missing` },
          ],
          eipStates: () => ({ ready: 1, pending: 1 }),
        },
      },
      { minIntervalMs: 0 },
    );
    const text = await registry.metrics();
    expect(text).toContain('vpc_agent_nat_rule_packets_total{gateway="gw1",counter="snat-s1"} 7');
    expect(text).toContain('vpc_agent_nat_rule_bytes_total{gateway="gw1",counter="dnat-d1"} 180');
    expect(text).toContain('# TYPE vpc_agent_nat_rule_packets_total counter');
    expect(text).toMatch(/^vpc_agent_collector_errors_total\{collector="nat"\} 1$/m);
    expect(text).toContain('vpc_agent_nat_gateways 2');
    expect(text).toContain('vpc_agent_nat_eips{state="pending"} 1');
    closeNftContext(gw);
  });
});
