import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSnapshotFeed } from '../../../../agent/pipeline/feed.js';
import { createPipeline } from '../../../../agent/pipeline/pipeline.js';
import type { Snapshot } from '../../../../agent/pipeline/snapshot.js';
import type { ResourceSource, SourceSnapshot } from '../../../../agent/sources/types.js';

const vpc = (name: string) => ({ apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name } });
const load = (names: string[], complete = true): SourceSnapshot => ({
  items: names.map((n, i) => ({ doc: vpc(n), source: { file: 'a.yaml', document: i } })),
  errors: [],
  complete,
  incomplete: complete ? [] : ['cannot list'],
  broken: [],
});

/** The VPCs a snapshot holds besides the built-in default one. */
const vpcs = (s: Snapshot) => [...s.resources.vpcs.keys()].filter((n) => n !== 'ovn-cluster');

/** A source driven by the test: `emit` hands the feed a snapshot as a real source would. */
function scripted(first: SourceSnapshot) {
  let sink: ((s: SourceSnapshot) => void) | undefined;
  let closed = false;
  const source: ResourceSource = {
    name: 'scripted',
    start: async (onSnapshot) => {
      sink = onSnapshot;
      onSnapshot(first);
    },
    check: async () => undefined,
    close: async () => {
      closed = true;
    },
  };
  return { source, emit: (s: SourceSnapshot) => sink!(s), closed: () => closed };
}

describe('createSnapshotFeed', () => {
  it('holds what the source read until release, then delivers in order and live', async () => {
    const src = scripted(load(['a']));
    const pipeline = createPipeline({ log: pino({ level: 'silent' }) });
    const got: Snapshot[] = [];
    const feed = createSnapshotFeed({ source: src.source, pipeline }, (s) => got.push(s));
    await feed.read();
    src.emit(load(['a', 'b']));
    feed.reapply(); // before release: nothing goes out
    expect(got).toHaveLength(0);
    feed.release();
    expect(got.map(vpcs)).toEqual([['a'], ['a', 'b']]);
    src.emit(load([], false)); // incomplete: keeps what it does not show
    expect(vpcs(got.at(-1)!)).toEqual(['a', 'b']);
    expect(got.at(-1)!.complete).toBe(false);
    feed.reapply();
    expect(got).toHaveLength(4);
    expect(got[3]!.seq).toBeGreaterThan(got[2]!.seq);
    await feed.close();
    expect(src.closed()).toBe(true);
  });
});
