/**
 * `vpc-agent validate -f FILE|DIR [--json]`: loads manifests, runs every check the agent runs,
 * prints each error (kind/name/field) and a summary; exits 1 when anything is wrong — for
 * users' CI. Registered by `agent/cli.ts`.
 */
import type { Command } from 'commander';
import { ManifestError } from '../errors.js';
import { loadAndValidate, type LoadAndValidateResult } from './loader.js';
import { KINDS, mapFor } from './types.js';

export interface ValidateReport {
  ok: boolean;
  files: string[];
  /** Valid resources per kind (the implicit default VPC not counted). */
  valid: Record<string, number>;
  errors: unknown[];
}

/** The JSON form of a validation run. */
export function buildReport(result: LoadAndValidateResult): ValidateReport {
  const valid: Record<string, number> = {};
  for (const kind of KINDS) {
    const n = [...mapFor(result.valid, kind).values()].filter(
      (r) => !(r.kind === 'Vpc' && r.implicit),
    ).length;
    if (n > 0) valid[kind] = n;
  }
  return {
    ok: result.errors.length === 0,
    files: result.files,
    valid,
    errors: result.errors.map((e) => e.toJSON()),
  };
}

/** Human-readable lines: one per error (with file/document), then a summary. */
export function formatReport(result: LoadAndValidateResult): string {
  const lines: string[] = [];
  for (const e of result.errors) {
    if (e instanceof ManifestError) lines.push(`error: ${e.message}`);
    else {
      const where = e.source ? ` [${e.source.file}, document ${e.source.document}]` : '';
      lines.push(`error: ${e.message}${where}`);
    }
  }
  const report = buildReport(result);
  const counts = Object.entries(report.valid)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  lines.push(
    `${result.files.length} file(s); valid: ${counts || 'none'}; ${result.errors.length} error(s)` +
      (result.errors.length ? ' — resources with errors are skipped whole' : ''),
  );
  return lines.join('\n') + '\n';
}

/** Runs a validation and writes its output; returns the exit code. */
export async function runValidate(
  path: string,
  options: { json?: boolean },
  out: { write(s: string): unknown } = process.stdout,
): Promise<number> {
  const result = await loadAndValidate(path);
  out.write(options.json ? JSON.stringify(buildReport(result), null, 2) + '\n' : formatReport(result));
  return result.errors.length === 0 ? 0 : 1;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Check Kube-OVN manifests (Vpc, Subnet, NAD, ProviderNetwork, Vlan, NAT) as the agent would')
    .requiredOption('-f, --file <path>', 'manifest file or directory (read recursively)')
    .option('--json', 'print a JSON report instead of text')
    .action(async (opts: { file: string; json?: boolean }) => {
      const code = await runValidate(opts.file, { json: opts.json ?? false });
      if (code !== 0) process.exitCode = code;
    });
}
