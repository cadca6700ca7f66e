/**
 * One YAML document → one normalized resource, or the errors that keep it out. Checks the
 * envelope (apiVersion, kind, metadata, spec, status), runs the kind's strict zod schema, refuses
 * Kube-OVN features this agent does not implement, then normalizes (defaults, parsed CIDRs).
 */
import type { z } from 'zod';
import { ValidationError, type SourceRef } from '../errors.js';
import { normalizeSpec, type Reporter } from './normalize.js';
import { API_VERSIONS, SPEC_SCHEMAS, UNSUPPORTED, isEmptyValue, metadataSchema } from './schemas.js';
import { KINDS, type Kind, type Meta, type Resource } from './types.js';

export interface ParseResult {
  resource?: Resource;
  errors: ValidationError[];
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

/** `['spec','acls',2,'priority']` → `spec.acls[2].priority`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function zodIssues(issues: readonly z.core.$ZodIssue[], prefix: string[], report: Reporter): void {
  for (const issue of issues) {
    const base = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) report(fieldPath([...base, key]), 'unknown field');
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      report(fieldPath(base), 'is required');
    } else {
      report(fieldPath(base), issue.message.replace(/^Invalid input: /, ''));
    }
  }
}

function withoutKeys(value: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(value);
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    let node: unknown = copy;
    for (const p of issue.path) node = (node as Record<PropertyKey, unknown>)[p as string];
    for (const key of issue.keys) delete (node as Record<string, unknown>)[key];
  }
  return copy;
}

/**
 * Parses one document (already converted from YAML to plain data). `source` is attached to the
 * resource and to every error.
 */
export function parseResource(doc: unknown, source?: SourceRef): ParseResult {
  const errors: ValidationError[] = [];
  const id = { kind: '', name: '', namespace: undefined as string | undefined };
  const report: Reporter = (field, message) => {
    const issue = { kind: id.kind, name: id.name, field, message, ...(source ? { source } : {}) };
    errors.push(
      new ValidationError(id.namespace !== undefined ? { ...issue, namespace: id.namespace } : issue),
    );
  };
  if (!isObject(doc)) {
    report('', 'document is not a mapping (expected apiVersion, kind, metadata, spec)');
    return { errors };
  }
  const md = isObject(doc['metadata']) ? doc['metadata'] : {};
  if (typeof md['name'] === 'string') id.name = md['name'];
  const kindValue = doc['kind'];
  if (typeof kindValue !== 'string' || kindValue === '') {
    report('kind', 'is required');
    return { errors };
  }
  id.kind = kindValue;
  if (!(KINDS as readonly string[]).includes(kindValue)) {
    report('kind', `unknown kind ${JSON.stringify(kindValue)} (known: ${KINDS.join(', ')})`);
    return { errors };
  }
  const kind = kindValue as Kind;
  const namespaced = kind === 'NetworkAttachmentDefinition';
  if (namespaced) id.namespace = typeof md['namespace'] === 'string' ? md['namespace'] : 'default';

  if (doc['apiVersion'] !== API_VERSIONS[kind]) {
    report(
      'apiVersion',
      `must be ${API_VERSIONS[kind]} for ${kind} (got ${JSON.stringify(doc['apiVersion'])})`,
    );
  }
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.has(key)) report(key, 'unknown field');

  const meta = metadataSchema.safeParse(doc['metadata']);
  if (!meta.success) zodIssues(meta.error.issues, ['metadata'], report);
  const specSchema = SPEC_SCHEMAS[kind] as z.ZodType;
  let spec = specSchema.safeParse(doc['spec'] ?? {});
  if (!spec.success) {
    zodIssues(spec.error.issues, ['spec'], report);
    // Unknown fields only: drop them and carry on, so the other checks still report.
    if (spec.error.issues.every((i) => i.code === 'unrecognized_keys')) {
      spec = specSchema.safeParse(withoutKeys(doc['spec'] ?? {}, spec.error.issues));
    }
  }
  if (!meta.success || !spec.success) return { errors };

  const rawSpec = spec.data as Record<string, unknown>;
  for (const field of UNSUPPORTED[kind] ?? []) {
    if (!isEmptyValue(rawSpec[field]))
      report(`spec.${field}`, 'is a Kube-OVN feature vpc-agent does not support');
  }
  if (kind === 'Vpc') {
    const routes = (rawSpec['staticRoutes'] ?? []) as Record<string, unknown>[];
    routes.forEach((r, i) => {
      for (const field of UNSUPPORTED['Vpc.staticRoutes'] ?? []) {
        if (!isEmptyValue(r[field])) {
          report(`spec.staticRoutes[${i}].${field}`, 'is a Kube-OVN feature vpc-agent does not support');
        }
      }
    });
  }

  const m = meta.data;
  const metaOut: Meta = {
    name: m.name,
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
  };
  if (namespaced) metaOut.namespace = m.namespace ?? 'default';
  if (m.uid !== undefined) metaOut.uid = m.uid;
  if (m.creationTimestamp !== undefined) {
    metaOut.creationTimestamp =
      m.creationTimestamp instanceof Date ? m.creationTimestamp.toISOString() : m.creationTimestamp;
  }
  if (source) metaOut.source = source;

  const normalized = normalizeSpec(kind, rawSpec, metaOut, report);
  if (errors.length > 0 || normalized === undefined) return { errors };
  return {
    resource: {
      kind,
      meta: metaOut,
      spec: normalized,
      ...(kind === 'Vpc' ? { implicit: false } : {}),
    } as Resource,
    errors,
  };
}
