/**
 * `vpc-agent run --kubeconfig` as a process: the flag selects the Kubernetes source, the agent
 * converges `examples/vpc-two-subnets` from the fake API server (a fake: no real API server
 * runs here) into a real NB, follows a delete, and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listManifestFiles } from '../../../../agent/resources/index.js';
import { decodeManifestText } from '../../../../agent/resources/loader.js';
import { AGENT_CLI } from '../../../harness/agent.js';
import { ownedNames, until, useCentral } from '../nb/helpers.js';
import { useFakeApi } from './helpers.js';

describe('vpc-agent run --kubeconfig', () => {
  const env = useCentral();
  const ctx = useFakeApi();

  it('converges the seed from the API, follows a delete, exits 0 on SIGTERM', async () => {
    const { fake } = ctx;
    for (const file of await listManifestFiles(path.resolve('examples/vpc-two-subnets'))) {
      const { docs } = decodeManifestText(await readFile(file, 'utf8'), file);
      for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
    }
    const child = spawn(
      process.execPath,
      [
        ...AGENT_CLI,
        'run',
        '--kubeconfig',
        ctx.kubeconfig,
        '--nb',
        [env.central.nb.unix].flat().join(','),
        '--lock',
        'test_kube_cli',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, VPC_AGENT_LOG_LEVEL: 'info' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(async () => (await ownedNames(env.central, 'Logical_Switch')).length === 2, 'two switches');
      expect(stderr).toContain(`"source":"kubernetes:${fake.url}"`);
      const watched = new Set(fake.requests.filter((r) => r.query['watch']).map((r) => r.path));
      expect(watched.size).toBe(10);
      fake.delete('NetworkAttachmentDefinition', 'vswitch2', 'default');
      fake.delete('Subnet', 'vswitch2-subnet');
      await until(async () => (await ownedNames(env.central, 'Logical_Switch')).length === 1, 'one switch');
      process.kill(child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/^vpc-agent: /m);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
  });
});
