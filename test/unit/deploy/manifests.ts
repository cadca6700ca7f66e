/**
 * Loading and checking deploy/'s manifests for the manifest test: every YAML document of
 * deploy/ and deploy/examples/, validated with the models of `kubernetes-models` (the
 * Kubernetes OpenAPI schemas: types, required fields, enums; unknown fields are not reported).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, type IContainer, type IPodSpec, ServiceAccount } from 'kubernetes-models/v1';

const DEPLOY = new URL('../../../deploy/', import.meta.url).pathname;

/** A parsed document and the file (relative to deploy/) it came from. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
  file: string;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: never) => Model;

/** The models of the kinds deploy/ holds, by `apiVersion/kind`. */
const MODELS: Record<string, ModelClass> = {
  'apps/v1/DaemonSet': DaemonSet as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding as unknown as ModelClass,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition as unknown as ModelClass,
};

/** Every document of deploy/*.yaml and deploy/examples/*.yaml but the kustomization. */
export function loadDeploy(): Manifest[] {
  const files = [
    ...readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml'),
    ...readdirSync(path.join(DEPLOY, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `examples/${f}`),
  ];
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8')).map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return { ...(d.toJS() as Omit<Manifest, 'file'>), file };
    }),
  );
}

/**
 * Validates one document: a Kubernetes kind against its schema; a NetworkAttachmentDefinition
 * (not in kubernetes-models) as Multus reads it; a kubeovn.io object by its kind having a CRD here.
 */
export function validate(doc: Manifest): void {
  const { file, ...data } = doc;
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (Model) return new Model(data as never).validate();
  if (doc.apiVersion === 'k8s.cni.cncf.io/v1' && doc.kind === 'NetworkAttachmentDefinition') {
    const config = (data as { spec?: { config?: unknown } }).spec?.config;
    if (!doc.metadata?.name || typeof config !== 'string')
      throw new Error(`${file}: NAD needs a name and spec.config`);
    JSON.parse(config);
    return;
  }
  if (doc.apiVersion === 'kubeovn.io/v1') {
    const crds = byKind<CustomResourceDefinition>(loadDeploy(), 'CustomResourceDefinition');
    if (!crds.some((c) => c.spec.names.kind === doc.kind))
      throw new Error(`${file}: no CRD defines ${doc.kind}`);
    return;
  }
  throw new Error(`${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
}

/** The documents of a kind, as their models. */
export function byKind<T>(docs: Manifest[], kind: string): T[] {
  return docs
    .filter((d) => d.kind === kind)
    .map((d) => {
      const { file: _file, ...data } = d;
      const Model = MODELS[`${d.apiVersion}/${d.kind}`];
      return (Model ? new Model(data as never) : data) as T;
    });
}

export function podSpec(ds: DaemonSet): IPodSpec {
  return ds.spec!.template.spec!;
}

/** The data of the ConfigMap `name`. @throws when there is none. */
export function configMapData(docs: Manifest[], name: string): Record<string, string> {
  const cm = byKind<ConfigMap>(docs, 'ConfigMap').find((c) => c.metadata?.name === name);
  if (!cm) throw new Error(`no ConfigMap ${name}`);
  return cm.data ?? {};
}

/** A container's environment as the kubelet resolves it from ConfigMaps; `fields` for fieldRefs. */
export function envOf(
  c: IContainer,
  docs: Manifest[],
  fields: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? [])
    if (from.configMapRef) Object.assign(env, configMapData(docs, from.configMapRef.name!));
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref) env[e.name] = configMapData(docs, ref.name!)[ref.key]!;
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.name]!;
    else env[e.name] = e.value ?? '';
  }
  return env;
}

/** `$(VAR)` expansion as in a container's command and args. */
export function substitute(text: string, env: Record<string, string>): string {
  return text.replace(/\$\(([A-Za-z0-9_]+)\)/g, (whole, name: string) => env[name] ?? whole);
}
