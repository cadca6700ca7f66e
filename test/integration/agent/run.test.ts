/**
 * `vpc-agent run` wiring (createAgent) against a real NB + SB + northd: each seed topology of
 * `examples/` converges, northd produces logical flows for every datapath we own, `/healthz`
 * and `/debug` answer, removing the manifests leaves no owned rows; and IPAM rebuilt from NB
 * gives every port its address back after a restart.
 */
import { cp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ipam } from '../../../agent/ipam/index.js';
import { buildNorthbound, type PortAllocation } from '../../../agent/nb/build/index.js';
import { OWNER_KEY } from '../../../agent/nb/desired.js';
import { loadAndValidate } from '../../../agent/resources/index.js';
import { createAgent, ipamEntriesFromNb } from '../../../agent/run.js';
import { tmpDirForTest } from '../../harness/index.js';
import { connectNb, nbctl, ownedDump, sbctl, startTestAgent, until, useCentral } from './nb/helpers.js';

const env = useCentral();
const EXAMPLES = path.resolve('examples');

/** Names of owned rows of `table` (ovn-nbctl's view). */
async function ownedNames(table: string): Promise<string[]> {
  const out = await nbctl(env.central, '--format=json', '--columns=name,external_ids', 'list', table);
  const json = JSON.parse(out) as { data: [string, [string, [string, string][]]][] };
  return json.data.filter(([, ids]) => ids[1].some(([k]) => k === OWNER_KEY)).map(([n]) => n);
}

describe('vpc-agent run on the seed topologies', () => {
  for (const seed of [
    'vpc-two-subnets',
    'private-subnet',
    'vpc-peering',
    'vlan-underlay',
    'nat-outgoing',
    'vpc-nat-gateway',
  ]) {
    it(`${seed}: converges, northd builds flows per datapath, deletes leave nothing`, async () => {
      const { central } = env;
      const dir = await tmpDirForTest('seed');
      await cp(path.join(EXAMPLES, seed), dir, { recursive: true });
      const agent = createAgent(
        {},
        {
          manifests: dir,
          nb: central.nb.unix,
          listen: '127.0.0.1:0',
          pollMs: 100,
          debounceMs: 20,
          lockName: 'test_run',
        },
      );
      try {
        await agent.start();
        await agent.loaded;
        await until(() => agent.engine.stats.transactions >= 1, 'first transaction');
        await agent.engine.settled();
        expect(agent.engine.problems()).toEqual([]);
        const again = await agent.engine.reconcileNow();
        expect(again.sent).toBe(false);

        await nbctl(central, '--wait=sb', 'sync');
        const datapaths = [...(await ownedNames('Logical_Switch')), ...(await ownedNames('Logical_Router'))];
        expect(datapaths.length).toBeGreaterThan(0);
        for (const dp of datapaths) {
          const flows = (await sbctl(central, 'lflow-list', dp))
            .split('\n')
            .filter((l) => l.includes('table='));
          expect(flows.length, `logical flows of ${dp}`).toBeGreaterThan(0);
        }

        const base = `http://${agent.address()}`;
        const health = await fetch(`${base}/healthz`);
        expect(health.status).toBe(200);
        const debug = (await (await fetch(`${base}/debug`)).json()) as {
          desired: object;
          actual: object;
          writer: boolean;
        };
        expect(debug.writer).toBe(true);
        expect(debug.actual).toEqual(debug.desired);

        for (const f of await readdir(dir)) await rm(path.join(dir, f));
        // Nothing owned remains: the undeclared default VPC gets a router only while it has subnets.
        await until(
          async () => JSON.stringify(await ownedDump(central)) === JSON.stringify({}),
          'owned rows removed',
        );
        expect(await ownedNames('Logical_Router')).toEqual([]);
      } finally {
        await agent.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('a restart keeps every port address (IPAM rebuilt from NB)', async () => {
    const { central } = env;
    const loaded = await loadAndValidate(path.join(EXAMPLES, 'vpc-two-subnets'));
    const subnets = [...loaded.valid.subnets.values()];
    const first = new Ipam();
    first.setSubnets(subnets);
    const owners = Array.from({ length: 12 }, (_, i) => `vm${i}`);
    const ports: PortAllocation[] = owners.map((o, i) => {
      const subnet = subnets[i % subnets.length]!.meta.name;
      const a = first.allocate(subnet, o);
      return { subnet, name: `${o}-port`, ip: a.ip, mac: a.mac, owner: o };
    });
    const agent = await startTestAgent(central, 'test_restart');
    try {
      agent.engine.setDesired(buildNorthbound({ resources: loaded.valid, ports }), { complete: true });
      await until(() => agent.engine.stats.transactions >= 1, 'ports written');
      await agent.engine.settled();
    } finally {
      await agent.close();
    }
    // "Restart": a fresh client and IPAM; allocate in reverse order to prove nothing is positional.
    const client = await connectNb(central);
    try {
      const second = new Ipam();
      second.setSubnets(subnets);
      const res = second.rebuild(ipamEntriesFromNb(client, 'vpc-agent'));
      expect(res.rejected).toEqual([]);
      expect(res.restored).toBe(ports.length);
      for (const p of [...ports].reverse()) {
        const a = second.allocate(p.subnet, p.owner);
        expect({ ip: a.ip, mac: a.mac }).toEqual({ ip: p.ip, mac: p.mac });
      }
    } finally {
      await client.close();
    }
    const cleanup = await startTestAgent(central, 'test_restart');
    try {
      cleanup.engine.setDesired(new Map(), { complete: true });
      await until(async () => Object.keys(await ownedDump(central)).length === 0, 'cleaned');
    } finally {
      await cleanup.close();
    }
  });
});
