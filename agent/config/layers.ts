/**
 * Where a command's settings come from, highest first: the command line, the environment
 * (`VPC_AGENT_<FLAG>`), a config file (`--config`, YAML or JSON; its keys are the long flag
 * names), then the flag's default. Every flag of `run` can come from each of them, so a
 * systemd EnvironmentFile, a Kubernetes ConfigMap (as env or as a mounted file) and a shell all
 * configure the same agent.
 *
 * The environment is read here rather than through commander's `Option.env`: that takes any
 * defined variable of a boolean flag as "on" (`VPC_AGENT_PRETTY=false` would turn pretty logs
 * on), and it cannot be added to options already declared. Here a boolean must say true or false.
 */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FlagError } from './flags.js';

export const ENV_PREFIX = 'VPC_AGENT_';

/** The flags that take a list: repeatable on the command line, comma-separated in the environment. */
export interface LayerOptions {
  lists?: readonly string[];
}

const isBoolean = (o: Option): boolean => !(o.required || o.optional);

/** The flag's name without dashes and without `no-`: `--no-api` → `api`. */
function settingName(o: Option): string {
  const long = (o.long ?? '').replace(/^--/, '');
  return o.negate ? long.replace(/^no-/, '') : long;
}

/** `--port-ready-timeout` → `VPC_AGENT_PORT_READY_TIMEOUT`; `--no-api` → `VPC_AGENT_API`. */
export function envName(o: Option): string {
  return ENV_PREFIX + settingName(o).toUpperCase().replace(/-/g, '_');
}

const settable = (o: Option): boolean => o.long !== undefined && o.long !== '--help';

/**
 * A `--no-x` that switches off a value flag `--x <v>` (one setting, e.g. `--cni-socket <path>` and
 * `--no-cni-socket`): its variable is the value flag's, where `false` means the `--no-` form.
 */
const offSwitch = (cmd: Command, o: Option): boolean =>
  o.negate && cmd.options.some((x) => x !== o && !isBoolean(x) && x.attributeName() === o.attributeName());
const hasOffSwitch = (cmd: Command, o: Option): boolean =>
  !isBoolean(o) && cmd.options.some((x) => x !== o && x.negate && x.attributeName() === o.attributeName());

/**
 * Names every flag's environment variable (shown by `--help`). Call once all options exist.
 */
export function declareEnv(cmd: Command): void {
  for (const o of cmd.options) {
    if (!settable(o)) continue;
    const form = offSwitch(cmd, o) ? '=false' : isBoolean(o) ? '=true|false' : '';
    o.description = `${o.description} (env: ${envName(o)}${form})`;
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function parseBool(where: string, text: string): boolean {
  const v = text.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new FlagError(where, `"${text}" is not true or false`);
}

/** A config file value, checked against the flag's kind, as the option would hold it. */
function fileValue(o: Option, where: string, raw: unknown, lists: readonly string[]): unknown {
  if (isBoolean(o)) {
    // A negated flag's setting is its attribute: `api: false` is `--no-api`.
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'string') return parseBool(where, raw);
    throw new FlagError(where, 'must be true or false');
  }
  if (lists.includes(o.attributeName())) {
    if (typeof raw === 'string') return raw.split(',').filter((s) => s !== '');
    if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return [...(raw as string[])];
    // A map reads naturally for labels: `node-label: {topology.kubernetes.io/zone: a}`.
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
      return Object.entries(raw as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
    throw new FlagError(where, 'must be a list of strings, a map or a comma-separated string');
  }
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  throw new FlagError(where, 'must be a string or a number');
}

/** Reads a config file: a mapping from long flag names to values. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FlagError(
      '--config',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new FlagError('--config', `${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new FlagError('--config', `${file} must be a mapping of flag names to values`);
  return doc as Record<string, unknown>;
}

/** Where the current value of an option came from, for error messages. */
export function originOf(cmd: Command, flag: string): string | undefined {
  const o = cmd.options.find((x) => x.long === flag || (x.negate && x.long === flag));
  if (!o) return undefined;
  const source = cmd.getOptionValueSource(o.attributeName());
  if (source === 'env') return `from ${envName(o)}`;
  if (source === 'config') return `from the config file's ${settingName(o)}`;
  return undefined;
}

/**
 * Fills in what the command line did not set: from the environment, then from the config file
 * named by `--config`. Run as a `preAction` hook (after commander has read the command line).
 * @throws FlagError naming the variable or the file and key.
 */
export function applyEnvAndConfig(
  cmd: Command,
  env: NodeJS.ProcessEnv = process.env,
  options: LayerOptions = {},
): void {
  const lists = options.lists ?? [];
  const unset = (o: Option) => {
    const s = cmd.getOptionValueSource(o.attributeName());
    return s === undefined || s === 'default';
  };
  for (const o of cmd.options) {
    if (!settable(o) || !unset(o) || offSwitch(cmd, o)) continue;
    const text = env[envName(o)];
    if (text === undefined) continue;
    const value =
      hasOffSwitch(cmd, o) && FALSE.has(text.trim().toLowerCase())
        ? false
        : isBoolean(o)
          ? parseBool(envName(o), text)
          : o.parseArg
            ? o.parseArg(text, undefined)
            : text;
    cmd.setOptionValueWithSource(o.attributeName(), value, 'env');
  }
  const file = cmd.getOptionValue('config') as string | undefined;
  if (file === undefined) return;
  const values = readConfigFile(file);
  const byName = new Map(
    cmd.options.filter((o) => settable(o) && !offSwitch(cmd, o)).map((o) => [settingName(o), o]),
  );
  byName.delete('config');
  for (const [key, raw] of Object.entries(values)) {
    const where = `${file}: ${key}`;
    const o = byName.get(key);
    if (!o)
      throw new FlagError(
        where,
        `is not a setting (use the long flag names: ${[...byName.keys()].join(', ')})`,
      );
    if (!unset(o)) continue;
    const value = hasOffSwitch(cmd, o) && raw === false ? false : fileValue(o, where, raw, lists);
    cmd.setOptionValueWithSource(o.attributeName(), value, 'config');
  }
}
