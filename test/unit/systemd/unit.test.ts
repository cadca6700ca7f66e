/** The systemd unit: systemd itself accepts it, and what it runs exists in the CLI. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../agent/cli.js';

const UNIT = new URL('../../../systemd/vpc-agent.service', import.meta.url).pathname;

describe('systemd/vpc-agent.service', () => {
  it('passes systemd-analyze verify', async () => {
    const { stderr } = await promisify(execFile)('systemd-analyze', ['verify', UNIT]);
    expect(stderr).toBe('');
  });

  it('starts the CLI and waits for /readyz with a command the CLI has, on the listen address it sets', async () => {
    const text = await readFile(UNIT, 'utf8');
    const line = (key: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(`${key}=`))
        ?.slice(key.length + 1);
    expect(line('ExecStart')).toBe('/usr/bin/node /opt/vpc-agent/dist/agent/cli.js run $VPC_AGENT_ARGS');
    // The agent reads the address it serves on from the variable the wait uses.
    const run = buildProgram().commands.find((c) => c.name() === 'run')!;
    expect(run.helpInformation()).toContain('VPC_AGENT_LISTEN');
    const post = line('ExecStartPost')!.split(' ');
    expect(post.slice(0, 3)).toEqual(['/usr/bin/node', '/opt/vpc-agent/dist/agent/cli.js', 'wait-ready']);
    expect(post).toContain('${VPC_AGENT_LISTEN}');
    expect(line('Environment')).toMatch(/^VPC_AGENT_LISTEN=127\.0\.0\.1:\d+$/);
    const commands = buildProgram().commands.map((c) => c.name());
    expect(commands).toEqual(expect.arrayContaining(['run', 'wait-ready', 'status']));
    const waitReady = buildProgram().commands.find((c) => c.name() === 'wait-ready')!;
    const flags = waitReady.options.map((o) => o.long);
    for (const f of post.filter((a) => a.startsWith('--'))) expect(flags).toContain(f);
    // The capabilities it keeps are the ones it grants.
    expect(line('AmbientCapabilities')).toBe(line('CapabilityBoundingSet'));
  });
});
