/**
 * `promtool check metrics` on the `/metrics` of a real `vpc-agent run` process on a sandbox node
 * (the registry `createMetrics` builds, as served over HTTP), after a workload port was added so
 * the port and reconcile histograms have samples.
 */
import '../../harness/env.js';
import { describe, expect, it } from 'vitest';
import { useAgentOnSandbox } from '../../harness/agent-on-sandbox.js';
import { promtoolCheckMetrics } from '../../harness/node-metrics.js';

const env = useAgentOnSandbox({ prefix: 'mprom' });

describe('the running agent’s /metrics', () => {
  it('is clean for promtool check metrics, with the text exposition content type', async () => {
    const ns = await env.vm('pm1');
    await env.agent.api.add({ network: 'default/vswitch1', netns: ns });
    const res = await fetch(`http://${env.agent.listen}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/^vpc_agent_ports_add_duration_seconds_count\{result="ok"\} 1$/m);
    expect(text).toContain('# TYPE vpc_agent_reconcile_passes_total counter');
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
    const check = await promtoolCheckMetrics(text);
    expect(check.problems).toBe('');
    expect(check.exitCode).toBe(0);
  });
});
