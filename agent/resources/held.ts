/**
 * Invalid edits do not take effect. A resource of the last valid set that the new manifests
 * still declare, but in a form that does not load or validate — a YAML syntax error in its
 * file, a bad field, a reference that no longer resolves — stays in effect in its
 * last valid version (and is reported) until the edit is fixed or the resource is removed.
 * Otherwise a typo while editing a Subnet would delete its switch and cut its VMs off.
 *
 * A resource that is simply gone from the manifests is not held here (its delete goes through,
 * unless `withBlockedKept` holds it for its dependents).
 */
import { AgentError, ManifestError, ValidationError } from '../errors.js';
import type { LoadError } from './loader.js';
import {
  allResources,
  DEFAULT_VPC,
  resourceId,
  resourceKey,
  type Kind,
  type Resource,
  type ResourceSet,
} from './types.js';
import { validateResources } from './validate.js';

/** A resource whose new version was refused; its last valid version stays in effect. */
export interface HeldEdit {
  kind: string;
  name: string;
  namespace?: string;
  /** `Subnet vswitch1: the new version is invalid; the last valid version stays in effect …`. */
  message: string;
}

const idOf = resourceId;

/** `kind/key` of the resource a validation error names (NADs are keyed `namespace/name`). */
export function errorId(e: LoadError): string | undefined {
  if (!(e instanceof ValidationError)) return undefined;
  const meta = { name: e.resourceName, namespace: e.namespace, labels: {}, annotations: {} };
  return resourceId({ kind: e.kind as Kind, meta });
}

/**
 * Files with a part that could not be read. The whole file counts: an edit that breaks one
 * document can shift the others' indexes, so a document index says little about what is lost.
 */
function brokenFiles(errors: readonly LoadError[]): Set<string> {
  const out = new Set<string>();
  for (const e of errors) if (e instanceof ManifestError) out.add(e.file);
  return out;
}

/**
 * Validates `read.resources`, putting back the last valid version (from `prev`) of every
 * resource whose new version was refused, then validating again (a held Subnet can make its
 * NAD valid again, and so on; at most a few rounds).
 * @returns the valid set, every error to report (the refused versions' included) and the held edits.
 */
export function withLastValidKept(
  prev: ResourceSet,
  read: { resources: readonly Resource[]; errors: readonly LoadError[] },
): { valid: ResourceSet; errors: LoadError[]; held: HeldEdit[] } {
  const broken = brokenFiles(read.errors);
  const previous = allResources(prev).filter((r) => !(r.kind === 'Vpc' && r.meta.name === DEFAULT_VPC));
  const newVersion = new Map(read.resources.map((r) => [idOf(r), r]));
  /** Held resources: why, and the errors of their refused version. */
  const held = new Map<string, { edit: HeldEdit; errors: LoadError[]; old: Resource }>();
  const withHeld = () => {
    const ids = new Set(held.keys());
    return [...read.resources.filter((r) => !ids.has(idOf(r))), ...[...held.values()].map((h) => h.old)];
  };

  // 1. Hold every resource of the last valid set that the new load refused (named by an error,
  //    or in a file that could not be read), until nothing more is refused.
  let v = validateResources(read.resources);
  for (let round = 0; round < 4; round++) {
    const valid = new Set(allResources(v.valid).map(idOf));
    const named = new Map<string, LoadError[]>();
    for (const e of [...read.errors, ...v.errors]) {
      const id = errorId(e);
      if (id !== undefined) named.set(id, [...(named.get(id) ?? []), e]);
    }
    let more = false;
    for (const r of previous) {
      const id = idOf(r);
      if (valid.has(id) || held.has(id)) continue;
      const src = r.meta.source;
      const unreadable = src !== undefined && broken.has(src.file);
      const errors = named.get(id);
      if (!unreadable && errors === undefined) continue; // removed from the manifests: let it go
      const why = unreadable
        ? `its manifest ${src?.file} could not be read`
        : `the new version is invalid (${errors![0]!.message})`;
      const edit: HeldEdit = {
        kind: r.kind,
        name: r.meta.name,
        message: `${r.kind} ${resourceKey(r)}: ${why}; the last valid version stays in effect until it is fixed or removed`,
      };
      if (r.kind === 'NetworkAttachmentDefinition') edit.namespace = r.meta.namespace ?? 'default';
      held.set(id, { edit, errors: errors ?? [], old: r });
      more = true;
    }
    if (!more) break;
    v = validateResources(withHeld());
  }

  // 2. A resource refused only because another one was (a NAD whose Subnet was refused) is
  //    valid in its new version once that one is held: take the new version back.
  for (const [id, h] of [...held]) {
    const next = newVersion.get(id);
    if (!next) continue;
    held.delete(id);
    const tryNew = validateResources(withHeld());
    if (allResources(tryNew.valid).some((r) => idOf(r) === id) && tryNew.errors.length <= v.errors.length) {
      v = tryNew;
    } else {
      held.set(id, h);
    }
  }

  const seen = new Set<string>();
  const errors = [...read.errors, ...[...held.values()].flatMap((h) => h.errors), ...v.errors].filter(
    (e: AgentError) => {
      if (seen.has(e.message)) return false;
      seen.add(e.message);
      return true;
    },
  );
  return { valid: v.valid, errors, held: [...held.values()].map((h) => h.edit) };
}
