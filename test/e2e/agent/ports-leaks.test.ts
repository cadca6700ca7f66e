/**
 * 1,000 port add/del cycles, each on a namespace of its own that the test then deletes (VMs come
 * and go): the agent process ends with as many file descriptors — sockets among them, netlink
 * ones included — as it had after a warm-up, and no namespace, veth, OVS port or LSP of the
 * cycles is left. The agent is a real process on a sandbox node.
 */
import { cp, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../agent/sandbox/process.js';
import { startAgentProcess, type AgentProcess } from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';

const CYCLES = 1000;
const WARMUP = 20;
const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('leaks');
let agent: AgentProcess;

async function fds(pid: number): Promise<{ all: number; sockets: number }> {
  const dir = `/proc/${pid}/fd`;
  const entries = await readdir(dir);
  let sockets = 0;
  for (const e of entries) {
    const target = await readlink(path.join(dir, e)).catch(() => '');
    if (target.startsWith('socket:')) sockets++;
  }
  return { all: entries.length, sockets };
}

async function cycle(i: number): Promise<void> {
  const ns = `${ctx.sandbox.state.id}-leak${i}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    const p = await agent.api.add({ network: 'default/vswitch1', netns: ns });
    if (p.binding !== 'up') throw new Error(`cycle ${i}: ${p.name} not up`);
    const deleted = await agent.api.del({ netns: ns });
    if (deleted.length !== 1) throw new Error(`cycle ${i}: deleted ${deleted.length}`);
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
}

beforeAll(async () => {
  await cp(path.resolve('examples/vpc-two-subnets'), path.join(tmp.dir, 'manifests'), { recursive: true });
  agent = await startAgentProcess({ sandbox: ctx.sandbox, dir: tmp.dir });
});

afterAll(async () => {
  await agent?.stop();
});

describe('port add/del cycles', () => {
  it(`${CYCLES} cycles leak no file descriptor, socket or namespace`, { timeout: 600_000 }, async () => {
    for (let i = 0; i < WARMUP; i++) await cycle(i);
    const before = await fds(agent.pid!);
    for (let i = WARMUP; i < CYCLES; i++) await cycle(i);
    const after = await fds(agent.pid!);
    // A few descriptors may come and go (an API connection being closed): allow that, never growth per cycle.
    expect(after.all).toBeLessThanOrEqual(before.all + 2);
    expect(after.sockets).toBeLessThanOrEqual(before.sockets + 2);
    const left = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.includes('-leak'));
    expect(left).toEqual([]);
    const lsps = await ctx.sandbox.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port');
    expect(lsps).not.toContain('-leak');
    const ports = await ctx.sandbox.vsctl('node1', 'list-ports', 'br-int');
    expect(ports.split('\n').filter((p) => /^h[0-9a-f]{12}$/.test(p))).toEqual([]);
  });
});
