/**
 * The Kubernetes source against the fake API server (a fake: no real API server can run
 * here): first list and completeness, watch events, chunked lists, 410 relists that keep
 * everything until they complete, API-server restarts, missing CRDs, bookmarks, throttling,
 * stuck watches and watch timeouts.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesSource, type KubernetesSource } from '../../../../agent/sources/kubernetes/index.js';
import { makeCert } from '../../../harness/certs.js';
import { AGENT_RESOURCES, startFakeKubeApiServer } from '../../../harness/fake-kube-apiserver.js';
import { makeTmpDir } from '../../../harness/index.js';
import { collector, FAST, namesOf, subnet, useFakeApi, vpc } from './helpers.js';

const nad = (name: string, namespace: string) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name, namespace },
  spec: {
    config: JSON.stringify({ cniVersion: '0.3.1', type: 'kube-ovn', provider: `${name}.${namespace}.ovn` }),
  },
});

describe('Kubernetes source', () => {
  const ctx = useFakeApi();

  it('first list: one complete snapshot with every kind, documents shaped as manifests, objects named', async () => {
    const { fake } = ctx;
    fake.apply(vpc('vpc-1'));
    fake.apply(subnet('s1', '172.20.10.0/24'));
    fake.apply(nad('s1', 'tenant-a'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    expect(c.seen).toHaveLength(1);
    const s = c.seen[0]!;
    expect(s).toMatchObject({ complete: true, incomplete: [], errors: [], broken: [] });
    expect(namesOf(s)).toEqual(['vpc-1', 's1', 'tenant-a/s1']);
    const doc = s.items[1]!.doc as Record<string, Record<string, unknown>>;
    expect(Object.keys(doc).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(doc['metadata']).not.toHaveProperty('resourceVersion');
    expect(doc['metadata']).not.toHaveProperty('managedFields');
    expect(doc['metadata']).toHaveProperty('uid');
    expect(s.items.map((i) => i.source.file)).toEqual([
      'kubernetes:Vpc/vpc-1',
      'kubernetes:Subnet/s1',
      'kubernetes:NetworkAttachmentDefinition/tenant-a/s1',
    ]);
    // Every kind was listed in pages and then watched from the list's version, with bookmarks.
    await waitFor(() => fake.openWatches() === 10);
    const vpcWatch = fake.requests.find((r) => r.path === '/apis/kubeovn.io/v1/vpcs' && r.query['watch']);
    expect(vpcWatch?.query).toMatchObject({
      allowWatchBookmarks: 'true',
      resourceVersion: String(fake.resourceVersion()),
    });
    const list = fake.requests.find((r) => r.path === '/apis/kubeovn.io/v1/vpcs' && !r.query['watch']);
    expect(list?.query['limit']).toBe('500');
    expect(src.name).toBe(`kubernetes:${fake.url}`);
  });

  it('adds, edits and deletes arrive as snapshots; a burst is one snapshot', async () => {
    const { fake } = ctx;
    fake.apply(vpc('vpc-1'));
    const c = collector();
    const src = ctx.source({ batchMs: 50 });
    await src.start(c.on);
    fake.apply(subnet('s1', '172.20.10.0/24'));
    await c.until((s) => namesOf(s).includes('s1'), 'add');
    fake.apply({ ...subnet('s1', '172.20.10.0/24'), metadata: { name: 's1', labels: { edited: 'yes' } } });
    await c.until(
      (s) =>
        (s.items[1]?.doc as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['edited'] ===
        'yes',
      'edit',
    );
    fake.delete('Subnet', 's1');
    const last = await c.until((s) => !namesOf(s).includes('s1'), 'delete');
    expect(last.complete).toBe(true);
    const before = c.seen.length;
    for (let i = 0; i < 20; i++) fake.apply(vpc(`burst-${i}`));
    await c.until((s) => namesOf(s, 'Vpc').length === 21, 'burst');
    expect(c.seen.length - before).toBeLessThan(5);
  });

  it('lists in pages (limit/continue) and keeps every object', async () => {
    const { fake } = ctx;
    for (let i = 0; i < 7; i++) fake.apply(vpc(`v${i}`));
    const c = collector();
    const src = ctx.source({ pageSize: 3 });
    await src.start(c.on);
    expect(namesOf(c.seen[0], 'Vpc')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    const vpcLists = fake.requests.filter((r) => r.path === '/apis/kubeovn.io/v1/vpcs' && !r.query['watch']);
    expect(vpcLists).toHaveLength(3);
    expect(vpcLists.map((r) => r.query['limit'])).toEqual(['3', '3', '3']);
    expect(vpcLists[1]!.query['continue']).toBeTruthy();
    expect(c.seen[0]!.complete).toBe(true);
  });

  it('a continue token that expires mid-list (410) restarts the list; the result is whole', async () => {
    const { fake } = ctx;
    for (let i = 0; i < 6; i++) fake.apply(vpc(`v${i}`));
    let compacted = false;
    fake.onRequest = (r) => {
      if (!compacted && r.path === '/apis/kubeovn.io/v1/vpcs' && r.query['continue']) {
        compacted = true;
        fake.apply(vpc('v6'));
        fake.compact();
      }
    };
    const c = collector();
    const src = ctx.source({ pageSize: 2, kinds: ['Vpc'] });
    await src.start(c.on);
    const s = await c.until((x) => x.complete, 'listed');
    expect(compacted).toBe(true);
    expect(namesOf(s, 'Vpc')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    expect(src.stats().gone).toBe(1);
    // Every snapshot shows a whole list, never the pages of a list that failed.
    for (const x of c.seen) expect([0, 7]).toContain(namesOf(x, 'Vpc').length);
  });

  it('an API server down at start: incomplete naming the error, complete once it is up', async () => {
    const { fake } = ctx;
    fake.apply(vpc('a'));
    await fake.stop();
    const c = collector();
    const src = ctx.source({ kinds: ['Vpc', 'Subnet'] });
    await src.start(c.on);
    expect(c.seen[0]).toMatchObject({ complete: false, items: [] });
    expect(c.seen[0]!.incomplete).toEqual([
      expect.stringMatching(/^Vpc: not listed yet: .*ECONNREFUSED/),
      expect.stringMatching(/^Subnet: not listed yet: .*ECONNREFUSED/),
    ]);
    await fake.start();
    const up = await c.until((x) => x.complete, 'complete');
    expect(namesOf(up)).toEqual(['a']);
  });

  it('410 mid-watch: lists again, keeps everything (incomplete) until the list completes, then converges', async () => {
    const { fake } = ctx;
    fake.apply(vpc('keep'));
    fake.apply(vpc('gone-while-away'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    // Events are missed (the watch is stuck), then the history is compacted and the
    // connections dropped: the re-watch gets 410 and the list fails for a while.
    fake.stallWatches(true);
    fake.delete('Vpc', 'gone-while-away');
    fake.apply(vpc('new'));
    fake.compact();
    fake.failLists('vpcs', 500);
    fake.dropWatches();
    fake.stallWatches(false);
    const during = await c.until(
      (s) => s.incomplete.some((w) => w.startsWith('Vpc: listing again after 410 Gone')),
      'incomplete while relisting',
    );
    expect(during.complete).toBe(false);
    expect(namesOf(during, 'Vpc')).toEqual(['gone-while-away', 'keep']);
    fake.failLists('vpcs', undefined);
    const after = await c.until((s) => s.complete, 'complete again');
    expect(namesOf(after, 'Vpc')).toEqual(['keep', 'new']);
    expect(src.stats().gone).toBeGreaterThanOrEqual(1);
    // Nothing that still exists was ever missing from a snapshot.
    for (const s of c.seen) expect(namesOf(s, 'Vpc')).toContain('keep');
  });

  it('an API-server restart loses nothing: changes made while it was down arrive, with or without history', async () => {
    const { fake } = ctx;
    fake.apply(vpc('a'));
    fake.apply(vpc('b'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    await fake.stop();
    fake.apply(vpc('c'));
    fake.delete('Vpc', 'a');
    await fake.start();
    await c.until((s) => namesOf(s, 'Vpc').join() === 'b,c', 'resumed from its version');
    expect(src.stats().gone).toBe(0);
    await fake.stop();
    fake.apply(vpc('d'));
    await fake.restart({ loseHistory: true });
    const done = await c.until((s) => s.complete && namesOf(s, 'Vpc').join() === 'b,c,d', 'relisted');
    expect(done.complete).toBe(true);
    expect(src.stats().gone).toBeGreaterThanOrEqual(1);
    for (const s of c.seen) expect(namesOf(s, 'Vpc')).toContain('b');
  });

  it('a kind whose CRD is missing makes snapshots incomplete naming it; installed later, complete', async () => {
    const { fake } = ctx;
    fake.unserve('iptables-eips');
    fake.apply(vpc('vpc-1'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    const first = c.seen[0]!;
    expect(first.complete).toBe(false);
    expect(first.incomplete).toHaveLength(1);
    expect(first.incomplete[0]).toMatch(
      /^IptablesEIP: the API server does not serve kubeovn.io\/v1 iptables-eips/,
    );
    expect(namesOf(first)).toEqual(['vpc-1']);
    fake.serve({
      group: 'kubeovn.io',
      version: 'v1',
      plural: 'iptables-eips',
      kind: 'IptablesEIP',
      namespaced: false,
    });
    await c.until((s) => s.complete, 'CRD installed');
    expect(src.state().find((k) => k.kind === 'IptablesEIP')).toMatchObject({ listed: true, missing: false });
  });

  it('bookmarks advance a quiet kind: after compaction it resumes without a 410', async () => {
    const { fake } = ctx;
    fake.apply(vpc('quiet'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    const listedAt = src.state().find((k) => k.kind === 'Vpc')!.resourceVersion;
    for (let i = 0; i < 5; i++) fake.apply(subnet(`s${i}`, `172.20.${i}.0/24`));
    await c.until((s) => namesOf(s, 'Subnet').length === 5, 'subnets');
    await waitFor(() => fake.openWatches() === 10);
    fake.bookmark();
    const now = String(fake.resourceVersion());
    await c.until(() => src.state().every((k) => k.resourceVersion === now), 'bookmarks received');
    expect(Number(now)).toBeGreaterThan(Number(listedAt));
    expect(src.stats().bookmarks).toBeGreaterThanOrEqual(10);
    fake.compact();
    const before = fake.requests.length;
    fake.dropWatches();
    await waitFor(() => fake.openWatches() === 10);
    const rewatch = fake.requests.slice(before).find((r) => r.path === '/apis/kubeovn.io/v1/vpcs');
    expect(rewatch?.query).toMatchObject({ watch: 'true', resourceVersion: now });
    expect(src.stats().gone).toBe(0);
    expect(src.stats().lists).toBe(10);
  });

  it('429: waits for Retry-After, then lists', async () => {
    const { fake } = ctx;
    fake.apply(vpc('a'));
    fake.throttle(1, 1);
    const c = collector();
    const src = ctx.source({ kinds: ['Vpc'] });
    await src.start(c.on);
    expect(c.seen[0]).toMatchObject({ complete: false });
    expect(c.seen[0]!.incomplete[0]).toMatch(/^Vpc: not listed yet: 429/);
    await c.until((s) => s.complete && namesOf(s).join() === 'a', 'listed after the wait');
    const [first, second] = fake.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(src.stats().throttled).toBe(1);
  });

  it('a stuck watch (open, silent) is dropped after the idle timeout and resumes', async () => {
    const { fake } = ctx;
    const c = collector();
    const src = ctx.source({ kinds: ['Vpc'], idleTimeoutMs: 300 });
    await src.start(c.on);
    await waitFor(() => fake.openWatches() === 1);
    fake.stallWatches(true);
    fake.apply(vpc('late'));
    fake.stallWatches(false);
    await c.until((s) => namesOf(s).join() === 'late', 'event after the re-watch');
    expect(src.stats().stuck).toBeGreaterThanOrEqual(1);
    expect(src.stats().gone).toBe(0);
  });

  it('a watch the server ends at timeoutSeconds is re-opened from its version', async () => {
    const { fake } = ctx;
    const c = collector();
    const src = ctx.source({ kinds: ['Vpc'], watchTimeoutSeconds: 1 });
    await src.start(c.on);
    await waitFor(() => src.stats().watches >= 2, 5000);
    fake.apply(vpc('after-timeout'));
    await c.until((s) => namesOf(s).join() === 'after-timeout', 'event on the new watch');
    expect(src.stats()).toMatchObject({ lists: 1, gone: 0, errors: 0 });
  });

  it('a watch that ends at once without events is retried with backoff, not in a loop', async () => {
    const { fake } = ctx;
    const c = collector();
    const src = ctx.source({ kinds: ['Vpc'] });
    await src.start(c.on);
    await waitFor(() => fake.openWatches() === 1);
    fake.endWatchesAtOnce(true);
    const from = fake.requests.length;
    fake.dropWatches();
    // Backoff from 20 ms, doubling (±20 %): the first four attempts span at least 0.8 × 140 ms;
    // a loop without backoff would make them within a few milliseconds.
    const watches = () => fake.requests.slice(from).filter((r) => r.query['watch']);
    await waitFor(() => watches().length >= 5);
    const [, a1, , , a4] = watches();
    expect(a4!.at - a1!.at).toBeGreaterThanOrEqual(112);
    fake.endWatchesAtOnce(false);
    fake.apply(vpc('after'));
    await c.until((s) => namesOf(s).join() === 'after', 'event once watches work again');
  });

  it('a list that does not answer in time is abandoned and retried; incomplete until one does', async () => {
    const { fake } = ctx;
    fake.apply(vpc('a'));
    fake.delayLists(60_000);
    const c = collector();
    const src = ctx.source({ kinds: ['Vpc'], requestTimeoutMs: 200 });
    await src.start(c.on);
    expect(c.seen[0]).toMatchObject({ complete: false });
    expect(c.seen[0]!.incomplete).toEqual([
      'Vpc: not listed yet: /apis/kubeovn.io/v1/vpcs: no answer within 200 ms',
    ]);
    fake.delayLists(0);
    const s = await c.until((x) => x.complete, 'listed');
    expect(namesOf(s)).toEqual(['a']);
  });

  it('check() lists every kind again', async () => {
    const { fake } = ctx;
    fake.apply(vpc('a'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    await src.check();
    expect(src.stats().lists).toBe(20);
    expect(c.last()).toMatchObject({ complete: true });
    expect(namesOf(c.last())).toEqual(['a']);
  });
});

describe('Kubernetes source, 410 as an HTTP status', () => {
  const ctx = useFakeApi({ goneAs: 'http' });

  it('410 as an HTTP answer to the watch is handled the same way', async () => {
    const { fake } = ctx;
    fake.apply(vpc('a'));
    const c = collector();
    const src = ctx.source();
    await src.start(c.on);
    fake.stallWatches(true);
    fake.apply(vpc('b'));
    fake.compact();
    fake.dropWatches();
    fake.stallWatches(false);
    await c.until((s) => s.complete && namesOf(s, 'Vpc').join() === 'a,b', 'converged');
    expect(src.stats().gone).toBeGreaterThanOrEqual(1);
    expect(ctx.fake.requests.some((r) => r.query['watch'] && Number(r.query['resourceVersion']) < 3)).toBe(
      true,
    );
  });
});

describe('Kubernetes source with credentials', () => {
  const ctx = useFakeApi({ token: 's3cret' });

  it('sends the kubeconfig token; a wrong one is reported per kind, never complete', async () => {
    ctx.fake.apply(vpc('a'));
    const c = collector();
    await ctx.source({ kinds: ['Vpc'] }).start(c.on);
    expect(c.seen[0]).toMatchObject({ complete: true });
    await ctx.fake.writeKubeconfig(ctx.kubeconfig);
    const bad = collector();
    const { loadKubeConfig } = await import('../../../../agent/sources/kubernetes/index.js');
    const kc = loadKubeConfig({ kubeconfigPath: ctx.kubeconfig });
    kc.users[0] = { name: 'fake', token: 'wrong' } as never;
    await ctx.source({ kinds: ['Vpc'], kubeConfig: kc }).start(bad.on);
    expect(bad.seen[0]).toMatchObject({ complete: false, items: [] });
    expect(bad.seen[0]!.incomplete[0]).toMatch(/^Vpc: not listed yet: 401/);
  });
});

async function waitFor(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const { waitUntil } = await import('../../../../agent/sandbox/process.js');
  await waitUntil(() => pred() || undefined, { what: 'condition', timeoutMs, intervalMs: 10 });
}

describe('Kubernetes source over HTTPS', () => {
  let pki: { key: string; cert: string; ca: string } | undefined;
  beforeAll(async () => {
    const dir = await makeTmpDir('kube-pki');
    await makeCert(dir, 'ca');
    await makeCert(dir, 'apiserver', 'ca');
    const read = (f: string) => readFile(path.join(dir, f), 'utf8');
    pki = { key: await read('apiserver.key'), cert: await read('apiserver.pem'), ca: await read('ca.pem') };
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts the kubeconfig CA (and only it), sends its token', async () => {
    const fake = await startFakeKubeApiServer({ tls: { ...pki!, serverName: 'apiserver' }, token: 't0ken' });
    const dir = await makeTmpDir('kube-tls');
    const sources: KubernetesSource[] = [];
    try {
      fake.serve(AGENT_RESOURCES[0]!);
      fake.apply(vpc('over-tls'));
      const kubeconfig = path.join(dir, 'kubeconfig');
      await fake.writeKubeconfig(kubeconfig);
      const c = collector();
      const src = createKubernetesSource({ ...FAST, kubeconfigPath: kubeconfig, kinds: ['Vpc'] });
      sources.push(src);
      await src.start(c.on);
      expect(c.seen[0]).toMatchObject({ complete: true });
      expect(namesOf(c.seen[0])).toEqual(['over-tls']);
      expect(src.name).toMatch(/^kubernetes:https:\/\/127\.0\.0\.1:/);
      // A kubeconfig without the CA: the server's certificate is refused, nothing is listed.
      const config = JSON.parse(await readFile(kubeconfig, 'utf8')) as {
        clusters: { cluster: Record<string, unknown> }[];
      };
      delete config.clusters[0]!.cluster['certificate-authority-data'];
      await writeFile(kubeconfig, JSON.stringify(config));
      const untrusted = collector();
      const other = createKubernetesSource({ ...FAST, kubeconfigPath: kubeconfig, kinds: ['Vpc'] });
      sources.push(other);
      await other.start(untrusted.on);
      expect(untrusted.seen[0]).toMatchObject({ complete: false, items: [] });
      expect(untrusted.seen[0]!.incomplete[0]).toMatch(/^Vpc: not listed yet: .*certificate/);
    } finally {
      for (const s of sources) await s.close();
      await fake.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
