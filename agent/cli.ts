#!/usr/bin/env node
/**
 * vpc-agent command line. Each command group lives next to its subsystem and is registered
 * here (`registerXCommands(program)`).
 */
import { Command } from 'commander';
import { registerSandboxCommands } from './sandbox/cli.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vpc-agent')
    .description('Node agent giving VMs VPC networking by driving OVS/OVN directly')
    .showHelpAfterError();
  registerSandboxCommands(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`vpc-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
