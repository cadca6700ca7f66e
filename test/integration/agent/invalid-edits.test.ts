/**
 * Invalid edits in `vpc-agent run`: a Subnet edited into an invalid form, or its manifest file
 * broken by a YAML syntax error, does not take effect — the last valid version stays in NB
 * (its switch and router port are not deleted), the problem is reported (`/debug`
 * `validationErrors` and `heldEdits`); once fixed, the new version converges; a real removal
 * still deletes. Real NB ovsdb-server and ovn-northd (useCentral).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OWNER_KEY } from '../../../agent/nb/desired.js';
import type { HeldEdit } from '../../../agent/resources/index.js';
import { createAgent } from '../../../agent/run.js';
import { tmpDirForTest } from '../../harness/index.js';
import { nbctl, until, useCentral } from './nb/helpers.js';

const env = useCentral();

const vpc = `apiVersion: kubeovn.io/v1
kind: Vpc
metadata:
  name: vpc-1
spec: {}
`;
const subnet = (name: string, cidr: string, gateway: string) => `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: ${name}
spec:
  vpc: vpc-1
  cidrBlock: ${cidr}
  gateway: ${gateway}
  provider: ${name}.default.ovn
`;

/** `name → _uuid` of owned rows of `table` (ovn-nbctl's view). */
async function owned(table: string): Promise<Map<string, string>> {
  const out = await nbctl(env.central, '--format=json', '--columns=_uuid,name,external_ids', 'list', table);
  const json = JSON.parse(out) as { data: [[string, string], string, [string, [string, string][]]][] };
  return new Map(
    json.data
      .filter(([, , ids]) => ids[1].some(([k]) => k === OWNER_KEY))
      .map(([[, uuid], name]) => [name, uuid]),
  );
}

describe('invalid edits', () => {
  it('keep the last valid version in NB until fixed; a real removal still deletes', async () => {
    const { central } = env;
    const dir = await tmpDirForTest('held');
    await mkdir(dir, { recursive: true });
    const subnets = path.join(dir, 'subnets.yaml');
    await writeFile(path.join(dir, 'vpc.yaml'), vpc);
    await writeFile(
      subnets,
      [
        subnet('sub-a', '172.20.10.0/24', '172.20.10.1'),
        subnet('sub-b', '172.20.20.0/24', '172.20.20.1'),
      ].join('---\n'),
    );
    const agent = createAgent(
      {},
      {
        manifests: dir,
        nb: central.nb.unix,
        listen: '127.0.0.1:0',
        pollMs: 100,
        debounceMs: 20,
        lockName: 'test_held',
      },
    );
    const debug = async () =>
      (await (await fetch(`http://${agent.address()}/debug`)).json()) as {
        heldEdits: HeldEdit[];
        validationErrors: { kind: string; name: string; field: string }[];
      };
    try {
      await agent.start();
      await agent.loaded;
      await until(async () => (await owned('Logical_Switch')).size === 2, 'switches written');
      await agent.engine.settled();
      const switches = await owned('Logical_Switch');
      const ports = await owned('Logical_Router_Port');
      expect(ports.size).toBe(2);

      // sub-a's gateway moved outside its CIDR: refused, the old sub-a stays.
      await writeFile(
        subnets,
        [
          subnet('sub-a', '172.20.10.0/24', '172.20.99.1'),
          subnet('sub-b', '172.20.20.0/24', '172.20.20.1'),
        ].join('---\n'),
      );
      await until(async () => (await debug()).heldEdits.length === 1, 'the edit held');
      const d = await debug();
      expect(d.heldEdits[0]).toMatchObject({ kind: 'Subnet', name: 'sub-a' });
      expect(d.heldEdits[0]!.message).toContain('last valid version stays in effect');
      expect(d.validationErrors).toContainEqual(
        expect.objectContaining({ kind: 'Subnet', name: 'sub-a', field: 'spec.gateway' }),
      );
      await agent.engine.settled();
      expect((await agent.engine.reconcileNow()).sent).toBe(false);
      expect(await owned('Logical_Switch')).toEqual(switches);
      expect(await owned('Logical_Router_Port')).toEqual(ports);

      // A YAML syntax error in the file: both of its Subnets stay as they were.
      await writeFile(subnets, 'kind: Subnet\nmetadata: [unclosed\n');
      await until(async () => (await debug()).heldEdits.length === 2, 'the file held');
      expect((await debug()).heldEdits.map((h) => h.name).sort()).toEqual(['sub-a', 'sub-b']);
      await agent.engine.settled();
      expect((await agent.engine.reconcileNow()).sent).toBe(false);
      expect(await owned('Logical_Switch')).toEqual(switches);

      // Fixed, with a real change to sub-b's gateway: converges to the new version, nothing held.
      await writeFile(
        subnets,
        [
          subnet('sub-a', '172.20.10.0/24', '172.20.10.1'),
          subnet('sub-b', '172.20.20.0/24', '172.20.20.254'),
        ].join('---\n'),
      );
      await until(async () => (await debug()).heldEdits.length === 0, 'nothing held');
      await until(
        async () =>
          (await nbctl(central, '--bare', '--columns=networks', 'list', 'Logical_Router_Port')).includes(
            '172.20.20.254/24',
          ),
        'sub-b router port moved to the new gateway',
      );
      expect(await owned('Logical_Switch')).toEqual(switches);

      // Removing sub-b's document for real deletes its switch.
      await writeFile(subnets, subnet('sub-a', '172.20.10.0/24', '172.20.10.1'));
      await until(async () => (await owned('Logical_Switch')).size === 1, 'sub-b deleted');
      expect((await debug()).heldEdits).toEqual([]);
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an agent started while a manifest file is broken deletes nothing until it is fixed', async () => {
    const { central } = env;
    const dir = await tmpDirForTest('held-start');
    await mkdir(dir, { recursive: true });
    const subnets = path.join(dir, 'subnets.yaml');
    const good = [
      subnet('sub-c', '172.20.30.0/24', '172.20.30.1'),
      subnet('sub-d', '172.20.40.0/24', '172.20.40.1'),
    ];
    await writeFile(path.join(dir, 'vpc.yaml'), vpc);
    await writeFile(subnets, good.join('---\n'));
    const config = {
      manifests: dir,
      nb: central.nb.unix,
      pollMs: 100,
      debounceMs: 20,
      lockName: 'test_held_start',
    };
    const first = createAgent({}, config);
    let switches: Map<string, string>;
    try {
      await first.start();
      await first.loaded;
      await until(async () => (await owned('Logical_Switch')).size === 2, 'switches written');
      await first.engine.settled();
      switches = await owned('Logical_Switch');
    } finally {
      await first.stop();
    }

    await writeFile(subnets, 'kind: Subnet\nmetadata: [unclosed\n');
    const second = createAgent({}, config);
    try {
      await second.start();
      await second.loaded;
      await until(() => second.writer.isWriter() || undefined, 'writer lock');
      const pass = await second.engine.reconcileNow();
      expect(pass.error).toBeUndefined();
      expect(pass.counts.delete).toBe(0);
      expect(await owned('Logical_Switch')).toEqual(switches);
      // Fixed: the next load is complete and everything converges to it, rows unchanged.
      await writeFile(subnets, good.join('---\n'));
      await until(async () => {
        await second.engine.settled();
        const p = await second.engine.reconcileNow();
        return p.sent === false && p.error === undefined;
      }, 'converged after the fix');
      expect(await owned('Logical_Switch')).toEqual(switches);
      // And now a real removal deletes.
      await writeFile(subnets, good[0]!);
      await until(async () => (await owned('Logical_Switch')).size === 1, 'sub-d deleted');
    } finally {
      await second.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
