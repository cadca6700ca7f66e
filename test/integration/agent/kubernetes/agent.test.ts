/**
 * The whole agent (`createAgent`) reading from the Kubernetes source — the fake API server
 * (no real one can run here) — against a real NB + SB + northd: `examples/vpc-two-subnets`
 * converges from the API; a 410 whose relist is slow prunes nothing from Northbound while the
 * snapshot is incomplete; deleting the objects then removes every owned row.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeManifestText } from '../../../../agent/resources/loader.js';
import { listManifestFiles } from '../../../../agent/resources/index.js';
import { createAgent } from '../../../../agent/run.js';
import { ownedDump, ownedNames, until, useCentral } from '../nb/helpers.js';
import { silent, useFakeApi } from './helpers.js';

const SEED = path.resolve('examples/vpc-two-subnets');

describe('vpc-agent run with the Kubernetes source', () => {
  const env = useCentral();
  const ctx = useFakeApi();

  it('vpc-two-subnets converges from the API; a 410 mid-run prunes nothing until the relist completes', async () => {
    const { central } = env;
    const { fake } = ctx;
    for (const file of await listManifestFiles(SEED)) {
      const { docs } = decodeManifestText(await readFile(file, 'utf8'), file);
      for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
    }
    const source = ctx.source();
    const agent = createAgent(
      { log: silent, source },
      { manifests: '(kubernetes)', nb: central.nb.unix, debounceMs: 20, lockName: 'test_kube' },
    );
    try {
      await agent.start();
      await agent.loaded;
      await until(() => agent.engine.stats.transactions >= 1, 'first transaction');
      await agent.engine.settled();
      expect(agent.engine.problems()).toEqual([]);
      expect((await agent.engine.reconcileNow()).sent).toBe(false);
      const switches = await ownedNames(central, 'Logical_Switch');
      expect(switches).toHaveLength(2);
      const full = await ownedDump(central);

      // The watch misses the delete of a Subnet and its NAD, the history is compacted, the
      // re-watch gets 410 and the Subnet list fails for a while.
      fake.stallWatches(true);
      fake.delete('NetworkAttachmentDefinition', 'vswitch2', 'default');
      fake.delete('Subnet', 'vswitch2-subnet');
      fake.compact();
      fake.failLists('subnets', 500);
      fake.dropWatches();
      fake.stallWatches(false);
      // Every kind's watch gets 410 (the history is shared); the Subnet relist keeps failing.
      await until(
        () => agent.snapshot()?.incomplete.some((w) => w.startsWith('Subnet: listing again after 410 Gone')),
        'incomplete snapshot naming Subnet',
      );
      expect(agent.snapshot()?.complete).toBe(false);
      await agent.engine.reconcileNow();
      await agent.engine.settled();
      expect(await ownedNames(central, 'Logical_Switch')).toEqual(switches);
      expect(await ownedDump(central)).toEqual(full);

      fake.failLists('subnets', undefined);
      await until(async () => (await ownedNames(central, 'Logical_Switch')).length === 1, 'subnet pruned');
      expect(agent.snapshot()?.complete).toBe(true);

      for (const kind of ['NetworkAttachmentDefinition', 'Subnet', 'Vpc'])
        for (const o of fake.list(kind)) fake.delete(kind, o.metadata.name, o.metadata.namespace);
      await until(async () => Object.keys(await ownedDump(central)).length === 0, 'owned rows removed');
    } finally {
      await agent.stop();
    }
  });
});
