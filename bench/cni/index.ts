/**
 * The CNI benchmark: ADD → result latency through the CNI plugin as Multus calls it (one
 * process per ADD, CNI_* in the environment, the seeds' NAD config on stdin) — the native thin
 * plugin installed as `kube-ovn` (static C, the agent runs the command), its shell form (shell +
 * curl) and the plugin as one Node process (`vpc-agent-cni-bin`) — against our own `vpc-agent
 * port add` (one process per add, `node dist/agent/cli.js`), all served by one `vpc-agent run` on
 * a fresh 1-node sandbox.
 *
 * Phases, each side in turn (CNI first, then the CLI, on fresh namespaces made beforehand and
 * not timed): `--seq` ADDs one at a time, then `--ports` ADDs in one burst (all processes started
 * at once by one bash, ./burst.ts). Each latency is a process's wall time from start to exit, which includes the port
 * becoming ready (the SB Port_Binding up on this chassis). Also: the plugin's bare start-up
 * (VERSION, no agent call), and the DEL burst that cleans up. Results go to the console and
 * `bench/results/cni-<date>.json`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiCall } from '../../agent/api/client.js';
import { run } from '../../agent/sandbox/process.js';
import { createSandbox, destroySandbox } from '../../agent/sandbox/sandbox.js';
import {
  buildCniBundle,
  CNI_BUNDLE,
  CNI_THIN,
  cniEnv,
  installCniPlugin,
  invokeCni,
  type CniCall,
} from '../../test/harness/cni.js';
import { launchBurst, type BurstJob } from './burst.js';
import { prepareRuntime, startAgentDriver } from '../ports/agent.js';
import { createNetns, summarize, type Percentiles } from '../ports/measure.js';
import { portSpecs, SUBNETS, writeManifests } from '../ports/topology.js';

export interface CniBenchOptions {
  /** ADDs in the burst. */
  ports: number;
  /** ADDs one at a time before the burst. */
  seq: number;
  runtime: 'build' | 'dist' | 'tsx';
  out?: string | false;
  command: string;
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DIST_CLI = path.join(ROOT, 'dist', 'agent', 'cli.js');
const say = (s = '') => process.stdout.write(`${s}\n`);
const round = (p: Percentiles) => ({
  p50: +p.p50.toFixed(1),
  p99: +p.p99.toFixed(1),
  max: +p.max.toFixed(1),
});

/** A side of the comparison: one ADD (its ms) or the same as a job for the burst launcher. */
interface Side {
  one(netns: string, subnet: number, i: number): Promise<number>;
  job(netns: string, subnet: number, i: number): BurstJob;
}

const cliArgv = (socket: string, network: string, netns: string) => [
  process.execPath,
  DIST_CLI,
  'port',
  'add',
  '--network',
  network,
  '--netns',
  netns,
  '--api-socket',
  socket,
];

/** One `node dist/agent/cli.js port add` process; its wall time in ms. */
function cliAdd(socket: string, network: string, netns: string): Promise<number> {
  const t0 = performance.now();
  const [file, ...args] = cliArgv(socket, network, netns);
  return new Promise((resolve, reject) =>
    execFile(file!, args, { timeout: 300_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`port add ${netns}: ${stderr}`)) : resolve(performance.now() - t0),
    ),
  );
}

export async function runCniBench(opts: CniBenchOptions): Promise<boolean> {
  const loadBefore = (await run('uptime', [])).stdout.trim();
  const runtime = await prepareRuntime(opts.runtime);
  if (runtime.runtime !== 'node dist') throw new Error(`the CLI side needs dist/: ${runtime.note}`);
  say(`cni bench: ${runtime.note}`);
  await buildCniBundle();
  const bundleBytes = (await stat(CNI_BUNDLE)).size;
  const thinBytes = (await stat(CNI_THIN)).size;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpcb-cni-'));
  const created: string[] = [];
  const sbDir = path.join(dir, 'sbx');
  try {
    const bin = await installCniPlugin(dir);
    const sandbox = await createSandbox({ stateDir: sbDir, nodes: 1 });
    const manifests = path.join(dir, 'manifests');
    await writeManifests(manifests);
    const { driver, addWarmup } = await startAgentDriver({
      sandbox,
      manifests,
      dir,
      runtime: runtime.runtime,
    });
    const cniSocket = path.join(dir, 'cni.sock');
    const apiSocket = path.join(dir, 'agent.sock');
    try {
      const [w] = portSpecs(sandbox.state.id, 0, 1);
      created.push(w!.netns);
      await createNetns(w!.netns);
      await addWarmup(w!);

      const conf = (subnet: number) => ({
        cniVersion: '0.3.1',
        name: SUBNETS[subnet]!.network.split('/')[1],
        type: 'kube-ovn',
        server_socket: cniSocket,
        provider: SUBNETS[subnet]!.provider,
      });
      const addCall = (netns: string, subnet: number, i: number): CniCall => ({
        command: 'ADD',
        containerId: `bench-${i}`,
        netns: `/var/run/netns/${netns}`,
        ifname: 'eth0',
        args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'bench', K8S_POD_NAME: `pod-${i}` },
        config: conf(subnet),
      });
      // `vpc-agent-cni-bin`: the plugin as one Node process doing it itself.
      const addWith = (plugin: string): Side => ({
        one: async (netns, subnet, i) => {
          const r = await invokeCni(bin, plugin, addCall(netns, subnet, i));
          if (r.exitCode !== 0) throw new Error(`CNI ADD ${netns} (${plugin}): ${JSON.stringify(r.out)}`);
          return r.ms;
        },
        job: (netns, subnet, i) => {
          const call = addCall(netns, subnet, i);
          return {
            argv: [path.join(bin, plugin)],
            env: cniEnv(bin, call),
            stdin: JSON.stringify(call.config),
          };
        },
      });
      // `kube-ovn` is the native thin plugin, as install-cni puts it on nodes; `vpc-agent-cni-sh`
      // the shell form (curl) that stands in for it where no C compiler built it.
      const cniAdd = addWith('kube-ovn');
      const shAdd = addWith('vpc-agent-cni-sh');
      const nodeAdd = addWith('vpc-agent-cni-bin');

      // Bare start-up: VERSION reads stdin and prints, no agent call; beside it node doing nothing.
      const startup: number[] = [];
      const thinStartup: number[] = [];
      const nodeAlone: number[] = [];
      for (let i = 0; i < 20; i++) {
        const version = { command: 'VERSION' as const, config: { cniVersion: '1.0.0' } };
        startup.push((await invokeCni(bin, 'vpc-agent-cni-bin', version)).ms);
        thinStartup.push((await invokeCni(bin, 'kube-ovn', version)).ms);
        const t = performance.now();
        await run(process.execPath, ['-e', '0']);
        nodeAlone.push(performance.now() - t);
      }

      let next = 1;
      const specs = (n: number) => {
        const s = portSpecs(sandbox.state.id, next, n);
        next += n;
        created.push(...s.map((x) => x.netns));
        return s;
      };
      const prepare = async (n: number) => {
        const s = specs(n);
        for (const x of s) await createNetns(x.netns);
        return s;
      };
      // One at a time from here; a burst from one bash launcher (./burst.ts says why).
      const phase = async (label: string, n: number, burst: boolean, side: Side) => {
        const s = await prepare(n);
        const t0 = performance.now();
        let ms: number[];
        if (burst) {
          const out = await launchBurst(s.map((x) => side.job(x.netns, x.subnet, x.index)));
          const failed = out.jobs.find((j) => j.exitCode !== 0);
          if (failed) throw new Error(`${label}: an ADD failed: ${failed.stdout} ${failed.stderr}`);
          ms = out.jobs.map((j) => j.ms);
        } else
          ms = await s.reduce<Promise<number[]>>(
            async (acc, x) => [...(await acc), await side.one(x.netns, x.subnet, x.index)],
            Promise.resolve([]),
          );
        const seconds = (performance.now() - t0) / 1000;
        const sum = round(summarize(ms));
        say(
          `  ${label}: ${n} ADDs in ${seconds.toFixed(1)} s — p50 ${sum.p50} ms, p99 ${sum.p99} ms, max ${sum.max} ms`,
        );
        return { ports: n, seconds: +seconds.toFixed(2), ...sum };
      };
      const cliSide: Side = {
        one: (netns, subnet) => cliAdd(apiSocket, SUBNETS[subnet]!.network, netns),
        job: (netns, subnet) => ({ argv: cliArgv(apiSocket, SUBNETS[subnet]!.network, netns) }),
      };

      const cniSeq = await phase('cni  sequential', opts.seq, false, cniAdd);
      const shSeq = await phase('sh   sequential', opts.seq, false, shAdd);
      const nodeSeq = await phase('node sequential', opts.seq, false, nodeAdd);
      const cliSeq = await phase('cli  sequential', opts.seq, false, cliSide);
      const cniBurst = await phase('cni  burst     ', opts.ports, true, cniAdd);
      const shBurst = await phase('sh   burst     ', opts.ports, true, shAdd);
      const nodeBurst = await phase('node burst     ', opts.ports, true, nodeAdd);
      const cliBurst = await phase('cli  burst     ', opts.ports, true, cliSide);

      // Clean-up through the plugin: DEL of every CNI attachment, in one burst.
      const { ports } = await apiCall<{ ports: { containerId?: string; network: string }[] }>(
        'GET',
        '/v1/ports',
        undefined,
        { socket: apiSocket },
      );
      const t0 = performance.now();
      const dels = await launchBurst(
        ports
          .filter((p) => p.containerId)
          .map((p) => {
            const call: CniCall = {
              command: 'DEL',
              containerId: p.containerId!,
              ifname: 'eth0',
              config: conf(SUBNETS.findIndex((s) => s.network === p.network)),
            };
            return {
              argv: [path.join(bin, 'kube-ovn')],
              env: cniEnv(bin, call),
              stdin: JSON.stringify(call.config),
            };
          }),
      );
      const failedDel = dels.jobs.find((j) => j.exitCode !== 0);
      if (failedDel) throw new Error(`CNI DEL: ${failedDel.stdout} ${failedDel.stderr}`);
      const delMs = dels.jobs.map((j) => j.ms);
      const del = {
        ports: delMs.length,
        seconds: +((performance.now() - t0) / 1000).toFixed(2),
        ...round(summarize(delMs)),
      };
      const mem = await driver.memory();
      const report = {
        bench: 'cni',
        date: new Date().toISOString(),
        command: opts.command,
        host: {
          cpus: os.cpus().length,
          node: process.version,
          loadBefore,
          loadAfter: (await run('uptime', [])).stdout.trim(),
        },
        plugin: {
          bundleBytes,
          thinBytes,
          startupMs: round(summarize(startup)),
          nodeEmptyScriptMs: round(summarize(nodeAlone)),
          thinStartupMs: round(summarize(thinStartup)),
        },
        agent: { runtime: runtime.note, rssMiB: Math.round(mem.rssKiB / 102.4) / 10 },
        sequential: {
          cni: cniSeq,
          shellPlugin: shSeq,
          nodePlugin: nodeSeq,
          cli: cliSeq,
          p50Ratio: +(cniSeq.p50 / cliSeq.p50).toFixed(2),
        },
        burst: {
          launcher: 'bash (bench/cni/burst.ts)',
          cni: cniBurst,
          shellPlugin: shBurst,
          nodePlugin: nodeBurst,
          cli: cliBurst,
          p50Ratio: +(cniBurst.p50 / cliBurst.p50).toFixed(2),
          p99Ratio: +(cniBurst.p99 / cliBurst.p99).toFixed(2),
        },
        delBurst: del,
        goal: { p99Ms: 300, burstP99Met: cniBurst.p99 < 300 },
      };
      say(
        `  plugin start-up (VERSION, p50): native thin (${thinBytes} bytes) ${report.plugin.thinStartupMs.p50} ms, Node (${bundleBytes}-byte bundle) ${report.plugin.startupMs.p50} ms (node -e 0: ${report.plugin.nodeEmptyScriptMs.p50} ms); DEL burst of ${del.ports}: p50 ${del.p50} ms, p99 ${del.p99} ms`,
      );
      say(
        `  cni/cli ratio: sequential p50 ${report.sequential.p50Ratio}; burst p50 ${report.burst.p50Ratio}, p99 ${report.burst.p99Ratio}; goal p99 < 300 ms in the burst: ${report.goal.burstP99Met ? 'met' : 'NOT met'}`,
      );
      if (opts.out !== false) {
        const file = opts.out ?? path.join(ROOT, 'bench/results', `cni-${report.date.slice(0, 10)}.json`);
        await writeFile(file, JSON.stringify(report, null, 2) + '\n');
        say(`  written ${path.relative(ROOT, file)}`);
      }
    } finally {
      await driver.stop();
    }
    return true;
  } finally {
    for (const ns of created) await run('ip', ['netns', 'del', ns], { reject: false });
    await destroySandbox(sbDir);
    await rm(dir, { recursive: true, force: true });
  }
}
