import { mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadAndValidateResult } from '../../../../agent/resources/loader.js';
import { watchManifests, type ManifestWatcher } from '../../../../agent/resources/watcher.js';

const vpcYaml = (name: string) => `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata:\n  name: ${name}\n`;

describe('watchManifests', () => {
  let dir: string;
  let watcher: ManifestWatcher | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpc-agent-watch-'));
  });
  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Collects emissions; `next()` resolves with the next one. */
  function collector() {
    const seen: LoadAndValidateResult[] = [];
    let waiting: ((r: LoadAndValidateResult) => void) | undefined;
    return {
      seen,
      onChange(r: LoadAndValidateResult) {
        seen.push(r);
        waiting?.(r);
        waiting = undefined;
      },
      next: () => new Promise<LoadAndValidateResult>((resolve) => (waiting = resolve)),
    };
  }

  it('emits the initial set, then a new full set on add, change and delete (fs events)', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    const c = collector();
    watcher = watchManifests(dir, { onChange: c.onChange, debounceMs: 20, pollIntervalMs: 0 });
    await watcher.ready;
    expect([...(c.seen[0]?.valid.vpcs.keys() ?? [])]).toEqual(['ovn-cluster', 'a']);

    let next = c.next();
    await writeFile(join(dir, 'b.yaml'), vpcYaml('b'));
    expect([...(await next).valid.vpcs.keys()]).toEqual(['ovn-cluster', 'a', 'b']);

    next = c.next();
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a2'));
    expect([...(await next).valid.vpcs.keys()]).toEqual(['ovn-cluster', 'a2', 'b']);

    next = c.next();
    await unlink(join(dir, 'b.yaml'));
    expect([...(await next).valid.vpcs.keys()]).toEqual(['ovn-cluster', 'a2']);
  });

  it('polling alone picks up a change; an explicit check with no change emits nothing', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    const c = collector();
    watcher = watchManifests(dir, { onChange: c.onChange, debounceMs: 10_000, pollIntervalMs: 30 });
    await watcher.ready;
    await watcher.check();
    expect(c.seen).toHaveLength(1);
    const next = c.next();
    await writeFile(join(dir, 'a.yaml'), vpcYaml('polled'));
    expect((await next).valid.vpcs.has('polled')).toBe(true);
  });

  it('rewriting identical content emits nothing; errors are part of the emitted result', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    const c = collector();
    watcher = watchManifests(dir, { onChange: c.onChange, debounceMs: 10_000, pollIntervalMs: 0 });
    await watcher.ready;
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    await watcher.check();
    expect(c.seen).toHaveLength(1);
    await writeFile(join(dir, 'a.yaml'), 'kind: Nope\nmetadata: {name: x}\n');
    await watcher.check();
    expect(c.seen).toHaveLength(2);
    expect(c.seen[1]?.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^Nope x: kind: unknown kind/),
    ]);
  });
});
