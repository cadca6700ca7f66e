/**
 * Blocked deletes in `vpc-agent run`: removing a Vpc whose Subnets are still declared
 * keeps the Vpc (its Logical_Router stays in NB) and reports it — a warning, `/debug`
 * `blockedDeletes` naming the Subnets, the `vpc_agent_resources_blocked_deletes` gauge. Once the
 * Subnets go too, the router and the switches are deleted on that pass and nothing owned remains.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlockedDelete } from '../../../agent/resources/index.js';
import { createAgent } from '../../../agent/run.js';
import { tmpDirForTest } from '../../harness/index.js';
import { ownedDump, ownedNames as ownedNamesOf, until, useCentral } from './nb/helpers.js';

const env = useCentral();

const vpc = (name: string) => `apiVersion: kubeovn.io/v1
kind: Vpc
metadata:
  name: ${name}
spec: {}
`;
const subnet = (name: string, vpcName: string, cidr: string) => `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: ${name}
spec:
  vpc: ${vpcName}
  cidrBlock: ${cidr}
  provider: ${name}.default.ovn
`;

const ownedNames = (table: string) => ownedNamesOf(env.central, table);

describe('blocked deletes', () => {
  it('keeps a removed Vpc while its Subnets remain, then deletes it with them', async () => {
    const { central } = env;
    const dir = await tmpDirForTest('blocked');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'vpc.yaml'), vpc('vpc-1'));
    await writeFile(
      path.join(dir, 'subnets.yaml'),
      [subnet('sub-a', 'vpc-1', '172.20.10.0/24'), subnet('sub-b', 'vpc-1', '172.20.20.0/24')].join('---\n'),
    );
    const agent = createAgent(
      {},
      {
        manifests: dir,
        nb: central.nb.unix,
        listen: '127.0.0.1:0',
        pollMs: 100,
        debounceMs: 20,
        lockName: 'test_blocked',
      },
    );
    const base = () => `http://${agent.address()}`;
    const debug = async () =>
      (await (await fetch(`${base()}/debug`)).json()) as {
        blockedDeletes: BlockedDelete[];
        validationErrors: unknown[];
      };
    const gauge = async () => {
      const text = await (await fetch(`${base()}/metrics`)).text();
      return /^vpc_agent_resources_blocked_deletes\{kind="Vpc"\} (\d+)$/m.exec(text)?.[1];
    };
    try {
      await agent.start();
      await agent.loaded;
      await until(async () => (await ownedNames('Logical_Switch')).length === 2, 'switches written');
      await agent.engine.settled();
      const routers = await ownedNames('Logical_Router');
      expect(routers).toHaveLength(1);
      expect(agent.blockedDeletes()).toEqual([]);

      // Remove only the Vpc document: it is kept, and reported.
      await rm(path.join(dir, 'vpc.yaml'));
      await until(() => agent.blockedDeletes().length === 1, 'delete blocked');
      await agent.engine.settled();
      const again = await agent.engine.reconcileNow();
      expect(again.sent).toBe(false);
      expect(await ownedNames('Logical_Router')).toEqual(routers);
      expect(await ownedNames('Logical_Switch')).toHaveLength(2);
      const d = await debug();
      expect(d.validationErrors).toEqual([]);
      expect(d.blockedDeletes).toHaveLength(1);
      const [b] = d.blockedDeletes;
      expect(b).toMatchObject({ kind: 'Vpc', name: 'vpc-1' });
      expect(b!.dependents.map((x) => `${x.kind}/${x.name}:${x.field}`).sort()).toEqual([
        'Subnet/sub-a:spec.vpc',
        'Subnet/sub-b:spec.vpc',
      ]);
      expect(b!.message).toContain('sub-a');
      expect(b!.message).toContain('sub-b');
      expect(await gauge()).toBe('1');

      // One Subnet goes: still blocked by the other.
      await writeFile(path.join(dir, 'subnets.yaml'), subnet('sub-b', 'vpc-1', '172.20.20.0/24'));
      await until(
        () => agent.blockedDeletes()[0]?.dependents.length === 1 && agent.blockedDeletes(),
        'one dependent left',
      );
      expect(agent.blockedDeletes()[0]!.dependents[0]!.name).toBe('sub-b');
      await until(async () => (await ownedNames('Logical_Switch')).length === 1, 'sub-a switch deleted');
      expect(await ownedNames('Logical_Router')).toEqual(routers);

      // The last Subnet goes: the Vpc is deleted on that pass; nothing owned remains.
      await rm(path.join(dir, 'subnets.yaml'));
      await until(async () => JSON.stringify(await ownedDump(central)) === '{}', 'everything deleted');
      expect(agent.blockedDeletes()).toEqual([]);
      expect((await debug()).blockedDeletes).toEqual([]);
      expect(await gauge()).toBeUndefined();
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('keeps a removed ProviderNetwork while a Vlan uses it (the VLAN subnet stays converged)', async () => {
    const { central } = env;
    const dir = await tmpDirForTest('blocked-pn');
    const file = path.join(dir, 'underlay.yaml');
    const docs = (await readFile(path.resolve('examples/vlan-underlay/underlay.yaml'), 'utf8')).split(
      /^---$/m,
    );
    await writeFile(file, docs.join('---'));
    const agent = createAgent(
      {},
      { manifests: dir, nb: central.nb.unix, pollMs: 100, debounceMs: 20, lockName: 'test_blocked_pn' },
    );
    try {
      await agent.start();
      await agent.loaded;
      await until(async () => (await ownedNames('Logical_Switch')).length === 1, 'VLAN switch written');
      await agent.engine.settled();
      const before = await ownedDump(central);

      await writeFile(file, docs.filter((d) => !/^kind: ProviderNetwork$/m.test(d)).join('---'));
      await until(() => agent.blockedDeletes().length === 1, 'delete blocked');
      expect(agent.blockedDeletes()[0]).toMatchObject({
        kind: 'ProviderNetwork',
        name: 'tor',
        dependents: [{ kind: 'Vlan', name: 'vlan2017', field: 'spec.provider' }],
      });
      await agent.engine.settled();
      expect((await agent.engine.reconcileNow()).sent).toBe(false);
      expect(await ownedDump(central)).toEqual(before);

      await rm(file);
      await until(async () => JSON.stringify(await ownedDump(central)) === '{}', 'everything deleted');
      expect(agent.blockedDeletes()).toEqual([]);
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
