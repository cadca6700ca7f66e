/**
 * Seed scenario "private subnet", with the agent as a real process on sandbox node1 and the
 * manifests (examples/private-subnet) edited while it runs: `db-subnet` (10.10.10.0/24) is
 * private; an `app-subnet` VM (10.10.20.0/24) cannot reach a db VM until 10.10.20.0/24 is in
 * db-subnet's `allowSubnets`, and cannot again once it is removed. Convergence is awaited on the
 * NB ACL rows plus `ovn-nbctl --wait=hv sync`, never a sleep. Ports through the local API,
 * called in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortResult } from '../../../agent/node/ports/index.js';
import { waitUntil } from '../../../agent/sandbox/process.js';
import {
  createVmNamespace,
  find,
  hvSync,
  nbRows,
  ping,
  readExample,
  startAgentProcess,
  waitPing,
  writeManifest,
  type AgentProcess,
  type Manifest,
} from '../../harness/agent.js';
import { useSandbox, useTmpDir } from '../../harness/index.js';

const ctx = useSandbox({ nodes: 1 });
const tmp = useTmpDir('private');
let agent: AgentProcess;
let docs: Manifest[];
let db: PortResult;
let app: PortResult;

/** Writes the example with db-subnet's allowSubnets set to `allow`. */
async function setAllow(allow: string[]): Promise<void> {
  find(docs, 'Subnet', 'db-subnet').spec['allowSubnets'] = allow;
  await writeManifest(agent.manifests, 'private.yaml', docs);
}

/** Waits until db-subnet's allow ACLs in NB name 10.10.20.0/24 (or no longer do), then for the chassis. */
async function converged(allowed: boolean): Promise<void> {
  await waitUntil(
    async () => {
      const acls = (await nbRows(ctx.sandbox, 'ACL')).filter(
        (a) => a.external_ids?.['vpc-agent.io/subnet'] === 'db-subnet' && a['action'] === 'allow',
      );
      const names = acls.filter((a) => String(a['match']).includes('10.10.20.0/24'));
      // Two direction allows + the DHCP allow exist in both states.
      return acls.length === 3 && names.length === (allowed ? 2 : 0);
    },
    { what: `db-subnet ACLs ${allowed ? 'allow' : 'no longer allow'} 10.10.20.0/24`, timeoutMs: 20_000 },
  );
  await hvSync(ctx.sandbox);
}

beforeAll(async () => {
  docs = await readExample('private-subnet');
  delete find(docs, 'Subnet', 'db-subnet').spec['allowSubnets'];
  await writeManifest(`${tmp.dir}/manifests`, 'private.yaml', docs);
  agent = await startAgentProcess({ sandbox: ctx.sandbox, dir: tmp.dir });
  const nsDb = await createVmNamespace(ctx.sandbox, 'db');
  const nsApp = await createVmNamespace(ctx.sandbox, 'app');
  db = await agent.api.add({ network: 'default/db', netns: nsDb });
  app = await agent.api.add({ network: 'default/app', netns: nsApp });
});

afterAll(async () => {
  await agent?.stop();
});

describe('private subnet and allowSubnets, edited while the agent runs', () => {
  it('db-subnet is private: the app VM cannot reach the db VM, each reaches its own gateway', async () => {
    expect(db.ip).toMatch(/^10\.10\.10\./);
    expect(app.ip).toMatch(/^10\.10\.20\./);
    await converged(false);
    await waitPing(db.netns, '10.10.10.1');
    await waitPing(app.netns, '10.10.20.1');
    expect(await Promise.all([ping(app.netns, db.ip), ping(db.netns, app.ip)])).toEqual([false, false]);
  });

  it('adding 10.10.20.0/24 to allowSubnets lets the VMs ping each other', async () => {
    await setAllow(['10.10.20.0/24']);
    await converged(true);
    await waitPing(app.netns, db.ip);
    expect(await ping(db.netns, app.ip)).toBe(true);
  });

  it('removing it again cuts them off', async () => {
    await setAllow([]);
    await converged(false);
    expect(await Promise.all([ping(app.netns, db.ip), ping(db.netns, app.ip)])).toEqual([false, false]);
    const d = await agent.debug();
    expect(d.validationErrors).toEqual([]);
    expect(d.reconcile.health.healthy).toBe(true);
  });
});
