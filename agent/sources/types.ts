/**
 * Where resources come from. A {@link ResourceSource} (a manifest directory, later the
 * Kubernetes API) hands the pipeline *snapshots*: every item it holds right now, the items it
 * could not read, and whether the snapshot is complete.
 *
 * Completeness is what makes pruning safe. A source marks a snapshot incomplete whenever it
 * cannot vouch for having seen everything (a directory that vanished or cannot be listed, a
 * file that cannot be read, a watch whose first list has not finished). An incomplete
 * snapshot deletes nothing: whatever it does not show is assumed to still be there.
 *
 * A source knows nothing of validation: it yields plain documents, and the pipeline parses,
 * validates and applies the held/blocked policy once for every source.
 */
import type { ManifestError, SourceRef } from '../errors.js';

/** One document of a source, not parsed yet (plain data, as `JSON.parse` or YAML gives it). */
export interface SourceItem {
  doc: unknown;
  /** Where it came from (file and document index, or an API object); attached to errors. */
  source: SourceRef;
}

export interface SourceSnapshot {
  /** Every document the source holds now. */
  items: readonly SourceItem[];
  /** Items that could not be read or decoded (named by file/object). */
  errors: readonly ManifestError[];
  /**
   * Every item the source holds was read. False when the source cannot tell what is missing
   * (listing failed, a file unreadable, an initial list not done): nothing may be pruned.
   */
  complete: boolean;
  /** Why the snapshot is incomplete (one line each), for logs and `/debug`. */
  incomplete: readonly string[];
  /**
   * Origins (files, API objects) whose items decoded but some of which may be missing
   * (a YAML syntax error part-way through a file): their resources are held at their last
   * valid version, and a snapshot with such an origin that never loaded cleanly prunes nothing.
   */
  broken: readonly string[];
}

export interface ResourceSource {
  /** For logs and `/debug`, e.g. `dir:/etc/vpc-agent/manifests`. */
  readonly name: string;
  /**
   * Starts reading; `onSnapshot` receives the first snapshot and then one per change (never
   * two at once, in order). Resolves once the first snapshot was delivered.
   */
  start(onSnapshot: (snapshot: SourceSnapshot) => void): Promise<void>;
  /** Reads again now (e.g. on SIGHUP); resolves when any resulting snapshot was delivered. */
  check(): Promise<void>;
  close(): Promise<void>;
}
