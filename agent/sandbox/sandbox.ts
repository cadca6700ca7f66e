/**
 * The local OVN sandbox — the embedded default of the product CLI and the test harness:
 * ovn-central (NB, SB, northd) plus N chassis in network namespaces, all plain processes in
 * a private state directory, described by `<stateDir>/state.json` (see ./state.ts).
 *
 * `createSandbox` returns once every daemon is ready; `destroySandbox` stops every recorded
 * or pid-filed process whose command line names the state directory (guarding against PID
 * reuse) and deletes every namespace recorded or carrying the sandbox's id prefix.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { startCentral } from './central.js';
import { type ChassisInfo, startChassis, vsctl } from './chassis.js';
import { log } from './log.js';
import { isAlive, readPidFile, run, type RunOptions, type RunResult, stopPid } from './process.js';
import { readState, type SandboxState, STATE_VERSION, StateWriter, statePath } from './state.js';
import { createVm, deleteVm, type VmInfo, type VmOptions } from './vm.js';

/** Default state directory of the CLI: `.sandbox/` under the current directory (gitignored). */
export const DEFAULT_STATE_DIR = '.sandbox';

export interface SandboxOptions {
  stateDir: string;
  /** Number of chassis (default 1), named node1..nodeN. */
  nodes?: number;
  /** NB and SB as 3-member RAFT clusters (default standalone). */
  clustered?: boolean;
}

/** Encap (Geneve tunnel) IP of node i (0-based): 198.18.0.0/24 (RFC 2544 benchmarking range). */
export function encapIp(i: number): string {
  return `198.18.0.${i + 1}`;
}

export interface AddVmOptions extends Omit<VmOptions, 'netns' | 'onNamespace'> {
  /** Node name (default: the first node). */
  node?: string;
}

export interface Sandbox {
  readonly state: SandboxState;
  readonly stateDir: string;
  node(name?: string): ChassisInfo;
  /** `ovn-nbctl --db=<NB> --timeout=30 ...args`, returns stdout. */
  nbctl(...args: string[]): Promise<string>;
  sbctl(...args: string[]): Promise<string>;
  vsctl(node: string, ...args: string[]): Promise<string>;
  addVm(opts: AddVmOptions): Promise<VmInfo>;
  deleteVm(name: string): Promise<void>;
  /** Runs a command inside a VM's namespace. */
  exec(vm: string, cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  destroy(): Promise<DestroyReport>;
}

function makeSandbox(writer: StateWriter): Sandbox {
  const state = writer.state;
  const db = (which: 'nb' | 'sb') => {
    const e = state[which];
    if (!e) throw new Error(`sandbox ${state.stateDir} has no ${which.toUpperCase()} database`);
    return e.db;
  };
  const node = (name?: string) => {
    const n = name === undefined ? state.nodes[0] : state.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`sandbox ${state.stateDir} has no node ${name ?? '(any)'}`);
    return n;
  };
  const vmByName = (name: string) => {
    const v = state.vms.find((x) => x.name === name);
    if (!v) throw new Error(`sandbox ${state.stateDir} has no VM ${name}`);
    return v;
  };
  return {
    state,
    stateDir: state.stateDir,
    node,
    async nbctl(...args) {
      return (await run('ovn-nbctl', [`--db=${db('nb')}`, '--timeout=30', ...args], { timeoutMs: 35_000 }))
        .stdout;
    },
    async sbctl(...args) {
      return (await run('ovn-sbctl', [`--db=${db('sb')}`, '--timeout=30', ...args], { timeoutMs: 35_000 }))
        .stdout;
    },
    vsctl: (name, ...args) => vsctl(node(name), args),
    async addVm(opts) {
      const n = node(opts.node);
      const vm = await createVm(n, {
        ...opts,
        netns: `${state.id}-${opts.name}`,
        onNamespace: (ns) => writer.update((s) => void s.namespaces.push(ns)),
      });
      await writer.update((s) => void s.vms.push(vm));
      return vm;
    },
    async deleteVm(name) {
      const vm = vmByName(name);
      await deleteVm(node(vm.node), vm);
      await writer.update((s) => {
        s.vms = s.vms.filter((v) => v.name !== name);
        s.namespaces = s.namespaces.filter((x) => x !== vm.netns);
      });
    },
    exec: (vm, cmd, args, opts) => run(cmd, args, { ...opts, netns: vmByName(vm).netns }),
    destroy: () => destroySandbox(state.stateDir),
  };
}

/**
 * Starts a sandbox in `stateDir` and resolves once NB/SB/northd and every chassis are ready.
 * A stale state (no process alive) is cleaned up first; a live one is an error. On failure
 * everything started so far is torn down before the error is rethrown.
 */
export async function createSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const stateDir = path.resolve(opts.stateDir);
  await mkdir(stateDir, { recursive: true });
  const old = await readState(stateDir);
  if (old) {
    const st = await sandboxStatus(stateDir);
    if (st.processes.some((p) => p.alive)) {
      throw new Error(`a sandbox is already running in ${stateDir} (run 'sandbox down' first)`);
    }
    await destroySandbox(stateDir);
  }
  const t0 = Date.now();
  const writer = new StateWriter({
    version: STATE_VERSION,
    id: `vs${randomBytes(2).toString('hex')}`,
    stateDir,
    clustered: opts.clustered ?? false,
    createdAt: new Date().toISOString(),
    ready: false,
    nodes: [],
    vms: [],
    processes: [],
    namespaces: [],
  });
  const state = writer.state;
  const onProcess = (procs: { name: string; pid: number }[]) =>
    writer.update((s) => void s.processes.push(...procs));
  const onNamespace = (ns: string) => writer.update((s) => void s.namespaces.push(ns));
  try {
    await writer.update(() => undefined);
    const central = await startCentral({
      dir: path.join(stateDir, 'central'),
      clustered: opts.clustered,
      onProcess,
    });
    await writer.update((s) => {
      s.nb = central.nb;
      s.sb = central.sb;
      s.northd = central.northd;
    });
    const count = opts.nodes ?? 1;
    const nodes = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        startChassis({
          name: `node${i + 1}`,
          netns: `${state.id}-node${i + 1}`,
          dir: path.join(stateDir, 'nodes', `node${i + 1}`),
          encapIp: encapIp(i),
          sbDb: central.sb.db,
          onNamespace,
          onProcess,
        }),
      ),
    );
    await writer.update((s) => {
      s.nodes = nodes;
      s.ready = true;
    });
    log.info({ stateDir, id: state.id, nodes: count, ms: Date.now() - t0 }, 'sandbox up');
    return makeSandbox(writer);
  } catch (err) {
    log.error({ err, stateDir }, 'sandbox start failed; tearing down');
    await destroySandbox(stateDir, { keepFiles: true }).catch((e: unknown) =>
      log.error({ err: e }, 'teardown'),
    );
    throw err;
  }
}

/** Opens the sandbox described by `<stateDir>/state.json` (e.g. one started by the CLI). */
export async function openSandbox(stateDir: string): Promise<Sandbox> {
  const state = await readState(path.resolve(stateDir));
  if (!state) throw new Error(`no sandbox state in ${path.resolve(stateDir)}`);
  return makeSandbox(new StateWriter(state));
}

/** All `*.pid` files below `dir`. */
async function pidFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.pid'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** True if `pid` runs and its command line mentions `stateDir` (i.e. it is really ours). */
async function ownedBy(pid: number, stateDir: string): Promise<boolean> {
  if (!(await isAlive(pid))) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').some((a) => a.includes(stateDir));
}

export interface DestroyReport {
  stateDir: string;
  stoppedPids: number[];
  deletedNamespaces: string[];
}

/**
 * Tears a sandbox down, tolerating partial or missing state: stops every PID recorded in the
 * state file or found in a pid file under `stateDir` whose command line names `stateDir`;
 * kills any process left inside the sandbox's namespaces; deletes every namespace recorded
 * or named `<id>-*`; then removes the state file and run directories unless `keepFiles`.
 */
export async function destroySandbox(
  stateDirArg: string,
  opts: { keepFiles?: boolean } = {},
): Promise<DestroyReport> {
  const stateDir = path.resolve(stateDirArg);
  const state = await readState(stateDir);
  const candidates = new Set<number>((state?.processes ?? []).map((p) => p.pid));
  for (const f of await pidFiles(stateDir)) {
    const pid = await readPidFile(f).catch(() => 0);
    if (pid > 0) candidates.add(pid);
  }
  const owned: number[] = [];
  for (const pid of candidates) if (await ownedBy(pid, stateDir)) owned.push(pid);
  await Promise.all(owned.map((pid) => stopPid(pid)));

  const namespaces = new Set(state?.namespaces ?? []);
  if (state?.id) {
    const list = await run('ip', ['netns', 'list'], { reject: false });
    for (const line of list.stdout.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      if (name.startsWith(`${state.id}-`)) namespaces.add(name);
    }
  }
  const deleted: string[] = [];
  for (const ns of namespaces) {
    const pids = await run('ip', ['netns', 'pids', ns], { reject: false });
    if (pids.exitCode !== 0) continue; // gone already
    const inside = pids.stdout
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
    await Promise.all(inside.map((pid) => stopPid(pid)));
    await run('ip', ['netns', 'del', ns]);
    deleted.push(ns);
  }
  if (!opts.keepFiles) {
    for (const sub of ['central', 'nodes'])
      await rm(path.join(stateDir, sub), { recursive: true, force: true });
    await rm(statePath(stateDir), { force: true });
  }
  log.info({ stateDir, stopped: owned.length, namespaces: deleted.length }, 'sandbox down');
  return { stateDir, stoppedPids: owned, deletedNamespaces: deleted };
}

export interface SandboxStatus {
  stateDir: string;
  exists: boolean;
  id?: string;
  ready: boolean;
  /** True when the state says ready and every recorded process is alive. */
  healthy: boolean;
  processes: { name: string; pid: number; alive: boolean }[];
  namespaces: { name: string; exists: boolean }[];
}

/** Reports which recorded processes are alive and which recorded namespaces exist. */
export async function sandboxStatus(stateDirArg: string): Promise<SandboxStatus> {
  const stateDir = path.resolve(stateDirArg);
  const state = await readState(stateDir);
  if (!state) return { stateDir, exists: false, ready: false, healthy: false, processes: [], namespaces: [] };
  const processes = await Promise.all(
    state.processes.map(async (p) => ({ ...p, alive: await ownedBy(p.pid, stateDir) })),
  );
  const list = (await run('ip', ['netns', 'list'], { reject: false })).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]);
  const namespaces = state.namespaces.map((name) => ({ name, exists: list.includes(name) }));
  return {
    stateDir,
    exists: true,
    id: state.id,
    ready: state.ready,
    healthy: state.ready && processes.every((p) => p.alive) && namespaces.every((n) => n.exists),
    processes,
    namespaces,
  };
}
