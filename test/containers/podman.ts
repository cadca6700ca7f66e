/**
 * podman for the container tier, with the settings of scripts/containers.sh (containers.conf,
 * a private image store): building the images, running and removing containers by the names
 * this tier gives them.
 */
import path from 'node:path';
import { run, type RunResult } from '../../agent/sandbox/process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/containers.sh');

export interface Images {
  /** The OVN image (ovn-central, ovn-host, openvswitch-switch): central and chassis. */
  ovn: string;
  /** The agent's image, built from the project's Dockerfile. */
  agent: string;
}

let env: Record<string, string> | undefined;

/** The environment scripts/containers.sh gives podman (KEY=VALUE lines of `containers.sh env`). */
async function podmanEnv(): Promise<Record<string, string>> {
  if (env) return env;
  const { stdout } = await run('bash', [SCRIPT, 'env']);
  env = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return env;
}

/**
 * Builds what is missing (the debootstrap base and the OVN image, cached by their existence) and
 * the agent image (podman's layer cache makes an unchanged rebuild quick).
 */
export async function buildImages(): Promise<Images> {
  const r = await run('bash', [SCRIPT, 'images'], { timeoutMs: 900_000, reject: false });
  if (r.exitCode !== 0) throw new Error(`scripts/containers.sh images failed:\n${r.stdout}\n${r.stderr}`);
  // What was built and how long it took (the first run builds the base: minutes).
  console.log(r.stdout.trim());
  const e = await podmanEnv();
  return { ovn: e['VPC_AGENT_OVN_IMAGE']!, agent: e['VPC_AGENT_IMAGE']! };
}

/** `podman …args`; throws with podman's stderr unless `reject: false`. */
export async function podman(
  args: string[],
  opts: { reject?: boolean; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return run('podman', args, {
    env: await podmanEnv(),
    timeoutMs: opts.timeoutMs ?? 60_000,
    reject: opts.reject ?? true,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/** Runs a detached container; returns its ID. */
export async function runContainer(args: string[]): Promise<string> {
  return (await podman(['run', '--detach', ...args])).stdout.trim();
}

/** Removes containers by name or ID at once (`-t 0`: a `sleep` PID 1 ignores SIGTERM). */
export async function removeContainers(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await podman(['rm', '--force', '--time', '0', '--ignore', ...names], { reject: false });
}

/** Names of the containers (running or not) whose name starts with `prefix`. */
export async function containersNamed(prefix: string): Promise<string[]> {
  const { stdout } = await podman(['ps', '--all', '--format', '{{.Names}}', '--filter', `name=^${prefix}`]);
  return stdout.split('\n').filter((n) => n !== '');
}

/** The last lines of a container's log, for an error message. */
export async function logsOf(name: string, lines = 30): Promise<string> {
  const r = await podman(['logs', '--tail', String(lines), name], { reject: false });
  return `--- ${name} ---\n${r.stdout}${r.stderr}`;
}
