/**
 * Test harness: the same sandbox module the CLI uses (agent/sandbox), wrapped for vitest.
 *
 * - {@link useSandbox}: one sandbox per `describe`, created in a fresh temporary state
 *   directory in `beforeAll` and always destroyed in `afterAll` (also when a test or the
 *   setup failed). Set VPC_AGENT_KEEP=1 to keep the state directory (logs, databases).
 * - {@link withSandbox}: the same around a single function.
 * - {@link useTmpDir}: a temporary directory per `describe` (short path: unix socket
 *   paths are limited to 108 bytes).
 * - {@link leftovers}: what a destroyed sandbox left behind (must be nothing).
 * - {@link snapshotHost}: the root-namespace safety snapshot.
 */
import './env.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { isAlive, run } from '../../agent/sandbox/process.js';
import {
  createSandbox,
  destroySandbox,
  type Sandbox,
  type SandboxOptions,
} from '../../agent/sandbox/sandbox.js';
import type { SandboxState } from '../../agent/sandbox/state.js';

export { snapshotHost, type HostSnapshot } from './host.js';
export type { Sandbox } from '../../agent/sandbox/sandbox.js';

const keep = () => process.env['VPC_AGENT_KEEP'] === '1';

/** `v`, or an error saying that `what` is used before its `beforeAll` made it. */
export function made<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what}: not started yet (used outside a test, or beforeAll failed)`);
  return v;
}

/** Creates a temporary directory `/tmp/vpca-<prefix>-XXXXXX`. */
export function makeTmpDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `vpca-${prefix}-`));
}

/** A temporary directory for the running test, removed when it finishes (pass or fail). */
export async function tmpDirForTest(prefix: string): Promise<string> {
  const dir = await makeTmpDir(prefix);
  onTestFinished(async () => {
    if (!keep()) await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Registers beforeAll/afterAll hooks providing a temporary directory, removed afterwards. */
export function useTmpDir(prefix = 'tmp'): { readonly dir: string } {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await makeTmpDir(prefix);
  });
  afterAll(async () => {
    if (dir && !keep()) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (!dir) throw new Error('useTmpDir: directory not created yet (use it inside a test)');
      return dir;
    },
  };
}

export type TestSandboxOptions = Omit<SandboxOptions, 'stateDir'>;

/** Runs `fn` with a fresh sandbox and always destroys it (and its temporary state dir) after. */
export async function withSandbox<T>(opts: TestSandboxOptions, fn: (sb: Sandbox) => Promise<T>): Promise<T> {
  const stateDir = await makeTmpDir('sbx');
  try {
    return await fn(await createSandbox({ ...opts, stateDir }));
  } finally {
    await destroySandbox(stateDir);
    if (!keep()) await rm(stateDir, { recursive: true, force: true });
  }
}

/** Registers beforeAll/afterAll hooks: a sandbox for the enclosing `describe`. */
export function useSandbox(opts: TestSandboxOptions = {}): {
  readonly sandbox: Sandbox;
  readonly stateDir: string;
} {
  let stateDir: string | undefined;
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    stateDir = await makeTmpDir('sbx');
    sandbox = await createSandbox({ ...opts, stateDir });
  });
  afterAll(async () => {
    if (!stateDir) return;
    await destroySandbox(stateDir);
    if (!keep()) await rm(stateDir, { recursive: true, force: true });
  });
  return {
    get sandbox() {
      return made(sandbox, 'useSandbox');
    },
    get stateDir() {
      return made(stateDir, 'useSandbox');
    },
  };
}

/** Processes of `state` still alive and namespaces named `<id>-*` still present. */
export async function leftovers(state: SandboxState): Promise<{ pids: number[]; namespaces: string[] }> {
  const pids: number[] = [];
  for (const p of state.processes) if (await isAlive(p.pid)) pids.push(p.pid);
  const list = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  return { pids, namespaces: list.filter((n) => n.startsWith(`${state.id}-`)) };
}
