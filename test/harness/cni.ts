/**
 * The CNI plugin as a runtime runs it: `npm run build:cni`'s thin forms (native, shell + curl) and bundle
 * installed under a CNI binary directory (copies, as an init container puts them in
 * /opt/cni/bin), executed directly with CNI_* in the environment and the network configuration
 * on stdin — one process per call, as Multus makes them.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../agent/sandbox/process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Where `npm run build:cni` puts the bundle. */
export const CNI_BUNDLE = path.join(ROOT, 'dist/cni/vpc-agent-cni.cjs');

/** Builds the bundle (esbuild: well under a second). */
export async function buildCniBundle(): Promise<string> {
  await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/build-cni.ts')], {
    timeoutMs: 60_000,
  });
  return CNI_BUNDLE;
}

/** The shell form of the thin plugin (shell + curl), beside the bundle after `npm run build:cni`. */
export const CNI_THIN_SH = path.join(ROOT, 'dist/cni/vpc-agent-cni.sh');
/** The native thin plugin (static C), beside the bundle after `npm run build:cni`. */
export const CNI_THIN = path.join(ROOT, 'dist/cni/vpc-agent-cni-thin');

/**
 * Installs the plugin into `<dir>/bin`; returns the directory. `kube-ovn` is the native thin form,
 * as install-cni puts it on nodes (the agent runs the command); `vpc-agent-cni-sh` the shell form
 * that stands in for it when no C compiler built it; `vpc-agent-cni` is the bundle, the plugin
 * process doing the same itself — so a test exercises each by the name it calls.
 */
export async function installCniPlugin(dir: string): Promise<string> {
  const bin = path.join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await copyFile(CNI_THIN, path.join(bin, 'kube-ovn'));
  await copyFile(CNI_THIN_SH, path.join(bin, 'vpc-agent-cni-sh'));
  await copyFile(CNI_BUNDLE, path.join(bin, 'vpc-agent-cni'));
  await copyFile(CNI_BUNDLE, path.join(bin, 'vpc-agent-cni-bin'));
  return bin;
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
  containerId?: string;
  /** CNI_NETNS (a path, as runtimes pass it); empty or absent for a DEL without it. */
  netns?: string;
  ifname?: string;
  /** CNI_ARGS pairs. */
  args?: Record<string, string>;
  /** The network configuration (JSON) on stdin. */
  config: Record<string, unknown>;
}

export interface CniOutcome {
  exitCode: number;
  /** stdout parsed (the result or the error object); undefined when empty. */
  out: Record<string, unknown> | undefined;
  stderr: string;
  /** Wall time of the process, ms. */
  ms: number;
}

/** The environment a runtime gives the plugin for `call` (CNI_* and a PATH), plugins in `bin`. */
export function cniEnv(bin: string, call: CniCall): Record<string, string> {
  return {
    PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    CNI_COMMAND: call.command,
    CNI_PATH: bin,
    ...(call.containerId !== undefined ? { CNI_CONTAINERID: call.containerId } : {}),
    ...(call.netns !== undefined ? { CNI_NETNS: call.netns } : {}),
    ...(call.ifname !== undefined ? { CNI_IFNAME: call.ifname } : {}),
    ...(call.args
      ? {
          CNI_ARGS: Object.entries(call.args)
            .map(([k, v]) => `${k}=${v}`)
            .join(';'),
        }
      : {}),
  };
}

/** Runs `<bin>/<name>` once, as a runtime does. */
export function invokeCni(bin: string, name: string, call: CniCall): Promise<CniOutcome> {
  const env: NodeJS.ProcessEnv = cniEnv(bin, call);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      path.join(bin, name),
      [],
      { env, timeout: 120_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0;
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        const text = stdout.trim();
        resolve({
          exitCode: code,
          out: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
          stderr,
          ms,
        });
      },
    );
    child.stdin?.end(JSON.stringify(call.config));
  });
}
