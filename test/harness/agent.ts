/**
 * The agent as a real process on a sandbox node, for e2e tests: `node --import tsx agent/cli.ts
 * run …` against the sandbox's NB/SB and the node's Open_vSwitch, with `--netns <node netns>`, a
 * manifests directory the test edits (the agent watches it), a local API socket and `/debug` on
 * a free port. Stopped by PID (SIGTERM, then SIGKILL).
 *
 * Workload ports go through the local API: {@link AgentProcess.api} calls it in-process (no
 * process start per call — fast), {@link AgentProcess.cli} runs `vpc-agent port …` as a process
 * (what a user or CNI plugin does). VMs are namespaces named `<sandbox id>-<name>` so that
 * `destroySandbox` reaps them if a test dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { apiCall, ApiClientError } from '../../agent/api/index.js';
import type { PortResult } from '../../agent/node/ports/index.js';
import type { AddPortRequest, DelPortRequest } from '../../agent/node/ports/request.js';
import { freePort, run, waitUntil, type RunResult } from '../../agent/sandbox/process.js';
import type { Sandbox } from '../../agent/sandbox/sandbox.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** `node` arguments that run the CLI from source. */
export const AGENT_CLI = ['--import', 'tsx', path.join(ROOT, 'agent/cli.ts')];

export interface AgentProcessOptions {
  sandbox: Sandbox;
  /** Working directory (socket, log); `manifests` defaults to `<dir>/manifests`. */
  dir: string;
  /** Sandbox node (default node1). */
  node?: string;
  manifests?: string;
  /** Resources from this API server (`--kubeconfig`) instead of the manifests directory. */
  kubeconfig?: string;
  /** Extra `run` flags (e.g. `--gateway-chassis node1`). */
  args?: string[];
  /** `--port-ready-timeout` in ms (default 20 s). */
  portReadyTimeoutMs?: number;
}

/** The subset of `/debug` the tests read. */
export interface AgentDebug {
  writer: boolean;
  desired: number;
  actual: number;
  problems: unknown[];
  validationErrors: { message: string }[];
  buildWarnings: { resource: string; message: string }[];
  reconcile: { passes: number; health: { healthy: boolean } };
  nodeWork?: {
    chassis: string;
    ovsOnline: boolean;
    sbOnline: boolean;
    last?: { problems: { code?: string; message: string }[] };
  };
}

export interface AgentProcess {
  readonly socket: string;
  /** The same API for the CNI plugin (`--cni-socket`). */
  readonly cniSocket: string;
  readonly listen: string;
  readonly manifests: string;
  readonly pid: number | undefined;
  /** Starts the process and waits until its API answers (also after a {@link stop}). */
  start(): Promise<void>;
  /** SIGTERM by PID and wait for the exit (SIGKILL after 15 s). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL by PID (a crash: nothing is released cleanly) and wait for the exit. */
  kill(): Promise<void>;
  /** The tail of the agent's log (for failure messages). */
  log(): Promise<string>;
  debug(): Promise<AgentDebug>;
  /** The local API, called in-process. */
  api: {
    add(req: AddPortRequest): Promise<PortResult>;
    del(req: DelPortRequest): Promise<PortResult[]>;
    list(): Promise<PortResult[]>;
  };
  /** `vpc-agent port <args…> --api-socket <socket>` as a process. */
  cli(args: string[]): Promise<RunResult>;
}

export async function startAgentProcess(opts: AgentProcessOptions): Promise<AgentProcess> {
  const sb = opts.sandbox;
  const node = sb.node(opts.node);
  const socket = path.join(opts.dir, 'agent.sock');
  const cniSocket = path.join(opts.dir, 'cni.sock');
  const logFile = path.join(opts.dir, 'agent.log');
  const manifests = opts.manifests ?? path.join(opts.dir, 'manifests');
  await mkdir(manifests, { recursive: true });
  const listen = `127.0.0.1:${await freePort()}`;
  let child: ChildProcess | undefined;

  const tail = async () => (await readFile(logFile, 'utf8').catch(() => '')).slice(-4000);
  const api = {
    async add(req: AddPortRequest) {
      try {
        return await apiCall<PortResult>('POST', '/v1/ports', req, { socket });
      } catch (err) {
        if (err instanceof ApiClientError) err.message += `\n${await tail()}`;
        throw err;
      }
    },
    async del(req: DelPortRequest) {
      return (await apiCall<{ deleted: PortResult[] }>('DELETE', '/v1/ports', req, { socket })).deleted;
    },
    async list() {
      return (await apiCall<{ ports: PortResult[] }>('GET', '/v1/ports', undefined, { socket })).ports;
    },
  };

  const agent: AgentProcess = {
    socket,
    cniSocket,
    listen,
    manifests,
    get pid() {
      return child?.pid;
    },
    async start() {
      const fd = openSync(logFile, 'a');
      const args = [
        ...AGENT_CLI,
        'run',
        ...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : ['--manifests', manifests]),
        ...['--nb', sb.state.nb!.db, '--sb', sb.state.sb!.db],
        ...['--ovs', node.ovsRemote, '--node', node.name, '--netns', node.netns],
        ...['--api-socket', socket, '--listen', listen],
        // The CNI plugin's socket in the test's directory, never the host's /run/openvswitch.
        ...['--cni-socket', cniSocket],
        ...['--port-ready-timeout', String(opts.portReadyTimeoutMs ?? 20_000)],
        ...(opts.args ?? []),
      ];
      const proc = spawn(process.execPath, args, {
        cwd: ROOT,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, VPC_AGENT_LOG_LEVEL: 'info' },
      });
      closeSync(fd);
      child = proc;
      await waitUntil(
        async () => {
          if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${await tail()}`);
          return api.list().then(
            () => true,
            () => false,
          );
        },
        { what: 'the agent API', timeoutMs: 60_000, intervalMs: 100 },
      );
    },
    async stop() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.pid === undefined) return;
      const pid = proc.pid;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => proc.exitCode === null && process.kill(pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.pid === undefined) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      process.kill(proc.pid, 'SIGKILL');
      await exited;
    },
    log: tail,
    async debug() {
      return (await (await fetch(`http://${listen}/debug`)).json()) as AgentDebug;
    },
    api,
    cli: (args) =>
      run(process.execPath, [...AGENT_CLI, 'port', ...args, '--api-socket', socket], {
        reject: false,
        timeoutMs: 60_000,
      }),
  };
  await agent.start();
  return agent;
}

/** A VM: an empty namespace `<sandbox id>-<name>` with `lo` up. */
export async function createVmNamespace(sb: Sandbox, name: string): Promise<string> {
  const ns = `${sb.state.id}-${name}`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/** One ping round from `netns` (true = answered). */
export async function ping(netns: string, ip: string, count = 2): Promise<boolean> {
  const r = await run('ping', ['-c', String(count), '-i', '0.2', '-W', '1', '-q', ip], {
    netns,
    reject: false,
  });
  return r.exitCode === 0;
}

/** Polls until `netns` reaches `ip` (a just-changed topology takes a moment to reach the datapath). */
export async function waitPing(netns: string, ip: string, timeoutMs = 20_000): Promise<void> {
  await waitUntil(() => ping(netns, ip, 1), { what: `ping ${netns} -> ${ip}`, timeoutMs, intervalMs: 100 });
}

/** Decodes RFC 7047 §5.1 notation as ovn-nbctl `--format=json` prints it. */
function decode(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const [tag, body] = v as [string, unknown];
  if (tag === 'uuid' || tag === 'named-uuid') return body;
  if (tag === 'set') return (body as unknown[]).map(decode);
  if (tag === 'map')
    return Object.fromEntries((body as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]));
  return v;
}

export type NbRow = Record<string, unknown> & { _uuid: string; external_ids?: Record<string, string> };

/** Every row of an NB table (all columns, decoded), through `ovn-nbctl list`. */
export async function nbRows(sb: Sandbox, table: string): Promise<NbRow[]> {
  const json = JSON.parse(await sb.nbctl('--format=json', 'list', table)) as {
    headings: string[];
    data: unknown[][];
  };
  return json.data.map(
    (cells) => Object.fromEntries(json.headings.map((h, i) => [h, decode(cells[i])])) as NbRow,
  );
}

/** Tables whose rows the agent marks with `vpc-agent.io/owner`. */
export const OWNED_NB_TABLES = [
  'Logical_Router',
  'Logical_Router_Port',
  'Logical_Router_Static_Route',
  'Logical_Router_Policy',
  'Logical_Switch',
  'Logical_Switch_Port',
  'ACL',
  'DHCP_Options',
  'NAT',
  'Gateway_Chassis',
] as const;

/** `table → names/keys` of the NB rows owned by the agent (`vpc-agent.io/owner` set). */
export async function ownedNbRows(sb: Sandbox): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of OWNED_NB_TABLES) {
    const rows = (await nbRows(sb, table)).filter((r) => r.external_ids?.['vpc-agent.io/owner']);
    if (rows.length > 0)
      out[table] = rows.map((r) => r.external_ids?.['vpc-agent.io/key'] ?? String(r['name'] ?? r._uuid));
  }
  return out;
}

/** Waits until ovn-controller on every chassis has caught up with NB (`ovn-nbctl --wait=hv sync`). */
export async function hvSync(sb: Sandbox): Promise<void> {
  await sb.nbctl('--wait=hv', 'sync');
}

/** A manifest document (one YAML document, as plain data). */
export type Manifest = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
};

/** Every document of `examples/<name>/*.yaml`, in file order. */
export async function readExample(name: string): Promise<Manifest[]> {
  const dir = path.join(ROOT, 'examples', name);
  const out: Manifest[] = [];
  for (const f of (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = parseAllDocuments(await readFile(path.join(dir, f), 'utf8'));
    for (const d of docs) if (d.contents) out.push(d.toJS() as Manifest);
  }
  return out;
}

/** The document of `kind`/`name` in `docs` (throws when absent: a test fixture error). */
export function find(docs: Manifest[], kind: string, name: string): Manifest {
  const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!d) throw new Error(`no ${kind}/${name} in the manifests`);
  return d;
}

/**
 * Writes `docs` as multi-document YAML to `<dir>/<file>` (`dir` created) atomically (a rename),
 * so the agent's watcher never reads half a file.
 */
export async function writeManifest(dir: string, file: string, docs: Manifest[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${file}.tmp`);
  await writeFile(tmp, docs.map((d) => stringify(d)).join('---\n'));
  await rename(tmp, path.join(dir, file));
}

/** Removes every file of the manifests directory. */
export async function clearManifests(dir: string): Promise<void> {
  for (const f of await readdir(dir)) await rm(path.join(dir, f), { force: true, recursive: true });
}

/** After a test file: deletes the ports of `vms` through `agent` (if running), stops it, deletes the namespaces. */
export async function cleanUpAgent(agent: AgentProcess | undefined, vms: readonly string[]): Promise<void> {
  if (agent?.pid !== undefined)
    for (const ns of vms) await agent.api.del({ netns: ns }).catch(() => undefined);
  await agent?.stop();
  for (const ns of vms) await run('ip', ['netns', 'del', ns], { reject: false });
}
