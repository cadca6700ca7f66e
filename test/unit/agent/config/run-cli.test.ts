/**
 * `vpc-agent run` as a process: a bad flag is refused before anything starts — exit 1 and one
 * line on stderr naming the flag.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../../../agent/sandbox/process.js';

const CLI = ['--import', 'tsx', path.resolve('agent/cli.ts'), 'run', '--manifests', '/nonexistent'];

const vpcAgentRun = (...args: string[]) =>
  run(process.execPath, [...CLI, ...args], { reject: false, timeoutMs: 60_000 });

describe('vpc-agent run flags', () => {
  it('exits 1 naming the flag, for a bad value and for a missing companion flag', async () => {
    const [duration, api] = await Promise.all([
      vpcAgentRun('--nb', 'unix:/nonexistent.sock', '--resync', '60x'),
      vpcAgentRun('--nb', 'unix:/nonexistent.sock', '--api-socket', '/tmp/vpca-none.sock'),
    ]);
    expect(duration.exitCode).toBe(1);
    expect(duration.stderr.trim()).toBe(
      'vpc-agent: --resync: "60x" is not a duration (use e.g. 500ms, 60s, 2m, 1h, or milliseconds)',
    );
    expect(api.exitCode).toBe(1);
    expect(api.stderr.trim()).toMatch(/^vpc-agent: --api-socket: needs --ovs and --sb/);
    // Two CLI processes load TypeScript through tsx: seconds on a busy 2-core machine.
  }, 60_000);

  it('exits 1 naming the kubeconfig when it has no cluster to talk to', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vpca-runcli-'));
    try {
      const kc = path.join(dir, 'kubeconfig');
      await writeFile(
        kc,
        JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }),
      );
      const r = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          path.resolve('agent/cli.ts'),
          'run',
          '--kubeconfig',
          kc,
          '--nb',
          'unix:/nonexistent.sock',
        ],
        { reject: false, timeoutMs: 60_000 },
      );
      expect(r.exitCode).toBe(1);
      expect(r.stderr.trim()).toBe('vpc-agent: kubeconfig: no current cluster (check current-context)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
