/**
 * The Kubernetes source through the one resource pipeline, with the seed topologies of
 * `examples/` loaded into the fake API server: each converges to the same resources as from
 * the directory; a delete goes through (or is blocked while others depend on it); a bad
 * object is refused naming its kind/name/field while everything else converges; an invalid
 * edit is held; and a 410 relist or an API-server restart prunes nothing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../agent/errors.js';
import { createPipeline, type Pipeline } from '../../../../agent/pipeline/pipeline.js';
import type { Snapshot } from '../../../../agent/pipeline/snapshot.js';
import {
  allResources,
  listManifestFiles,
  loadAndValidate,
  resourceId,
  type Resource,
  type ResourceSet,
} from '../../../../agent/resources/index.js';
import { decodeManifestText } from '../../../../agent/resources/loader.js';
import type { KubernetesSource } from '../../../../agent/sources/kubernetes/index.js';
import { waitUntil } from '../../../../agent/sandbox/process.js';
import type { FakeKubeApiServer } from '../../../harness/fake-kube-apiserver.js';
import { silent, subnet, useFakeApi, vpc } from './helpers.js';

const EXAMPLES = path.resolve('examples');
const SEEDS = ['vpc-two-subnets', 'private-subnet', 'vpc-peering', 'vlan-underlay', 'nat-outgoing'];

/** Applies every document of a seed to the fake, as `kubectl apply -f examples/<seed>` would. */
async function loadSeed(fake: FakeKubeApiServer, seed: string): Promise<void> {
  for (const file of await listManifestFiles(path.join(EXAMPLES, seed))) {
    const { docs, errors } = decodeManifestText(await readFile(file, 'utf8'), file);
    expect(errors).toEqual([]);
    for (const d of docs) fake.apply(d.doc as Record<string, unknown>);
  }
}

const ids = (set: ResourceSet) => allResources(set).map(resourceId).sort();
/** A resource without where it came from (file vs API object) and server-set metadata. */
function comparable(r: Resource) {
  const { source: _s, uid: _u, creationTimestamp: _c, ...meta } = r.meta;
  return { ...r, meta };
}

/** A source feeding a pipeline; `until` waits for a pipeline snapshot that satisfies `pred`. */
async function piped(src: KubernetesSource) {
  const pipeline: Pipeline = createPipeline({ log: silent });
  const seen: Snapshot[] = [];
  await src.start((s) => void seen.push(pipeline.apply(s)));
  return {
    seen,
    current: () => pipeline.current()!,
    until: (pred: (s: Snapshot) => boolean, what: string) =>
      waitUntil(
        () => {
          const s = pipeline.current();
          return s && pred(s) ? s : undefined;
        },
        { what, timeoutMs: 10_000, intervalMs: 10 },
      ),
  };
}

describe('Kubernetes source → pipeline', () => {
  const ctx = useFakeApi();

  for (const seed of SEEDS) {
    it(`${seed}: the same resources as from the directory, complete, no errors`, async () => {
      await loadSeed(ctx.fake, seed);
      const p = await piped(ctx.source());
      const s = p.current();
      expect(s.errors.map((e) => e.message)).toEqual([]);
      expect(s.complete).toBe(true);
      const fromDir = await loadAndValidate(path.join(EXAMPLES, seed));
      expect(fromDir.errors).toEqual([]);
      expect(ids(s.resources)).toEqual(ids(fromDir.valid));
      expect(ids(s.resources).length).toBeGreaterThan(1);
      const byId = new Map(allResources(fromDir.valid).map((r) => [resourceId(r), comparable(r)]));
      for (const r of allResources(s.resources)) expect(comparable(r)).toEqual(byId.get(resourceId(r)));
    });
  }

  it('a delete goes through; a Vpc still named by a Subnet is blocked until the Subnet goes', async () => {
    await loadSeed(ctx.fake, 'vpc-two-subnets');
    const p = await piped(ctx.source());
    ctx.fake.delete('NetworkAttachmentDefinition', 'vswitch2', 'default');
    ctx.fake.delete('Subnet', 'vswitch2-subnet');
    let s = await p.until((x) => !x.resources.subnets.has('vswitch2-subnet'), 'subnet deleted');
    expect(s.complete).toBe(true);
    expect([...s.resources.nads.keys()]).toEqual(['default/vswitch1']);
    ctx.fake.delete('Vpc', 'vpc-1');
    s = await p.until((x) => x.blocked.length > 0, 'vpc delete blocked');
    expect(s.resources.vpcs.has('vpc-1')).toBe(true);
    expect(s.blocked[0]).toMatchObject({ kind: 'Vpc', name: 'vpc-1' });
  });

  it('a bad object is refused naming its kind/name/field and object; everything else converges', async () => {
    await loadSeed(ctx.fake, 'vpc-two-subnets');
    const p = await piped(ctx.source());
    const bad = subnet('bad', '172.20.30.0/24');
    bad.spec.gateway = '172.20.31.1';
    ctx.fake.apply(bad);
    ctx.fake.apply(subnet('good', '172.20.40.0/24'));
    const s = await p.until((x) => x.resources.subnets.has('good'), 'good subnet in');
    expect(s.resources.subnets.has('bad')).toBe(false);
    const errs = s.errors.filter((e): e is ValidationError => e instanceof ValidationError);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({
      kind: 'Subnet',
      resourceName: 'bad',
      field: 'spec.gateway',
      source: { file: 'kubernetes:Subnet/bad', document: 0 },
    });
    expect(errs[0]!.message).toMatch(/^Subnet bad: spec\.gateway: /);
    expect(s.complete).toBe(true);
    expect(s.resources.subnets.size).toBe(3);
  });

  it('an invalid edit keeps the last valid version in effect and names the object', async () => {
    await loadSeed(ctx.fake, 'vpc-two-subnets');
    const p = await piped(ctx.source());
    const before = p.current().resources.subnets.get('vswitch2-subnet');
    expect(before).toBeDefined();
    const [obj] = ctx.fake.list('Subnet').filter((o) => o.metadata.name === 'vswitch2-subnet');
    ctx.fake.apply({ ...obj!, spec: { ...(obj!['spec'] as object), cidrBlock: 'not-a-cidr' } });
    const s = await p.until((x) => x.errors.length > 0, 'edit refused');
    expect(s.errors.map((e) => e.message)).toEqual([
      'Subnet vswitch2-subnet: spec.cidrBlock: "not-a-cidr" is not a CIDR (expected address/prefix)',
    ]);
    expect(s.resources.subnets.get('vswitch2-subnet')).toEqual(before);
  });

  it('410 with a slow relist: the pipeline prunes nothing while incomplete, then the delete goes through', async () => {
    const { fake } = ctx;
    await loadSeed(fake, 'vpc-two-subnets');
    const p = await piped(ctx.source());
    fake.stallWatches(true);
    fake.delete('NetworkAttachmentDefinition', 'vswitch2', 'default');
    fake.compact();
    fake.failLists('network-attachment-definitions', 503);
    fake.dropWatches();
    fake.stallWatches(false);
    const during = await p.until(
      (x) =>
        x.incomplete.some((w) => w.startsWith('NetworkAttachmentDefinition: listing again after 410 Gone')),
      'incomplete naming the NADs',
    );
    expect(during.complete).toBe(false);
    expect([...during.resources.nads.keys()].sort()).toEqual(['default/vswitch1', 'default/vswitch2']);
    fake.failLists('network-attachment-definitions', undefined);
    const after = await p.until((x) => x.complete, 'complete');
    expect([...after.resources.nads.keys()]).toEqual(['default/vswitch1']);
    for (const s of p.seen) if (!s.complete) expect(s.resources.nads.has('default/vswitch2')).toBe(true);
  });

  it('an API-server restart that loses its history: every snapshot keeps every resource', async () => {
    const { fake } = ctx;
    await loadSeed(fake, 'nat-outgoing');
    const p = await piped(ctx.source());
    const all = ids(p.current().resources);
    await fake.stop();
    fake.apply(vpc('while-down'));
    await fake.restart({ loseHistory: true });
    const after = await p.until((x) => x.complete && x.resources.vpcs.has('while-down'), 'relisted');
    expect(ids(after.resources)).toEqual([...all, 'Vpc/while-down'].sort());
    expect(ctx.sources[0]!.stats().gone).toBeGreaterThanOrEqual(1);
    for (const s of p.seen) expect(ids(s.resources)).toEqual(expect.arrayContaining(all));
  });

  it('before the first list of every kind completes, nothing is pruned', async () => {
    const { fake } = ctx;
    await loadSeed(fake, 'vpc-two-subnets');
    fake.failLists('vlans', 500);
    const p = await piped(ctx.source());
    const first = p.current();
    expect(first.complete).toBe(false);
    expect(first.incomplete).toEqual([expect.stringMatching(/^Vlan: not listed yet: 500/)]);
    expect(first.resources.subnets.size).toBe(2);
    fake.failLists('vlans', undefined);
    await p.until((x) => x.complete, 'complete once Vlans listed');
  });
});
