/**
 * Every node serves its own ports: three sandbox nodes (each its own Open_vSwitch, vswitchd and
 * ovn-controller), one agent process per node, all reading the same manifests (as a ConfigMap
 * mounted on every node would be). Only one of them is the Northbound writer.
 *
 * Checked: concurrent adds on every node at once into ONE subnet — every add succeeds, writer
 * or not; every IP and MAC is distinct; every port's SB binding is up on its own node's
 * chassis; the writer prunes none of the nodes' LSPs. Then the writer is killed (SIGKILL): a
 * standby takes over, every LSP is still there, and a new port gets an address no other port
 * holds. Each node deletes its own ports at the end.
 */
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { run, waitUntil } from '../../../agent/sandbox/process.js';
import { createVmNamespace, nbRows, startAgentProcess, type AgentProcess } from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';

const NODES = ['node1', 'node2', 'node3'];
const ctx = useSandbox({ nodes: NODES.length });
const tmp = useTmpDir('multi');
const agents = new Map<string, AgentProcess>();
const vms = new Map<string, string[]>();

async function portRows() {
  return (await nbRows(ctx.sandbox, 'Logical_Switch_Port')).filter(
    (r) => r.external_ids?.['vpc-agent.io/node'] !== undefined,
  );
}

/** SB: logical port → chassis name it is bound to. */
async function bindings(): Promise<Map<string, string>> {
  const chassis = JSON.parse(
    await ctx.sandbox.sbctl('--format=json', '--columns=_uuid,name', 'list', 'Chassis'),
  ) as {
    data: [[string, string], string][];
  };
  const names = new Map(chassis.data.map(([[, u], n]) => [u, n]));
  const pb = JSON.parse(
    await ctx.sandbox.sbctl('--format=json', '--columns=logical_port,chassis', 'list', 'Port_Binding'),
  ) as { data: [string, [string, unknown]][] };
  const out = new Map<string, string>();
  for (const [lp, ch] of pb.data) {
    if (ch[0] === 'uuid') out.set(lp, names.get(ch[1] as string) ?? '');
  }
  return out;
}

beforeAll(async () => {
  const manifests = path.join(tmp.dir, 'manifests');
  await cp(path.resolve('examples/vpc-two-subnets'), manifests, { recursive: true });
  for (const node of NODES) {
    const dir = path.join(tmp.dir, node);
    await mkdir(dir, { recursive: true });
    agents.set(node, await startAgentProcess({ sandbox: ctx.sandbox, dir, node, manifests }));
    vms.set(node, []);
  }
});

afterAll(async () => {
  for (const [node, a] of agents) {
    if (a.pid !== undefined)
      for (const ns of vms.get(node) ?? []) await a.api.del({ netns: ns }).catch(() => undefined);
    await a.stop();
  }
  for (const list of vms.values())
    for (const ns of list) await run('ip', ['netns', 'del', ns], { reject: false });
});

describe('every node serves its own ports', () => {
  let ports: (PortResult & { node: string })[] = [];

  it('concurrent adds on all three nodes into one subnet: distinct addresses, each bound on its own chassis', async () => {
    const writers = await Promise.all(NODES.map(async (n) => (await agents.get(n)!.debug()).writer));
    expect(writers.filter(Boolean)).toHaveLength(1);
    const jobs: Promise<PortResult & { node: string }>[] = [];
    for (const node of NODES) {
      for (let i = 0; i < 4; i++) {
        const ns = await createVmNamespace(ctx.sandbox, `${node}-vm${i}`);
        vms.get(node)!.push(ns);
        jobs.push(
          agents
            .get(node)!
            .api.add({ network: 'default/vswitch1', netns: ns })
            .then((p) => ({ ...p, node })),
        );
      }
    }
    ports = await Promise.all(jobs);
    expect(ports).toHaveLength(12);
    expect(new Set(ports.map((p) => p.ip)).size).toBe(12);
    expect(new Set(ports.map((p) => p.mac)).size).toBe(12);
    expect(ports.every((p) => p.binding === 'up')).toBe(true);
    const bound = await bindings();
    for (const p of ports) expect(bound.get(p.name), p.name).toBe(p.node);
    // Each node's LSPs carry its own owner id; the writer pruned none of them.
    const rows = await portRows();
    for (const p of ports) {
      const row = rows.find((r) => r['name'] === p.name);
      expect(row?.external_ids?.['vpc-agent.io/owner']).toBe(`vpc-agent/node/${p.node}`);
    }
    // The addresses are on the VMs' interfaces.
    const sample = ports[5]!;
    const addr = await run('ip', ['-n', sample.netns, '-br', '-4', 'addr', 'show', 'eth0']);
    expect(addr.stdout).toContain(`${sample.ip}/24`);
  });

  it('the writer killed: a standby takes over, no LSP is lost, a new port gets a free address', async () => {
    const states = await Promise.all(
      NODES.map(async (n) => [n, (await agents.get(n)!.debug()).writer] as const),
    );
    const writerNode = states.find(([, w]) => w)![0];
    const writer = agents.get(writerNode)!;
    await writer.kill();
    const others = NODES.filter((n) => n !== writerNode);
    await waitUntil(
      async () => {
        const ws = await Promise.all(others.map(async (n) => (await agents.get(n)!.debug()).writer));
        return ws.some(Boolean);
      },
      { what: 'a standby took the writer lock', timeoutMs: 30_000 },
    );
    const next = others[0]!;
    const ns = await createVmNamespace(ctx.sandbox, `${next}-late`);
    vms.get(next)!.push(ns);
    const late = await agents.get(next)!.api.add({ network: 'default/vswitch1', netns: ns });
    expect(ports.map((p) => p.ip)).not.toContain(late.ip);
    expect(ports.map((p) => p.mac)).not.toContain(late.mac);
    const names = new Set((await portRows()).map((r) => r['name']));
    for (const p of ports) expect(names.has(p.name), p.name).toBe(true);
    expect(names.has(late.name)).toBe(true);
    // The killed node comes back and finds its ports as they were.
    await writer.start();
    const listed = await writer.api.list();
    expect(listed.map((p) => p.name).sort()).toEqual(
      ports
        .filter((p) => p.node === writerNode)
        .map((p) => p.name)
        .sort(),
    );
  });

  it('each node deletes its own ports: no node port LSP is left', async () => {
    for (const [node, a] of agents) for (const ns of vms.get(node)!) await a.api.del({ netns: ns });
    expect(await portRows()).toEqual([]);
  });
});
