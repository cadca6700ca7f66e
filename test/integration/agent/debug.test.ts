/**
 * The debug pages of a running agent against real NB/SB/northd: `/debug/state` (resources with
 * their state and reason, reconcilers, pending diff, IPAM), `/debug/errors` (validation errors
 * naming kind/name/field), `?format=text`, `/debug/trace` (ovn-trace of one packet across the
 * VPC router) and `vpc-agent status` as a process.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agent/run.js';
import { run } from '../../../agent/sandbox/process.js';
import { BROKEN_SUBNET_YAML, exampleDir, FAST, nbctl, until, useCentral } from './nb/helpers.js';

const env = useCentral();

describe('debug pages', () => {
  it('state, errors, text, trace and the status CLI tell what is ready and why not', async () => {
    const { central } = env;
    const dir = await exampleDir('vpc-two-subnets', 'debug');
    await writeFile(path.join(dir, 'broken.yaml'), BROKEN_SUBNET_YAML);
    const agent = createAgent(
      {},
      {
        manifests: dir,
        nb: central.nb.unix,
        sb: central.sb.unix,
        listen: '127.0.0.1:0',
        lockName: 'test_debug',
        ...FAST,
      },
    );
    try {
      await agent.start();
      await until(() => agent.engine.stats.transactions >= 1, 'first transaction');
      await agent.engine.settled();
      const base = `http://${agent.address()}`;
      const get = async (p: string) => {
        const res = await fetch(`${base}${p}`);
        return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
      };

      const state = JSON.parse((await get('/debug/state')).text) as {
        writer: boolean;
        resources: { kind: string; name: string; state: string; reason?: string }[];
        reconcilers: { nb: { pending: { ops: Record<string, number> }; desired: object; actual: object } };
        ipam: { subnets: { subnet: string }[] };
      };
      expect(state.writer).toBe(true);
      const byName = Object.fromEntries(state.resources.map((r) => [`${r.kind}/${r.name}`, r]));
      expect(byName['Subnet/vswitch1-subnet']?.state).toBe('ready');
      expect(byName['Vpc/vpc-1']?.state).toBe('ready');
      expect(byName['NetworkAttachmentDefinition/default/vswitch1']?.state).toBe('ready');
      expect(byName['Subnet/broken-subnet']).toMatchObject({ state: 'invalid' });
      expect(byName['Subnet/broken-subnet']?.reason).toContain('spec.cidrBlock');
      // Converged: the next pass would send nothing.
      expect(Object.values(state.reconcilers.nb.pending.ops).every((n) => n === 0)).toBe(true);
      expect(state.reconcilers.nb.actual).toEqual(state.reconcilers.nb.desired);
      expect(state.ipam.subnets.map((s) => s.subnet).sort()).toEqual(['vswitch1-subnet', 'vswitch2-subnet']);

      // Drift made by hand shows up as pending until the writer repairs it.
      await agent.engine.stop();
      await nbctl(central, 'ls-del', 'vswitch2-subnet');
      await until(async () => {
        const s = JSON.parse((await get('/debug/state')).text) as typeof state;
        return (s.reconcilers.nb.pending.ops['insert'] ?? 0) > 0;
      }, 'pending inserts');
      agent.engine.start();
      await agent.engine.settled();

      const errors = JSON.parse((await get('/debug/errors')).text) as {
        validation: { kind: string; name: string; field: string }[];
      };
      expect(errors.validation).toContainEqual(
        expect.objectContaining({ kind: 'Subnet', name: 'broken-subnet', field: 'spec.cidrBlock' }),
      );

      const text = await get('/debug/state?format=text');
      expect(text.type).toContain('text/plain');
      expect(text.text).toMatch(/KIND\s+NAME\s+STATE\s+REASON/);
      expect(text.text).toMatch(/Subnet\s+broken-subnet\s+invalid\s+Subnet broken-subnet: spec\.cidrBlock/);
      expect(text.text).toMatch(/Subnet\s+vswitch1-subnet\s+ready/);
      expect((await get('/debug/errors?format=text')).text).toContain('field: spec.cidrBlock');

      // A trace from a port on vswitch1-subnet to one on vswitch2-subnet, through vpc-1.
      await nbctl(
        central,
        'lsp-add',
        'vswitch1-subnet',
        't1',
        '--',
        'lsp-set-addresses',
        't1',
        '0a:00:00:00:00:11 172.20.10.11',
      );
      await nbctl(
        central,
        'lsp-add',
        'vswitch2-subnet',
        't2',
        '--',
        'lsp-set-addresses',
        't2',
        '0a:00:00:00:00:12 172.20.20.12',
      );
      await until(
        () => agent.client.cache.lookup('Logical_Switch_Port', 'name', 't2').length > 0,
        'ports in the cache',
      );
      await nbctl(central, '--wait=sb', 'sync');
      const trace = JSON.parse(
        (await get('/debug/trace?from=t1&to=172.20.20.12&proto=tcp&dport=80')).text,
      ) as {
        datapath: string;
        microflow: string;
        output: string;
      };
      expect(trace.datapath).toBe('vswitch1-subnet');
      expect(trace.microflow).toContain('tcp.dst == 80');
      expect(trace.output).toContain('ingress(dp="vpc-1"');
      expect(trace.output).toMatch(
        /egress\(dp="vswitch2-subnet", inport="vswitch2-subnet-vpc-1", outport="t2"\)/,
      );
      expect(trace.output).toContain('/* output to "t2"');
      const bad = await get('/debug/trace?from=t1&to=nope');
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text)).toMatchObject({ param: 'to' });
      expect((await get('/debug/trace?from=ghost&to=172.20.20.12')).status).toBe(400);

      const cli = await run(
        process.execPath,
        ['--import', 'tsx', path.resolve('agent/cli.ts'), 'status', '--endpoint', agent.address()!],
        { reject: false, timeoutMs: 60_000 },
      );
      expect(cli.exitCode).toBe(2); // broken-subnet is not ready
      expect(cli.stdout).toMatch(/Subnet\s+vswitch2-subnet\s+ready/);
      expect(cli.stdout).toContain('not ready');
    } finally {
      await agent.stop();
    }
  });

  it('status says where it looked when no agent answers', async () => {
    const cli = await run(
      process.execPath,
      ['--import', 'tsx', path.resolve('agent/cli.ts'), 'status', '--endpoint', '127.0.0.1:9'],
      { reject: false, timeoutMs: 60_000 },
    );
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toContain('cannot reach the agent at http://127.0.0.1:9/debug/state');
  });
});
