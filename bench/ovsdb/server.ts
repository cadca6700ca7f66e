/**
 * A fresh, private OVN_Northbound ovsdb-server per peer phase, and the check that a peer's
 * writes really landed (so a peer that fails silently is caught, not reported as fast).
 */
import { mkdtemp, rm, access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startOvsdbServer, type OvsdbServerHandle } from '../../agent/sandbox/ovsdb-server.js';
import { run } from '../../agent/sandbox/process.js';
import { OWNER_KEY, type WorkloadSize } from './workload.js';

const DB = 'OVN_Northbound';

/** The vendored schema when present, else the one the Debian package ships. */
export async function nbSchemaPath(): Promise<string> {
  const vendored = path.resolve(import.meta.dirname, '../../ovsdb/schemas/ovn-nb.ovsschema');
  return access(vendored).then(
    () => vendored,
    () => '/usr/share/ovn/ovn-nb.ovsschema',
  );
}

/** A running bench server and its private directory. */
export interface BenchServer {
  handle: OvsdbServerHandle;
  remote: string;
  /** Stops the server by its handle and removes its directory. */
  dispose(): Promise<void>;
}

/** RFC 7047 §4.1.3 `transact` through `ovsdb-client` (independent of every peer). */
async function transact(remote: string, ops: object[]): Promise<unknown[]> {
  const out = await run('ovsdb-client', ['--timeout=60', 'transact', remote, JSON.stringify([DB, ...ops])]);
  const result = JSON.parse(out.stdout) as unknown[];
  for (const r of result) {
    if (r && typeof r === 'object' && 'error' in r) throw new Error(`transact failed: ${out.stdout}`);
  }
  return result;
}

/**
 * Starts a standalone NB server in a new temp dir and inserts the NB_Global row (as
 * `ovn-nbctl init` or ovn-northd would), so every peer starts from the same real-looking DB.
 */
export async function startBenchServer(schema: string): Promise<BenchServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpc-bench-nb-'));
  const handle = await startOvsdbServer({ dir, name: 'nb', schema });
  const remote = handle.unixRemote;
  const dispose = async () => {
    await handle.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await transact(remote, [{ op: 'insert', table: 'NB_Global', row: {} }]);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { handle, remote, dispose };
}

/** Size of a wire set (RFC 7047 §5.1): `["set", [...]]`, or a bare atom for a one-element set. */
const setSize = (v: unknown) => (Array.isArray(v) && v[0] === 'set' ? (v[1] as unknown[]).length : 1);
const mapHas = (v: unknown, key: string) =>
  Array.isArray(v) && v[0] === 'map' && (v[1] as [string, string][]).some(([k]) => k === key);

/** What the server holds after a write phase. */
export interface LandedCounts {
  switches: number;
  ports: number;
  /** Sum of the switches' `ports` set sizes. */
  portRefs: number;
  /** Ports with exactly one address and the owner external_id. */
  wellFormedPorts: number;
}

/** Counts rows on the server with `ovsdb-client` and throws unless the whole workload landed. */
export async function verifyLanded(remote: string, size: WorkloadSize): Promise<LandedCounts> {
  const [ls, lsp] = (await transact(remote, [
    { op: 'select', table: 'Logical_Switch', where: [], columns: ['ports', 'external_ids'] },
    { op: 'select', table: 'Logical_Switch_Port', where: [], columns: ['addresses', 'external_ids'] },
  ])) as { rows: Record<string, unknown>[] }[];
  const counts: LandedCounts = {
    switches: ls!.rows.filter((r) => mapHas(r['external_ids'], OWNER_KEY)).length,
    ports: lsp!.rows.length,
    portRefs: ls!.rows.reduce((n, r) => n + setSize(r['ports']), 0),
    wellFormedPorts: lsp!.rows.filter(
      (r) => setSize(r['addresses']) === 1 && mapHas(r['external_ids'], OWNER_KEY),
    ).length,
  };
  const want = size.switches * size.ports;
  if (
    counts.switches !== size.switches ||
    counts.ports !== want ||
    counts.portRefs !== want ||
    counts.wellFormedPorts !== want
  ) {
    throw new Error(
      `workload did not land: ${JSON.stringify(counts)}, expected ${size.switches} switches, ${want} ports`,
    );
  }
  return counts;
}
