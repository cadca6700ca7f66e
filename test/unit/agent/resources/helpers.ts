/** Small builders of raw manifest documents (as parsed from YAML) and a parse+validate shortcut. */
import type { ValidationError } from '../../../../agent/errors.js';
import { parseResource } from '../../../../agent/resources/parse.js';
import type { Resource, ResourceSet } from '../../../../agent/resources/types.js';
import { validateResources } from '../../../../agent/resources/validate.js';

type Spec = Record<string, unknown>;
export type Doc = Record<string, unknown>;

const kubeovn = (kind: string, name: string, spec: Spec): Doc => ({
  apiVersion: 'kubeovn.io/v1',
  kind,
  metadata: { name },
  spec,
});

export const vpc = (name: string, spec: Spec = {}): Doc => kubeovn('Vpc', name, spec);
export const subnet = (name: string, cidrBlock: string, spec: Spec = {}): Doc =>
  kubeovn('Subnet', name, { cidrBlock, ...spec });
export const providerNetwork = (name: string, spec: Spec = { defaultInterface: 'eth1' }): Doc =>
  kubeovn('ProviderNetwork', name, spec);
export const vlan = (name: string, id: number, provider: string): Doc =>
  kubeovn('Vlan', name, { id, provider });
export const natGateway = (name: string, spec: Spec): Doc => kubeovn('VpcNatGateway', name, spec);
export const eip = (name: string, spec: Spec): Doc => kubeovn('IptablesEIP', name, spec);
export const snat = (name: string, spec: Spec): Doc => kubeovn('IptablesSnatRule', name, spec);
export const dnat = (name: string, spec: Spec): Doc => kubeovn('IptablesDnatRule', name, spec);
export const fip = (name: string, spec: Spec): Doc => kubeovn('IptablesFIPRule', name, spec);

export function nad(name: string, config: Record<string, unknown> | string, namespace = 'default'): Doc {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name, namespace },
    spec: { config: typeof config === 'string' ? config : JSON.stringify(config) },
  };
}

/** A kube-ovn NAD with the conventional provider `<name>.<namespace>.ovn`. */
export const ovnNad = (name: string, namespace = 'default'): Doc =>
  nad(
    name,
    {
      cniVersion: '0.3.1',
      type: 'kube-ovn',
      server_socket: '/run/x.sock',
      provider: `${name}.${namespace}.ovn`,
    },
    namespace,
  );

/** Parses each doc (source: doc index in file `test.yaml`) then validates the lot. */
export function check(docs: Doc[]): { valid: ResourceSet; errors: ValidationError[]; resources: Resource[] } {
  const errors: ValidationError[] = [];
  const resources: Resource[] = [];
  docs.forEach((d, i) => {
    const r = parseResource(d, { file: 'test.yaml', document: i });
    errors.push(...r.errors);
    if (r.resource) resources.push(r.resource);
  });
  const v = validateResources(resources);
  return { valid: v.valid, errors: [...errors, ...v.errors], resources };
}

/** `Kind/name field` of each error, for compact assertions. */
export const where = (errors: readonly ValidationError[]): string[] =>
  errors.map((e) => `${e.kind}/${e.resourceName} ${e.field}`);
