import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
function cpu(){const m:Record<string,number>={};for(const d of readdirSync('/proc')){if(!/^\d+$/.test(d))continue;try{const st=readFileSync(`/proc/${d}/stat`,'utf8');const name=st.slice(st.indexOf('(')+1,st.lastIndexOf(')'));const f=st.slice(st.lastIndexOf(')')+2).split(' ');m[name]=(m[name]??0)+Number(f[11])+Number(f[12]);}catch{}}return m;}
function diff(a:Record<string,number>,b:Record<string,number>){const o:Record<string,number>={};for(const k of Object.keys(b)){const d=(b[k]??0)-(a[k]??0);if(d>2)o[k]=d*10;}return o;}
import path from 'node:path';
import { run } from '../../agent/sandbox/process.js';
import { createSandbox, destroySandbox } from '../../agent/sandbox/sandbox.js';
import { prepareRuntime, startAgentDriver } from '../../bench/ports/agent.js';
import { createNetns, summarize } from '../../bench/ports/measure.js';
import { portSpecs, writeManifests } from '../../bench/ports/topology.js';
const N = Number(process.argv[2] ?? 100);
import { cniEnv, installCniPlugin, buildCniBundle } from '../../test/harness/cni.js';
import { launchBurst } from '../cni/burst.js';
import { SUBNETS } from '../ports/topology.js';
let bin = '';
let dirG = '';
async function viaCni(s: { netns: string; subnet: number; index: number }[]) {
  const jobs = s.map((x) => {
    const call = { command: 'ADD' as const, containerId: `c-${x.index}`, netns: `/var/run/netns/${x.netns}`, ifname: 'eth0', args: { K8S_POD_NAMESPACE: 'bench', K8S_POD_NAME: `pod-${x.index}` }, config: { cniVersion: '0.3.1', name: SUBNETS[x.subnet]!.network.split('/')[1], type: 'kube-ovn', server_socket: path.join(dirG, 'cni.sock'), provider: SUBNETS[x.subnet]!.provider } };
    return { argv: [path.join(bin, 'kube-ovn')], env: cniEnv(bin, call), stdin: JSON.stringify(call.config) };
  });
  const out = await launchBurst(jobs);
  const bad = out.jobs.find((j) => j.exitCode !== 0); if (bad) throw new Error(bad.stdout + bad.stderr);
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(path.join(dirG, 'agent.log'), 'utf8').split('\n').filter((l) => l.includes('port ready')).slice(-s.length).map((l) => JSON.parse(l));
  const api = readFileSync(path.join(dirG, 'agent.log'), 'utf8').split('\n').filter((l) => l.includes('"url":"/v1/cni"')).slice(-s.length).map((l) => JSON.parse(l).ms as number);
  return out.jobs.map((j, i) => ({ ms: j.ms, steps: { ...(lines[i]?.timings ?? {}), server: api[i] ?? -1 } }));
}
const dir = await mkdtemp(path.join(os.tmpdir(), 'vpcb-prof-'));
dirG = dir;
const created: string[] = [];
try {
  await buildCniBundle(); bin = await installCniPlugin(dir);
  const rt = await prepareRuntime(process.env.REBUILD ? 'build' : 'dist');
  const sandbox = await createSandbox({ stateDir: path.join(dir, 'sbx'), nodes: 1 });
  const manifests = path.join(dir, 'manifests');
  await writeManifests(manifests);
  const { driver, addWarmup } = await startAgentDriver({ sandbox, manifests, dir, runtime: rt.runtime });
  try {
    const [w] = portSpecs(sandbox.state.id, 0, 1);
    created.push(w!.netns); await createNetns(w!.netns); await addWarmup(w!);
    for (const round of [1, 2]) {
      const s = portSpecs(sandbox.state.id, 1 + (round - 1) * N, N);
      for (const x of s) { created.push(x.netns); await createNetns(x.netns); }
      const c0=cpu();const t0 = performance.now();
      const res = process.env.VIA_CNI ? await viaCni(s) : await Promise.all(s.map(async (x) => { const t = performance.now(); const o = await driver.addPort(x); return { ms: performance.now() - t, steps: o.steps }; }));
      console.log('cpu ms',diff(c0,cpu()));console.log(`round ${round}: ${N} in ${(performance.now() - t0).toFixed(0)} ms; total`, summarize(res.map((r) => r.ms)));
      for (const k of Object.keys(res[0]!.steps)) console.log('  ', k, summarize(res.map((r) => r.steps[k] ?? 0)));
    }
  } catch (e) { const { readFileSync } = await import('node:fs'); console.log(readFileSync(path.join(dir, 'agent.log'), 'utf8').slice(-4000)); throw e; } finally { await driver.stop(); }
} finally {
  for (const ns of created) await run('ip', ['netns', 'del', ns], { reject: false });
  await destroySandbox(path.join(dir, 'sbx'));
  await rm(dir, { recursive: true, force: true });
}
