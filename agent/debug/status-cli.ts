/**
 * `vpc-agent status`: the running agent's `/debug/state` for a person — a table of resources,
 * ready or why not, the reconcilers and IPAM. Exit code 0 when every resource is ready, 2 when
 * some are not, 1 when the agent cannot be asked. `--json` prints the document as it came.
 */
import type { Command } from 'commander';
import { parseListenAddress } from '../config/values.js';
import type { StateDoc } from './state.js';
import { stateText } from './text.js';

/** The `--listen` address the README uses for `vpc-agent run`. */
export const DEFAULT_STATUS_ENDPOINT = '127.0.0.1:9470';

/** Asks the agent at `endpoint` (`host:port`) for its state. */
export async function fetchState(endpoint: string, timeoutMs = 5_000): Promise<StateDoc> {
  const { host, port } = parseListenAddress(endpoint);
  const h = host.includes(':') ? `[${host}]` : host;
  const url = `http://${h}:${port}/debug/state`;
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

export function registerStatusCommand(program: Command): void {
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
