/**
 * The README demo (`npm run demo` → `vpc-agent demo`): the agent runs on examples/vpc-two-subnets
 * in the sandbox, two VMs attach through its port API and ping each other with the default route
 * the agent set; everything is torn down.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { runDemo } from '../../agent/demo.js';
import { destroySandbox } from '../../agent/sandbox/sandbox.js';
import { run } from '../../agent/sandbox/process.js';
import { snapshotHost } from '../harness/index.js';

let dir = '';
afterAll(async () => {
  if (dir) {
    await destroySandbox(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

it('the README demo runs the agent on vpc-two-subnets, pings across the VPC and leaves nothing behind', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vpca-demo-'));
  const before = await snapshotHost();
  const namespaces = (await run('ip', ['netns', 'list'])).stdout;
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  let ok: boolean;
  try {
    ok = await runDemo({ stateDir: dir, keep: false });
  } finally {
    spy.mockRestore();
  }
  const text = out.join('');
  expect(ok, text).toBe(true);
  expect(text).toMatch(/Starting vpc-agent on node1 with examples\/vpc-two-subnets/);
  expect(text).toMatch(/vm1: eth0 172\.20\.10\.\d+\/24 on vswitch1-subnet/);
  expect(text).toMatch(/vm2: eth0 172\.20\.20\.\d+\/24 on vswitch2-subnet/);
  // vm1's routing table as printed: the default route the agent set.
  expect(text).toMatch(/^\s+default via 172\.20\.10\.1 dev eth0$/m);
  expect(text).toMatch(/vm1 -> vm2 \(172\.20\.20\.\d+\): ok, 3\/3 replies/);
  expect(text).toMatch(/vm2 -> vm1 \(172\.20\.10\.\d+\): ok, 3\/3 replies/);
  expect(text).toMatch(/Demo OK\./);
  expect((await run('ip', ['netns', 'list'])).stdout).toBe(namespaces);
  expect(await snapshotHost()).toEqual(before);
});
