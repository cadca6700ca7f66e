/**
 * Seed scenario "VPC peering", with the agent as a real process on sandbox node1 and the
 * manifests of examples/vpc-peering: vpcpeer-1 (10.0.0.0/24) ↔ vpcpeer-2 (20.0.0.0/24) through
 * 169.254.0.1/30 and .2 with a static route on each side. VMs ping across; with the peering
 * (and the routes through it) removed from the manifest they cannot, and the peering's NB rows
 * are gone. Ports through the local API, called in-process.
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
const tmp = useTmpDir('peering');
let agent: AgentProcess;
let vm1: PortResult;
let vm2: PortResult;

/** Names of the peering LRPs and the static routes' prefixes in NB. */
async function peeringRows(): Promise<{ lrps: string[]; routes: string[] }> {
  const sb = ctx.sandbox;
  const lrps = (await nbRows(sb, 'Logical_Router_Port'))
    .map((r) => String(r['name']))
    .filter((n) => /^vpcpeer-\d-vpcpeer-\d$/.test(n));
  const routes = (await nbRows(sb, 'Logical_Router_Static_Route'))
    .filter((r) => r.external_ids?.['vpc-agent.io/owner'])
    .map((r) => `${String(r['ip_prefix'])} via ${String(r['nexthop'])}`);
  return { lrps: lrps.sort(), routes: routes.sort() };
}

beforeAll(async () => {
  await writeManifest(`${tmp.dir}/manifests`, 'peering.yaml', await readExample('vpc-peering'));
  agent = await startAgentProcess({ sandbox: ctx.sandbox, dir: tmp.dir });
  const [ns1, ns2] = await Promise.all([
    createVmNamespace(ctx.sandbox, 'peer1'),
    createVmNamespace(ctx.sandbox, 'peer2'),
  ]);
  vm1 = await agent.api.add({ network: 'default/peer1', netns: ns1 });
  vm2 = await agent.api.add({ network: 'default/peer2', netns: ns2 });
});

afterAll(async () => {
  await agent?.stop();
});

describe('VPC peering vpcpeer-1 ↔ vpcpeer-2', () => {
  it('builds both peer ports and the static routes; VMs ping across the VPCs', async () => {
    expect(vm1.ip).toMatch(/^10\.0\.0\./);
    expect(vm2.ip).toMatch(/^20\.0\.0\./);
    expect(await peeringRows()).toEqual({
      lrps: ['vpcpeer-1-vpcpeer-2', 'vpcpeer-2-vpcpeer-1'],
      routes: ['10.0.0.0/24 via 169.254.0.1', '20.0.0.0/24 via 169.254.0.2'],
    });
    await hvSync(ctx.sandbox);
    await waitPing(vm1.netns, vm2.ip);
    expect(await ping(vm2.netns, vm1.ip)).toBe(true);
  });

  it('without the peering (manifest edited) the VPCs cannot reach each other', async () => {
    const docs: Manifest[] = await readExample('vpc-peering');
    for (const vpc of ['vpcpeer-1', 'vpcpeer-2']) {
      const spec = find(docs, 'Vpc', vpc).spec;
      // The routes go too: their next hop is only reachable through the peering (validation).
      delete spec['vpcPeerings'];
      delete spec['staticRoutes'];
    }
    await writeManifest(agent.manifests, 'peering.yaml', docs);
    await waitUntil(
      async () => {
        const r = await peeringRows();
        return r.lrps.length === 0 && r.routes.length === 0;
      },
      { what: 'peering ports and routes removed from NB', timeoutMs: 20_000 },
    );
    await hvSync(ctx.sandbox);
    // Each VM still reaches its own router; only the way across is gone.
    await waitPing(vm1.netns, '10.0.0.1');
    expect(await Promise.all([ping(vm1.netns, vm2.ip), ping(vm2.netns, vm1.ip)])).toEqual([false, false]);
    expect((await agent.debug()).validationErrors).toEqual([]);
  });
});
