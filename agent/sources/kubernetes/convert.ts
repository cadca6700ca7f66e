/**
 * API object → the plain document the pipeline parses, shaped as the same resource written in
 * a YAML manifest: `apiVersion`, `kind`, `metadata` (name, namespace, labels, annotations, uid,
 * creationTimestamp) and `spec`. Server-managed metadata (resourceVersion, managedFields,
 * generation, …) and `status` are left out: they are the server's and the agent's, not the
 * user's desired state.
 */
import type { SourceRef } from '../../errors.js';
import { apiVersionOf, type WatchedKind } from './kinds.js';

const KEPT_METADATA = ['name', 'namespace', 'labels', 'annotations', 'uid', 'creationTimestamp'] as const;

/** The origin named in errors: `kubernetes:Subnet/vswitch1`, `kubernetes:NetworkAttachmentDefinition/default/vswitch1`. */
export function objectRef(kind: WatchedKind, key: string): SourceRef {
  return { file: `kubernetes:${kind.kind}/${key}`, document: 0 };
}

export function toDocument(kind: WatchedKind, obj: Record<string, unknown>): Record<string, unknown> {
  const md = (obj['metadata'] ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const k of KEPT_METADATA) if (md[k] !== undefined && md[k] !== null) metadata[k] = md[k];
  const doc: Record<string, unknown> = { apiVersion: apiVersionOf(kind), kind: kind.kind, metadata };
  if (obj['spec'] !== undefined) doc['spec'] = obj['spec'];
  return doc;
}
