/**
 * The sandbox state file `<stateDir>/state.json`: endpoints for clients and, above all, every
 * PID and network namespace the sandbox created, recorded *before or as soon as* each one
 * exists, so that `sandbox down` from any other process can always clean up. Writes are
 * serialised and atomic (write to a temporary file, then rename(2)).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DbEndpoints, ProcessRecord } from './central.js';
import type { ChassisInfo } from './chassis.js';
import type { VmInfo } from './vm.js';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;

export interface SandboxState {
  version: number;
  /** Short random id; every namespace of this sandbox is named `<id>-...`. */
  id: string;
  /** Absolute state directory (every daemon's command line contains it). */
  stateDir: string;
  clustered: boolean;
  createdAt: string;
  /** Set once everything is ready. */
  ready: boolean;
  nb?: DbEndpoints;
  sb?: DbEndpoints;
  northd?: { pid: number; ctlPath: string; logPath: string };
  nodes: ChassisInfo[];
  vms: VmInfo[];
  /** Every daemon started, in start order. */
  processes: ProcessRecord[];
  /** Every namespace created (recorded before `ip netns add`). */
  namespaces: string[];
}

export function statePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE);
}

/** Reads the state file; undefined if it is missing or unreadable (partial state is tolerated). */
export async function readState(stateDir: string): Promise<SandboxState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(stateDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<SandboxState>;
    return {
      version: s.version ?? STATE_VERSION,
      id: s.id ?? '',
      stateDir: s.stateDir ?? path.resolve(stateDir),
      clustered: s.clustered ?? false,
      createdAt: s.createdAt ?? '',
      ready: s.ready ?? false,
      nb: s.nb,
      sb: s.sb,
      northd: s.northd,
      nodes: s.nodes ?? [],
      vms: s.vms ?? [],
      processes: s.processes ?? [],
      namespaces: s.namespaces ?? [],
    };
  } catch {
    return undefined;
  }
}

/** Serialises updates of one state file; each update is written atomically. */
export class StateWriter {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly state: SandboxState) {}

  /** Applies `mutate` to the in-memory state and persists it. */
  update(mutate: (s: SandboxState) => void): Promise<void> {
    mutate(this.state);
    const snapshot = JSON.stringify(this.state, null, 2) + '\n';
    const file = statePath(this.state.stateDir);
    this.chain = this.chain.then(async () => {
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, snapshot);
      await rename(tmp, file);
    });
    return this.chain;
  }
}
