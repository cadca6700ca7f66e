/**
 * A burst of plugin processes started the way a runtime starts them: by a small launcher (bash)
 * that forks and execs each one, not by this Node process. Node's child_process forks the whole
 * benchmark process for every child — about 11 ms each here, one after the other — so 100 ADDs
 * spawned from Node measure the harness more than the plugin (100 × `/bin/true` take 1.1 s that
 * way, 0.5 s from bash). Containerd and Multus (Go) start plugins with a cheap fork+exec, as bash
 * does.
 *
 * Each job's latency is taken in its own subshell with bash's `$EPOCHREALTIME` (no process
 * started for the clock): from just before the plugin starts until it has exited.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../agent/sandbox/process.js';

export interface BurstJob {
  /** Executable and arguments. */
  argv: string[];
  env?: Record<string, string>;
  /** Standard input (the network configuration for a CNI call). */
  stdin?: string;
}

export interface BurstOutcome {
  ms: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs every job at once from one bash; resolves when all have exited. */
export async function launchBurst(
  jobs: readonly BurstJob[],
): Promise<{ seconds: number; jobs: BurstOutcome[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpcb-burst-'));
  try {
    const lines = ['set -u', 'export LC_ALL=C', `cd ${q(dir)}`];
    for (const [i, job] of jobs.entries()) {
      await writeFile(path.join(dir, `${i}.in`), job.stdin ?? '');
      const env = Object.entries(job.env ?? {})
        .map(([k, v]) => `${k}=${q(v)}`)
        .join(' ');
      lines.push(
        `( s=$EPOCHREALTIME; ${env} ${job.argv.map(q).join(' ')} <${i}.in >${i}.out 2>${i}.err; ` +
          `rc=$?; echo "$s $EPOCHREALTIME $rc" >${i}.t ) &`,
      );
    }
    lines.push('wait');
    await writeFile(path.join(dir, 'burst.sh'), lines.join('\n') + '\n');
    const t0 = performance.now();
    await run('bash', [path.join(dir, 'burst.sh')], { timeoutMs: 600_000 });
    const seconds = (performance.now() - t0) / 1000;
    const out: BurstOutcome[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const [start, end, rc] = (await readFile(path.join(dir, `${i}.t`), 'utf8')).trim().split(' ');
      out.push({
        ms: (Number(end) - Number(start)) * 1000,
        exitCode: Number(rc),
        stdout: await readFile(path.join(dir, `${i}.out`), 'utf8'),
        stderr: await readFile(path.join(dir, `${i}.err`), 'utf8'),
      });
    }
    return { seconds, jobs: out };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
