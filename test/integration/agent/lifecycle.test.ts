/**
 * Lifecycle safety of `vpc-agent run` against a real NB ovsdb-server and ovn-northd: a manifest
 * directory that vanishes (a volume unmounted, a ConfigMap swap gone wrong) prunes nothing —
 * every switch stays — and once it is back a real removal deletes again; a writer that takes
 * over after another agent was killed starts from the current NB and deletes nothing still wanted.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agent/run.js';
import { tmpDirForTest } from '../../harness/index.js';
import { FAST, nbctl, ownedNames, until, useCentral } from './nb/helpers.js';

const env = useCentral();

const vpc = 'apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata:\n  name: vpc-1\nspec: {}\n';
const subnet = (name: string, third: number) =>
  `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata:\n  name: ${name}\nspec:\n  vpc: vpc-1\n` +
  `  cidrBlock: 172.20.${third}.0/24\n  provider: ${name}.default.ovn\n`;

const ownedSwitches = () => ownedNames(env.central, 'Logical_Switch');

describe('lifecycle', () => {
  it('a vanished manifests directory prunes nothing; once back, a real removal deletes', async () => {
    const root = await tmpDirForTest('vanish');
    const dir = path.join(root, 'manifests');
    await mkdir(dir);
    await writeFile(path.join(dir, 'vpc.yaml'), vpc);
    await writeFile(path.join(dir, 'a.yaml'), subnet('sub-a', 10));
    await writeFile(path.join(dir, 'b.yaml'), subnet('sub-b', 20));
    const agent = createAgent(
      {},
      { manifests: dir, nb: env.central.nb.unix, ...FAST, lockName: 'test_vanish' },
    );
    try {
      await agent.start();
      await until(async () => (await ownedSwitches()).length === 2, 'switches written');
      await rename(dir, `${dir}.away`);
      await until(() => agent.snapshot()?.complete === false, 'the incomplete load seen');
      await agent.engine.settled();
      // A pass on the incomplete load ran (the resync or a trigger) and deleted nothing.
      agent.engine.trigger('test', 0);
      await agent.engine.settled();
      expect(await ownedSwitches()).toEqual(['sub-a', 'sub-b']);
      expect(agent.snapshot()!.incomplete.join()).toContain('cannot list manifests');
      await rename(`${dir}.away`, dir);
      await until(() => agent.snapshot()?.complete === true, 'complete again');
      await rename(path.join(dir, 'b.yaml'), path.join(root, 'b.yaml'));
      await until(async () => (await ownedSwitches()).join() === 'sub-a', 'the real removal deleted sub-b');
    } finally {
      await agent.stop();
    }
  });

  it('a standby that takes over after the writer is killed deletes nothing still wanted', async () => {
    const dir = await tmpDirForTest('takeover');
    await writeFile(path.join(dir, 'vpc.yaml'), vpc);
    await writeFile(path.join(dir, 'a.yaml'), subnet('sub-c', 30));
    const cfg = {
      manifests: dir,
      nb: env.central.nb.unix,
      ...FAST,
      lockName: 'test_takeover',
    };
    const first = createAgent({}, cfg);
    const second = createAgent({}, cfg);
    try {
      await first.start();
      await until(() => first.writer.isWriter(), 'first is the writer');
      await second.start();
      await until(async () => (await ownedSwitches()).includes('sub-c'), 'written by the first');
      // A subnet added while the standby waits: the standby learns it from the same source.
      await writeFile(path.join(dir, 'b.yaml'), subnet('sub-d', 40));
      await until(async () => (await ownedSwitches()).includes('sub-d'), 'the new subnet written');
      await first.stop();
      await until(() => second.writer.isWriter(), 'the standby took over');
      await second.engine.settled();
      expect(await ownedSwitches()).toEqual(expect.arrayContaining(['sub-c', 'sub-d']));
      expect(second.engine.stats.ops.delete).toBe(0);
    } finally {
      await first.stop().catch(() => undefined);
      await second.stop();
    }
  });

  it('an NB killed and back on the same database: the writer resyncs and deletes nothing', async () => {
    const dir = await tmpDirForTest('nbkill');
    await writeFile(path.join(dir, 'vpc.yaml'), vpc);
    await writeFile(path.join(dir, 'a.yaml'), subnet('sub-k', 60));
    const agent = createAgent(
      {},
      { manifests: dir, nb: env.central.nb.unix, ...FAST, lockName: 'test_nbkill' },
    );
    try {
      await agent.start();
      await until(async () => (await ownedSwitches()).includes('sub-k'), 'written');
      await agent.engine.settled();
      const before = await ownedSwitches();
      const deletes = agent.engine.stats.ops.delete;
      const nbServer = env.central.servers.find((x) => x.name === 'nb')!;
      await nbServer.kill('SIGKILL');
      await until(() => !agent.client.isOnline, 'the agent saw NB go');
      await nbServer.restart();
      await until(() => agent.client.isOnline && agent.writer.isWriter(), 'back online and writer again');
      agent.engine.trigger('test', 0);
      await agent.engine.settled();
      expect(await ownedSwitches()).toEqual(before);
      expect(agent.engine.stats.ops.delete).toBe(deletes);
    } finally {
      await agent.stop();
    }
  });

  it("a Subnet's pool re-created (CIDR edited and back) never re-issues an address a node's LSP holds; removing it waits for its ports", async () => {
    const dir = await tmpDirForTest('repool');
    await writeFile(path.join(dir, 'vpc.yaml'), vpc);
    const file = path.join(dir, 'e.yaml');
    await writeFile(file, subnet('sub-e', 50));
    const agent = createAgent(
      {},
      { manifests: dir, nb: env.central.nb.unix, ...FAST, lockName: 'test_repool' },
    );
    const owner = 'vm/other-node/vm9/default/sub-e';
    try {
      await agent.start();
      await until(async () => (await ownedSwitches()).includes('sub-e'), 'switch written');
      // Another node's port holds the first address of the subnet.
      await nbctl(
        env.central,
        'lsp-add',
        'sub-e',
        'held-port',
        '--',
        'lsp-set-addresses',
        'held-port',
        '0a:00:00:00:00:02 172.20.50.2',
        '--',
        'set',
        'Logical_Switch_Port',
        'held-port',
        'external_ids:"vpc-agent.io/owner"="vpc-agent/node/other-node"',
        `external_ids:"vpc-agent.io/ip-owner"="${owner}"`,
        'external_ids:"vpc-agent.io/subnet"=sub-e',
        'external_ids:"vpc-agent.io/ip"="172.20.50.2"',
      );
      await until(() => agent.ipam.ownerOf('sub-e', '172.20.50.2') === owner, 'IPAM holds it');
      await writeFile(file, subnet('sub-e', 51));
      await until(
        () => agent.snapshot()?.resources.subnets.get('sub-e')?.spec.cidr.text === '172.20.51.0/24',
        'CIDR edited',
      );
      await writeFile(file, subnet('sub-e', 50));
      await until(
        () => agent.snapshot()?.resources.subnets.get('sub-e')?.spec.cidr.text === '172.20.50.0/24',
        'CIDR back',
      );
      expect(agent.ipam.ownerOf('sub-e', '172.20.50.2')).toBe(owner);
      expect(agent.ipam.allocate('sub-e', 'probe').ip).not.toBe('172.20.50.2');
      agent.ipam.release('probe', 'sub-e');
      // Removed from the manifests while the port is on its switch: kept, and reported.
      await rm(file);
      await until(() => agent.snapshot()?.blocked.some((b) => b.name === 'sub-e'), 'the delete blocked');
      await agent.engine.settled();
      expect(await ownedSwitches()).toContain('sub-e');
      // The port goes: so does the Subnet.
      await nbctl(env.central, 'lsp-del', 'held-port');
      await until(async () => !(await ownedSwitches()).includes('sub-e'), 'the switch deleted once unused');
    } finally {
      await agent.stop();
    }
  });
});
