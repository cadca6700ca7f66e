import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectorySource } from '../../../../agent/sources/directory.js';
import type { ResourceSource, SourceSnapshot } from '../../../../agent/sources/types.js';

const vpcYaml = (name: string) => `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata:\n  name: ${name}\n`;
const names = (s: SourceSnapshot | undefined) =>
  (s?.items ?? []).map((i) => (i.doc as { metadata: { name: string } }).metadata.name);

describe('directory source', () => {
  let dir: string;
  let source: ResourceSource | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpc-agent-dir-'));
  });
  afterEach(async () => {
    await source?.close();
    source = undefined;
    await rm(`${dir}.away`, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  /** Collects snapshots; `next()` resolves with the next one. */
  function collector() {
    const seen: SourceSnapshot[] = [];
    let waiting: ((s: SourceSnapshot) => void) | undefined;
    return {
      seen,
      on(s: SourceSnapshot) {
        seen.push(s);
        waiting?.(s);
        waiting = undefined;
      },
      next: () => new Promise<SourceSnapshot>((resolve) => (waiting = resolve)),
    };
  }

  it('delivers the first snapshot, then one per change (fs events): add, edit, delete', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    const c = collector();
    source = createDirectorySource(dir, { debounceMs: 20, pollIntervalMs: 0 });
    await source.start(c.on);
    expect(names(c.seen[0])).toEqual(['a']);
    expect(c.seen[0]).toMatchObject({ complete: true, incomplete: [], broken: [] });
    let next = c.next();
    await writeFile(join(dir, 'b.yaml'), vpcYaml('b'));
    expect(names(await next)).toEqual(['a', 'b']);
    next = c.next();
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a2'));
    expect(names(await next)).toEqual(['a2', 'b']);
    next = c.next();
    await unlink(join(dir, 'b.yaml'));
    expect(names(await next)).toEqual(['a2']);
  });

  it('polling alone picks up a change; a check with no change delivers nothing; identical content neither', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    const c = collector();
    source = createDirectorySource(dir, { debounceMs: 10_000, pollIntervalMs: 30 });
    await source.start(c.on);
    await source.check();
    expect(c.seen).toHaveLength(1);
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    await source.check();
    expect(c.seen).toHaveLength(1);
    const next = c.next();
    await writeFile(join(dir, 'a.yaml'), vpcYaml('polled'));
    expect(names(await next)).toEqual(['polled']);
  });

  it('reads each file once per change, and none when nothing changed', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    await writeFile(join(dir, 'b.yaml'), vpcYaml('b'));
    const c = collector();
    const src = createDirectorySource(dir, { debounceMs: 10_000, pollIntervalMs: 0 });
    source = src;
    await src.start(c.on);
    expect(src.stats()).toMatchObject({ fileReads: 2, snapshots: 1 });
    await src.check();
    expect(src.stats()).toMatchObject({ fileReads: 2, snapshots: 1 });
    await writeFile(join(dir, 'b.yaml'), vpcYaml('b2'));
    await src.check();
    expect(src.stats()).toMatchObject({ fileReads: 4, snapshots: 2 });
  });

  it('a vanished directory gives an incomplete snapshot naming it; back, complete again', async () => {
    await writeFile(join(dir, 'a.yaml'), vpcYaml('a'));
    const c = collector();
    source = createDirectorySource(dir, { debounceMs: 10_000, pollIntervalMs: 0 });
    await source.start(c.on);
    await rename(dir, `${dir}.away`);
    await source.check();
    const gone = c.seen.at(-1)!;
    expect(gone.complete).toBe(false);
    expect(gone.items).toEqual([]);
    expect(gone.incomplete.join()).toContain('cannot list manifests');
    await rename(`${dir}.away`, dir);
    await source.check();
    expect(c.seen.at(-1)).toMatchObject({ complete: true });
    expect(names(c.seen.at(-1))).toEqual(['a']);
  });

  it('a YAML error marks its file broken; its other documents and other files still come', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.yaml'), vpcYaml('a'));
    await writeFile(join(dir, 'b.yaml'), `${vpcYaml('b')}---\nkind: [\n`);
    const c = collector();
    source = createDirectorySource(dir, { debounceMs: 10_000, pollIntervalMs: 0 });
    await source.start(c.on);
    const first = c.seen[0]!;
    expect(first.complete).toBe(true);
    expect(first.broken).toEqual([join(dir, 'b.yaml')]);
    expect(names(first).sort()).toEqual(['a', 'b']);
  });
});
