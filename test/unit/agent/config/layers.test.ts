/**
 * `run`'s settings from the command line, the environment and a config file: each flag from
 * each layer, the precedence between them, and errors naming the variable or the file's key.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedRunFlags } from '../../../../agent/config/flags.js';
import { envName } from '../../../../agent/config/layers.js';
import { registerRunCommand } from '../../../../agent/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vpca-layers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENV_KEYS = new Set<string>();
afterEach(() => {
  for (const k of ENV_KEYS) delete process.env[k];
  ENV_KEYS.clear();
});
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    ENV_KEYS.add(k);
    process.env[k] = v;
  }
}

/** Parses `vpc-agent run <args>` and returns the settings the agent would start with. */
async function settings(args: string[]): Promise<ParsedRunFlags> {
  let got: ParsedRunFlags | undefined;
  const program = new Command().exitOverride();
  registerRunCommand(program, async (parsed) => {
    got = parsed;
  });
  await program.parseAsync(['node', 'vpc-agent', 'run', ...args]);
  if (!got) throw new Error('run did not start');
  return got;
}

async function refusal(args: string[]): Promise<string> {
  try {
    await settings(args);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted ${args.join(' ')}`);
}

async function configFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('run settings: command line, environment, config file', () => {
  it('takes every kind of flag from the environment', async () => {
    setEnv({
      VPC_AGENT_MANIFESTS: '/etc/m',
      VPC_AGENT_NB: 'tcp:192.0.2.1:6641',
      VPC_AGENT_RESYNC: '5m',
      VPC_AGENT_NODE_LABEL: 'zone=a,rack=r1',
      VPC_AGENT_API: 'false',
      VPC_AGENT_PRETTY: 'true',
    });
    const s = await settings([]);
    expect(s.config.manifests).toBe('/etc/m');
    expect(s.config.nb).toBe('tcp:192.0.2.1:6641');
    expect(s.config.resyncMs).toBe(300_000);
    expect(s.config.nodeLabels).toEqual({ zone: 'a', rack: 'r1' });
    expect(s.config.apiSocket).toBeUndefined();
    expect(s.log.pretty).toBe(true);
  });

  it('reads a YAML config file keyed by long flag names', async () => {
    const file = await configFile(
      'agent.yaml',
      [
        'manifests: /etc/vpc-agent/manifests',
        'nb: tcp:192.0.2.1:6641',
        'sb: tcp:192.0.2.1:6642',
        'ovs: unix:/run/openvswitch/db.sock',
        'port-ready-timeout: 10s',
        'start-timeout: 0',
        'node-label:',
        '  topology.kubernetes.io/zone: z1',
        'api: false',
        'listen: 127.0.0.1:9470',
      ].join('\n'),
    );
    const s = await settings(['--config', file]);
    expect(s.config.sb).toBe('tcp:192.0.2.1:6642');
    expect(s.config.portReadyTimeoutMs).toBe(10_000);
    expect(s.config.startTimeoutMs).toBe(0);
    expect(s.config.nodeLabels).toEqual({ 'topology.kubernetes.io/zone': 'z1' });
    expect(s.config.apiSocket).toBeUndefined();
    expect(s.config.listen).toBe('127.0.0.1:9470');
  });

  it('lets the command line win over the environment, and both over the file', async () => {
    const file = await configFile(
      'prec.json',
      JSON.stringify({ manifests: '/file', nb: 'unix:/file.sock', resync: '1h' }),
    );
    setEnv({ VPC_AGENT_CONFIG: file, VPC_AGENT_NB: 'unix:/env.sock', VPC_AGENT_RESYNC: '2m' });
    const s = await settings(['--resync', '3m']);
    expect(s.config.manifests).toBe('/file');
    expect(s.config.nb).toBe('unix:/env.sock');
    expect(s.config.resyncMs).toBe(180_000);
  });

  it('names the variable or the file key that holds a bad value', async () => {
    setEnv({ VPC_AGENT_MANIFESTS: '/m', VPC_AGENT_NB: 'unix:/nb.sock', VPC_AGENT_RESYNC: 'soon' });
    expect(await refusal([])).toMatch(/^--resync: "soon" is not a duration.*\(from VPC_AGENT_RESYNC\)$/);
    setEnv({ VPC_AGENT_RESYNC: '1m', VPC_AGENT_PRETTY: 'maybe' });
    expect(await refusal([])).toBe('VPC_AGENT_PRETTY: "maybe" is not true or false');
    delete process.env['VPC_AGENT_PRETTY'];

    const bad = await configFile('bad.yaml', 'lock: "1bad"\n');
    expect(await refusal(['--config', bad])).toMatch(
      /^--lock: "1bad" is not an OVSDB id.*\(from the config file's lock\)$/,
    );
    const unknown = await configFile('unknown.yaml', 'nbb: unix:/x.sock\n');
    expect(await refusal(['--config', unknown])).toMatch(new RegExp(`^${unknown}: nbb: is not a setting`));
    const typed = await configFile('typed.yaml', 'api: [1]\n');
    expect(await refusal(['--config', typed])).toBe(`${typed}: api: must be true or false`);
    const notMap = await configFile('list.yaml', '- nb\n');
    expect(await refusal(['--config', notMap])).toMatch(/must be a mapping of flag names/);
    expect(await refusal(['--config', path.join(dir, 'missing.yaml')])).toMatch(
      /^--config: cannot read .*ENOENT/,
    );
  });

  it('a value flag with a --no- form: its variable and key take a value, or false for the --no- form', async () => {
    setEnv({
      VPC_AGENT_MANIFESTS: '/m',
      VPC_AGENT_NB: 'unix:/nb.sock',
      VPC_AGENT_OVS: 'unix:/ovs.sock',
      VPC_AGENT_SB: 'unix:/sb.sock',
    });
    setEnv({ VPC_AGENT_CNI_SOCKET: '/run/x/cni.sock' });
    expect((await settings([])).config.cniSocket).toBe('/run/x/cni.sock');
    setEnv({ VPC_AGENT_CNI_SOCKET: 'false' });
    expect((await settings([])).config.cniSocket).toBeUndefined();
    delete process.env['VPC_AGENT_CNI_SOCKET'];
    const off = await configFile('nocni.yaml', 'cni-socket: false\n');
    expect((await settings(['--config', off])).config.cniSocket).toBeUndefined();
  });

  it('still requires --nb when no layer gives it', async () => {
    expect(await refusal(['--manifests', '/m'])).toBe('--nb: is required (the OVN Northbound remotes)');
  });

  it('documents each variable in --help', () => {
    const program = new Command();
    registerRunCommand(program, async () => {});
    const help = program.commands.find((c) => c.name() === 'run')!.helpInformation();
    for (const v of [
      'VPC_AGENT_NB',
      'VPC_AGENT_PORT_READY_TIMEOUT',
      'VPC_AGENT_CONFIG',
      'VPC_AGENT_API=true|false',
    ])
      expect(help).toContain(v);
  });

  it("lists every flag with its variable in the README's settings table", async () => {
    const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');
    const program = new Command();
    registerRunCommand(program, async () => {});
    const run = program.commands.find((c) => c.name() === 'run')!;
    const missing = run.options
      .filter((o) => o.long !== '--help')
      .filter((o) => !readme.includes(`| \`${o.flags}\` | \`${envName(o)}\` |`))
      .map((o) => o.flags);
    expect(missing).toEqual([]);
  });
});
