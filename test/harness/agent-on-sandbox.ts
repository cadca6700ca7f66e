/**
 * One agent process on a one-node sandbox for a whole e2e file: the sandbox and a temporary
 * directory, an example's manifests copied in, the agent started in `beforeAll`; in `afterAll`
 * every VM's ports are deleted, the agent stopped and the VM namespaces deleted.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { cleanUpAgent, createVmNamespace, startAgentProcess, type AgentProcess } from './agent.js';
import { made, useSandbox, useTmpDir, type Sandbox, type TestSandboxOptions } from './index.js';

export interface AgentOnSandbox {
  readonly sandbox: Sandbox;
  readonly agent: AgentProcess;
  readonly dir: string;
  /** A VM namespace `<sandbox id>-<name>`, deleted after the file. */
  vm(name: string): Promise<string>;
  /** The VM namespaces made so far. */
  readonly vms: readonly string[];
}

export function useAgentOnSandbox(opts: {
  prefix: string;
  example?: string;
  /** Extra `run` flags; a function when they name the sandbox's files (sockets, directories). */
  args?: string[] | ((sandbox: Sandbox) => string[]);
  /** Sandbox options beside its one node (e.g. `clustered`). */
  sandbox?: Omit<TestSandboxOptions, 'nodes'>;
}): AgentOnSandbox {
  const ctx = useSandbox({ ...opts.sandbox, nodes: 1 });
  const tmp = useTmpDir(opts.prefix);
  let agent: AgentProcess | undefined;
  const vms: string[] = [];
  beforeAll(async () => {
    const example = path.resolve('examples', opts.example ?? 'vpc-two-subnets');
    await cp(example, path.join(tmp.dir, 'manifests'), { recursive: true });
    agent = await startAgentProcess({
      sandbox: ctx.sandbox,
      dir: tmp.dir,
      ...(opts.args ? { args: typeof opts.args === 'function' ? opts.args(ctx.sandbox) : opts.args } : {}),
    });
  });
  afterAll(() => cleanUpAgent(agent, vms));
  return {
    get sandbox() {
      return ctx.sandbox;
    },
    get agent() {
      return made(agent, 'useAgentOnSandbox');
    },
    get dir() {
      return tmp.dir;
    },
    async vm(name) {
      const ns = await createVmNamespace(ctx.sandbox, name);
      vms.push(ns);
      return ns;
    },
    vms,
  };
}
