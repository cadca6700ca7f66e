/**
 * The snapshot feed: a source's snapshots through the pipeline to whoever consumes them.
 *
 * - `read()` starts the source at once, so manifests are read while the databases sync; its
 *   snapshots are held until `release()` (the consumers' views — NB synced, IPAM fed from it —
 *   are ready), so nothing is allocated against an empty view. From then on each source
 *   snapshot is delivered as it comes.
 * - `reapply()` runs the last source snapshot through the pipeline again, for a change of the
 *   data plane the pipeline's policy depends on (a Subnet kept for its ports is let go once its
 *   last port is deleted).
 */
import type { ResourceSource, SourceSnapshot } from '../sources/types.js';
import type { Pipeline } from './pipeline.js';
import type { Snapshot } from './snapshot.js';

export interface SnapshotFeed {
  /** Starts the source; resolves once its first snapshot was read (held until `release`). */
  read(): Promise<void>;
  /** Delivers the held snapshots, then every later one as it comes. */
  release(): void;
  /** The last source snapshot through the pipeline again (after `release` only). */
  reapply(): void;
  close(): Promise<void>;
}

export function createSnapshotFeed(
  deps: { source: ResourceSource; pipeline: Pipeline },
  deliver: (snapshot: Snapshot) => void,
): SnapshotFeed {
  let held: SourceSnapshot[] | undefined = [];
  return {
    read: () =>
      deps.source.start((input) => {
        if (held) held.push(input);
        else deliver(deps.pipeline.apply(input));
      }),
    release() {
      const buffered = held ?? [];
      held = undefined;
      for (const input of buffered) deliver(deps.pipeline.apply(input));
    },
    reapply() {
      if (held) return;
      const s = deps.pipeline.reapply();
      if (s) deliver(s);
    },
    close: () => deps.source.close(),
  };
}
