/** Shared helpers of the NB reconcile integration tests: ovn-central, clients, engines, dumps. */
import { afterAll, beforeAll } from 'vitest';
import { startCentral, type CentralHandle } from '../../../../agent/sandbox/central.js';
import { run, waitUntil } from '../../../../agent/sandbox/process.js';
import { OWNER_KEY, type DesiredRow, type DesiredState } from '../../../../agent/nb/desired.js';
import { createNbReconciler, type NbReconciler } from '../../../../agent/nb/reconcile/index.js';
import { createNbWriter, type NbWriter } from '../../../../agent/nb/writer.js';
import { nb, OvsdbClient } from '../../../../ovsdb/index.js';
import { makeTmpDir, tmpDirForTest } from '../../../harness/index.js';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';

export { waitUntil };

/** NB + SB + northd for the enclosing describe; always stopped. */
export function useCentral(): { readonly central: CentralHandle } {
  let central: CentralHandle | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await makeTmpDir('nbrec');
    central = await startCentral({ dir });
  });
  afterAll(async () => {
    await central?.stop();
    if (dir && process.env['VPC_AGENT_KEEP'] !== '1') await rm(dir, { recursive: true, force: true });
  });
  return {
    get central() {
      if (!central) throw new Error('central not started');
      return central;
    },
  };
}

export async function connectNb(central: CentralHandle): Promise<OvsdbClient> {
  const client = await OvsdbClient.connect({
    remotes: central.nb.unix,
    database: 'OVN_Northbound',
    schema: nb.schema(),
    backoff: { minMs: 50, maxMs: 400 },
    probeIntervalMs: 0,
  });
  await client.ready();
  return client;
}

export interface TestAgent {
  client: OvsdbClient;
  engine: NbReconciler;
  writer: NbWriter;
  close(): Promise<void>;
}

/** A client + writer election + engine (the NB half of `vpc-agent run`), started. */
export async function startTestAgent(central: CentralHandle, lockName: string): Promise<TestAgent> {
  const client = await connectNb(central);
  const writer = createNbWriter({ client }, { lockName });
  const engine = createNbReconciler(
    { client, isWriter: () => writer.isWriter() },
    { lock: lockName, runner: { debounceMs: 20, resyncMs: 0, minBackoffMs: 50, maxBackoffMs: 500 } },
  );
  writer.on('change', (w) => w && engine.trigger('writer'));
  engine.start();
  writer.start();
  return {
    client,
    engine,
    writer,
    async close() {
      await engine.stop();
      await client.close();
    },
  };
}

export const nbctl = (central: CentralHandle, ...args: string[]) =>
  run('ovn-nbctl', [`--db=${central.nb.db}`, '--timeout=20', ...args]).then((r) => r.stdout.trim());
export const sbctl = (central: CentralHandle, ...args: string[]) =>
  run('ovn-sbctl', [`--db=${central.sb.db}`, '--timeout=20', ...args]).then((r) => r.stdout.trim());

/** Names (or uuids for unnamed rows) of the rows of `table` that carry our owner key, via ovn-nbctl. */
export async function ownedInNb(central: CentralHandle, table: string): Promise<string[]> {
  const out = await nbctl(central, '--format=json', '--columns=_uuid,external_ids', 'list', table);
  const json = JSON.parse(out) as { data: [[string, string], [string, [string, string][]]][] };
  return json.data.filter(([, ids]) => ids[1].some(([k]) => k === OWNER_KEY)).map(([u]) => u[1]);
}

/** Sorted names of the rows of `table` that carry our owner key (ovn-nbctl's view). */
export async function ownedNames(central: CentralHandle, table: string): Promise<string[]> {
  const out = await nbctl(central, '--format=json', '--columns=name,external_ids', 'list', table);
  const json = JSON.parse(out) as { data: [string, [string, [string, string][]]][] };
  return json.data
    .filter(([, ids]) => ids[1].some(([k]) => k === OWNER_KEY))
    .map(([n]) => n)
    .sort();
}

/** A new temporary directory (`/tmp/vpca-<prefix>-…`) holding a copy of `examples/<example>`. */
export async function exampleDir(example: string, prefix: string): Promise<string> {
  const dir = await tmpDirForTest(prefix);
  await cp(path.resolve('examples', example), dir, { recursive: true });
  return dir;
}

/** A Subnet of vpc-1 refused at `spec.cidrBlock` (/33), beside the vpc-two-subnets seed. */
export const BROKEN_SUBNET_YAML = `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: broken-subnet
spec:
  vpc: vpc-1
  cidrBlock: 172.20.30.0/33
  provider: broken.default.ovn
`;

/** Agent timings for tests: manifest polls and reconcile debounce short, so changes show fast. */
export const FAST = { pollMs: 100, debounceMs: 20 } as const;

/** Every NB table that has owned rows, with their counts (ovn-nbctl's view). */
export async function ownedDump(central: CentralHandle): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [
    'Logical_Switch',
    'Logical_Switch_Port',
    'Logical_Router',
    'Logical_Router_Port',
    'ACL',
    'Logical_Router_Static_Route',
    'Logical_Router_Policy',
    'NAT',
    'DHCP_Options',
    'Gateway_Chassis',
  ]) {
    const n = (await ownedInNb(central, t)).length;
    if (n > 0) out[t] = n;
  }
  return out;
}

/** A hand-built desired state: switches with ports and ACLs, a router with a port. */
export function handBuilt(switches: Record<string, string[]>): DesiredState {
  const state: DesiredState = new Map();
  const add = (r: DesiredRow) => {
    let t = state.get(r.table);
    if (!t) state.set(r.table, (t = new Map()));
    t.set(r.key, r);
  };
  for (const [sw, ports] of Object.entries(switches)) {
    const resource = `Subnet/${sw}`;
    add({
      table: 'Logical_Switch',
      key: `ls/${sw}`,
      resource,
      columns: { name: sw },
      refs: {
        ports: ports.map((p) => ({ table: 'Logical_Switch_Port', key: `lsp/${sw}-${p}` })),
        acls: [{ table: 'ACL', key: `acl/${sw}/drop` }],
      },
    });
    ports.forEach((p, i) =>
      add({
        table: 'Logical_Switch_Port',
        key: `lsp/${sw}-${p}`,
        resource,
        columns: {
          name: `${sw}-${p}`,
          addresses: [`0a:00:00:00:00:${(i + 2).toString(16).padStart(2, '0')} 10.0.0.${i + 2}`],
        },
      }),
    );
    add({
      table: 'ACL',
      key: `acl/${sw}/drop`,
      resource,
      columns: { direction: 'to-lport', priority: 1001, match: 'ip4.src == 192.0.2.0/24', action: 'drop' },
    });
  }
  return state;
}

export function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
): Promise<T> {
  return waitUntil(check, { what, timeoutMs: 20_000, intervalMs: 50 });
}
