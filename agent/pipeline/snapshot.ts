/**
 * The one resource pipeline: a source's snapshot → parse → validate → held/blocked policy →
 * an immutable {@link Snapshot} that every reconciler reads. Pure: `nextSnapshot(prev, input)`
 * reads nothing but its arguments, so every policy is unit-tested without files or servers.
 *
 * Policy, in order:
 * 1. Every item is parsed (`parseResource`); parse errors join the source's read errors.
 * 2. An **incomplete** source snapshot (a directory that cannot be listed, a file that cannot
 *    be read, a watch not listed yet) cannot tell a removed resource from an unseen one: every
 *    resource of the previous snapshot that it does not show is kept as it was.
 * 3. A removal that would strand dependents (a Vpc its Subnets name, a Subnet a NAD names, …)
 *    is **blocked**: the resource stays until its dependents go.
 * 4. An edit that does not parse or validate is **held**: the last valid version stays in
 *    effect (a resource in a file with a YAML error included).
 * 5. `complete` — pruning allowed — holds only when the source snapshot was complete and every
 *    broken origin (a file with a YAML error) loaded cleanly at least once before (so its
 *    resources are held, not missing). Reconcilers prune nothing on an incomplete snapshot.
 */
import type { LoadError } from '../resources/loader.js';
import {
  errorId,
  withBlockedKept,
  withLastValidKept,
  parseResource,
  validateResources,
  type BlockedDelete,
  type HeldEdit,
} from '../resources/index.js';
import {
  allResources,
  DEFAULT_VPC,
  resourceId,
  type Resource,
  type ResourceSet,
} from '../resources/types.js';
import type { SourceSnapshot } from '../sources/types.js';

export interface Snapshot {
  /** 1 for the first snapshot, +1 for each one after. */
  readonly seq: number;
  /** The resources in effect: valid, with held and blocked ones kept. */
  readonly resources: ResourceSet;
  /** Every read, parse and validation error (resource kind/name/field in each). */
  readonly errors: readonly LoadError[];
  readonly held: readonly HeldEdit[];
  readonly blocked: readonly BlockedDelete[];
  /** Pruning is allowed (see the module comment, rule 5). */
  readonly complete: boolean;
  /** Why not complete. */
  readonly incomplete: readonly string[];
  /** Origins (files) that loaded without an error at least once. */
  readonly cleanOrigins: ReadonlySet<string>;
}

const idOf = resourceId;
const isImplicit = (r: Resource) => r.kind === 'Vpc' && r.meta.name === DEFAULT_VPC && r.implicit;

/** What the pipeline needs to know of the data plane. */
export interface PipelineContext {
  /** Subnets whose switch still carries workload ports (by subnet name → how many). */
  portsBySubnet?: ReadonlyMap<string, number>;
}

export function nextSnapshot(
  prev: Snapshot | undefined,
  input: SourceSnapshot,
  ctx: PipelineContext = {},
): Snapshot {
  // 1. Parse.
  const errors: LoadError[] = [...input.errors];
  let resources: Resource[] = [];
  for (const item of input.items) {
    const r = parseResource(item.doc, item.source);
    errors.push(...r.errors);
    if (r.resource) resources.push(r.resource);
  }
  // 2. Incomplete: keep what is not shown.
  if (!input.complete && prev) {
    const shown = new Set(resources.map(idOf));
    for (const r of allResources(prev.resources))
      if (!isImplicit(r) && !shown.has(idOf(r))) resources.push(r);
  }
  // 3 + 4. Blocked removals, held edits.
  let valid: ResourceSet;
  let held: HeldEdit[] = [];
  let blocked: BlockedDelete[] = [];
  let allErrors: LoadError[];
  // A Subnet whose switch still carries workload ports stays until they are deleted: removing
  // its switch would take the ports with it.
  const inUse: BlockedDelete[] = [];
  if (prev && ctx.portsBySubnet) {
    const shown = new Set(resources.filter((r) => r.kind === 'Subnet').map((r) => r.meta.name));
    for (const sub of prev.resources.subnets.values()) {
      const n = ctx.portsBySubnet.get(sub.meta.name) ?? 0;
      if (n === 0 || shown.has(sub.meta.name)) continue;
      resources.push(sub);
      inUse.push({
        kind: 'Subnet',
        name: sub.meta.name,
        dependents: [],
        message: `Subnet ${sub.meta.name} was removed but ${n} workload port(s) still use it; it stays until they are deleted`,
      });
    }
  }
  if (prev) {
    // A resource whose new version was refused at parse time was edited, not removed: the held
    // policy keeps its last valid version and says so (not a blocked delete).
    const refused = new Set(errors.flatMap((e) => errorId(e) ?? []));
    const kept = withBlockedKept(prev.resources, resources, refused);
    resources = kept.resources;
    blocked = [...inUse, ...kept.blocked];
    const v = withLastValidKept(prev.resources, { resources, errors });
    valid = v.valid;
    held = v.held;
    allErrors = v.errors;
  } else {
    const v = validateResources(resources);
    valid = v.valid;
    allErrors = [...errors, ...v.errors];
  }
  // 5. Completeness.
  const broken = new Set(input.broken);
  const clean = new Set(prev?.cleanOrigins ?? []);
  for (const item of input.items) if (!broken.has(item.source.file)) clean.add(item.source.file);
  const incomplete = [...input.incomplete];
  for (const f of broken) {
    if (!clean.has(f)) incomplete.push(`${f} has errors and never loaded cleanly: its resources are unknown`);
  }
  return Object.freeze({
    seq: (prev?.seq ?? 0) + 1,
    resources: valid,
    errors: Object.freeze(allErrors),
    held: Object.freeze(held),
    blocked: Object.freeze(blocked),
    complete: incomplete.length === 0,
    incomplete: Object.freeze(incomplete),
    cleanOrigins: clean,
  });
}
