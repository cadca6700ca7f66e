import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { runDemo } from '../../agent/demo.js';
import { destroySandbox } from '../../agent/sandbox/sandbox.js';
import { snapshotHost } from '../harness/index.js';

let dir = '';
afterAll(async () => {
  if (dir) {
    await destroySandbox(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

it('the README demo brings up OVN, pings across the VPC and leaves nothing behind', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vpca-demo-'));
  const before = await snapshotHost();
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
  expect(text).toMatch(/vm1 -> vm2: ok/);
  expect(text).toMatch(/vm2 -> vm1: ok/);
  expect(await snapshotHost()).toEqual(before);
});
