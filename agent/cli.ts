#!/usr/bin/env node
/**
 * vpc-agent command line. Each command group lives next to its subsystem and is registered
 * here (`registerXCommands(program)`).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { registerStatusCommand } from './debug/status-cli.js';
import { registerDemoCommand } from './demo.js';
import { registerPortCommands } from './port-cli.js';
import { registerValidateCommand } from './resources/cli.js';
import { registerRunCommand } from './run-cli.js';
import { registerSandboxCommands } from './sandbox/cli.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vpc-agent')
    .description('Node agent giving VMs VPC networking by driving OVS/OVN directly')
    .showHelpAfterError();
  registerRunCommand(program);
  registerPortCommands(program);
  registerValidateCommand(program);
  registerStatusCommand(program);
  registerSandboxCommands(program);
  registerDemoCommand(program);
  return program;
}

/** Parses `argv` and runs the selected command; errors go to stderr with exit code 1. */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`vpc-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

// Run only when executed (node dist/agent/cli.js, the npm bin symlink, tsx), not when imported.
const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(realpathSync(entry)).href) await main();
