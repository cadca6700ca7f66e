/**
 * `vpc-agent status`: the running agent's `/debug/state` for a person — a table of resources,
 * ready or why not, the reconcilers and IPAM. Exit code 0 when every resource is ready, 2 when
 * some are not, 1 when the agent cannot be asked. `--json` prints the document as it came.
 *
 * `vpc-agent wait-ready`: waits until the agent's `/readyz` answers 200 (a service manager's
 * start-up check), or fails after `--timeout` with the last reasons.
 */
import type { Command } from 'commander';
import { parseDuration, parseListenAddress } from '../config/values.js';
import type { StateDoc } from './state.js';
import { stateText } from './text.js';

/** The `--listen` address the README uses for `vpc-agent run`. */
export const DEFAULT_STATUS_ENDPOINT = '127.0.0.1:9470';

/** Asks the agent at `endpoint` (`host:port`) for its state. */
/** `http://host:port<path>` of a `--listen` address. */
function endpointUrl(endpoint: string, path: string): string {
  const { host, port } = parseListenAddress(endpoint);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

export async function fetchState(endpoint: string, timeoutMs = 5_000): Promise<StateDoc> {
  const url = endpointUrl(endpoint, '/debug/state');
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const why =
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new Error(`cannot reach the agent at ${url}: ${why} (is it running with --listen ${endpoint}?)`);
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as StateDoc;
}

/** Polls `/readyz` until it answers 200; rejects after `timeoutMs` with the last answer. */
export async function waitReady(endpoint: string, timeoutMs: number, intervalMs = 500): Promise<void> {
  const url = endpointUrl(endpoint, '/readyz');
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      // One request may outlast the deadline by its own timeout: its answer is still the last word.
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      const body = (await res.json().catch(() => ({}))) as { reasons?: string[] };
      last = `${res.status}: ${(body.reasons ?? []).join('; ') || 'not ready'}`;
    } catch (err) {
      last = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    }
    if (Date.now() + intervalMs > deadline)
      throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function registerStatusCommand(program: Command): void {
  program
    .command('wait-ready')
    .description("wait until the running agent's /readyz answers 200 (for service managers)")
    .option('--endpoint <host:port>', "the agent's --listen address", DEFAULT_STATUS_ENDPOINT)
    .option('--timeout <duration>', 'give up after this long (500ms, 60s, 2m)', '60s')
    .action(async (opts: { endpoint: string; timeout: string }) => {
      await waitReady(opts.endpoint, parseDuration(opts.timeout));
    });
  program
    .command('status')
    .description("print the running agent's resources (ready or why not), reconcilers and IPAM")
    .option('--endpoint <host:port>', "the agent's --listen address", DEFAULT_STATUS_ENDPOINT)
    .option('--json', 'print the state document as JSON')
    .action(async (opts: { endpoint: string; json?: boolean }) => {
      const doc = await fetchState(opts.endpoint);
      process.stdout.write(opts.json ? JSON.stringify(doc, null, 2) + '\n' : stateText(doc));
      if (doc.resources.some((r) => r.state !== 'ready')) process.exitCode = 2;
    });
}
