/**
 * `vpc-agent demo`: the README's first command. Brings up the local OVN sandbox (the embedded
 * default), runs the agent in this process on node1 with the manifests of
 * examples/vpc-two-subnets (the seeds' vpc-1: vswitch1-subnet 172.20.10.0/24, vswitch2-subnet
 * 172.20.20.0/24), attaches two VMs (network namespaces) through the agent's local port API —
 * the CNI ADD path — and shows them pinging each other through OVN, with the VM's routing table
 * to show that nobody added a route by hand. Then it deletes the ports, stops the agent and
 * tears the sandbox down (unless `--keep`).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { apiCall } from './api/index.js';
import type { PortResult } from './node/ports/index.js';
import { createAgent, type Agent } from './run.js';
import { run, waitUntil } from './sandbox/process.js';
import { createSandbox, DEFAULT_STATE_DIR, type Sandbox } from './sandbox/sandbox.js';

interface DemoOptions {
  stateDir: string;
  keep: boolean;
}

/** examples/ next to agent/ (from source) or next to dist/ (built). */
const MANIFESTS =
  ['..', '../..']
    .map((up) => path.resolve(import.meta.dirname, up, 'examples/vpc-two-subnets'))
    .find((p) => existsSync(p)) ?? path.resolve('examples/vpc-two-subnets');
const VMS = [
  { name: 'vm1', network: 'default/vswitch1' },
  { name: 'vm2', network: 'default/vswitch2' },
] as const;

const say = (line: string) => process.stdout.write(line + '\n');
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(2);

/** Pings until the first answer (a just-bound port may take a moment), then 3 more; the summary line. */
async function ping(netns: string, ip: string): Promise<string | undefined> {
  const once = async (n: number) =>
    run('ping', ['-c', String(n), '-i', '0.2', '-W', '1', '-q', ip], { netns, reject: false });
  try {
    await waitUntil(async () => (await once(1)).exitCode === 0, { what: 'ping', timeoutMs: 15_000 });
  } catch {
    return undefined;
  }
  const r = await once(3);
  if (r.exitCode !== 0) return undefined;
  const loss = /(\d+) received/.exec(r.stdout)?.[1];
  const avg = /= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1];
  return `${loss}/3 replies, rtt avg ${avg} ms`;
}

async function startAgent(sb: Sandbox, socket: string): Promise<Agent> {
  const node = sb.node();
  const agent = createAgent(
    {},
    {
      manifests: MANIFESTS,
      nb: sb.state.nb!.db,
      sb: sb.state.sb!.db,
      ovs: node.ovsRemote,
      node: node.name,
      netns: node.netns,
      apiSocket: socket,
    },
  );
  await agent.start();
  await agent.loaded;
  await waitUntil(() => agent.writer.isWriter(), { what: 'the NB writer lock', timeoutMs: 15_000 });
  await agent.engine.settled();
  return agent;
}

async function showVms(sb: Sandbox, socket: string): Promise<boolean> {
  const ports: PortResult[] = [];
  for (const vm of VMS) {
    const netns = `${sb.state.id}-${vm.name}`;
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const p = await apiCall<PortResult>('POST', '/v1/ports', { network: vm.network, netns }, { socket });
    ports.push(p);
    say(
      `  ${vm.name}: ${p.ifname} ${p.ip}/${p.prefix} on ${p.subnet}, mac ${p.mac}` +
        ` (ready in ${Math.round(p.timings?.['total'] ?? 0)} ms)`,
    );
  }
  const [a, b] = ports as [PortResult, PortResult];
  say(`\nvm1's routes — the agent set them; nobody added a route by hand:`);
  for (const l of (await run('ip', ['-n', a.netns, 'route'])).stdout.split('\n')) say(`    ${l.trim()}`);

  say('\nPings through OVN (inside the VM namespaces):');
  const results = await Promise.all([ping(a.netns, b.ip), ping(b.netns, a.ip)]);
  say(`  vm1 -> vm2 (${b.ip}): ${results[0] ? 'ok, ' + results[0] : 'FAILED'}`);
  say(`  vm2 -> vm1 (${a.ip}): ${results[1] ? 'ok, ' + results[1] : 'FAILED'}`);
  return results.every((r) => r !== undefined);
}

/** Runs the demo; resolves to true when every ping went through. */
export async function runDemo(opts: DemoOptions): Promise<boolean> {
  const t0 = performance.now();
  say(`Starting the local OVN sandbox in ${opts.stateDir} ...`);
  const sb = await createSandbox({ stateDir: opts.stateDir, nodes: 1 });
  const socket = path.join(sb.stateDir, 'agent.sock');
  let agent: Agent | undefined;
  let ok = false;
  try {
    const node = sb.node();
    say(`  up in ${secs(t0)} s: NB ${sb.state.nb?.db}, SB ${sb.state.sb?.db}`);
    say(`  ${node.name}: ovs-vswitchd + ovn-controller in network namespace ${node.netns}`);

    const t1 = performance.now();
    say(
      `\nStarting vpc-agent on ${node.name} with ${path.relative(process.cwd(), MANIFESTS) || MANIFESTS} ...`,
    );
    agent = await startAgent(sb, socket);
    const rows = Object.entries(agent.engine.counts().owned).map(([t, n]) => `${n} ${t}`);
    say(`  converged in ${secs(t1)} s; Northbound rows it owns: ${rows.join(', ')}`);

    say(`\nTwo VMs (network namespaces) attached through the agent's port API (${socket}):`);
    ok = await showVms(sb, socket);
  } catch (err) {
    say(`\nDemo error: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (opts.keep) {
      await agent?.stop();
      say(
        `\nKept the sandbox (the agent stopped with the demo; NB rows and VMs stay).` +
          `\nStop it with: npx tsx agent/cli.ts sandbox down --state-dir ${opts.stateDir}`,
      );
    } else {
      if (agent)
        for (const vm of VMS)
          await apiCall('DELETE', '/v1/ports', { netns: `${sb.state.id}-${vm.name}` }, { socket }).catch(
            () => undefined,
          );
      await agent?.stop();
      await sb.destroy();
      await rm(socket, { force: true });
      say('\nTorn down: ports deleted, agent stopped, sandbox processes stopped by PID, namespaces deleted.');
    }
  }
  say(ok ? '\nDemo OK.' : '\nDemo FAILED.');
  return ok;
}

/** Registers `vpc-agent demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start the local OVN sandbox and the agent, show two VMs on a VPC pinging, tear it down')
    .option('--state-dir <dir>', 'sandbox state directory', `${DEFAULT_STATE_DIR}/demo`)
    .option('--keep', 'leave the sandbox running', false)
    .action(async (opts: DemoOptions) => {
      if (!(await runDemo(opts))) process.exitCode = 1;
    });
}
