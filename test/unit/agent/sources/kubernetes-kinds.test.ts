/** The Kubernetes source's kinds table and API object → document conversion (no server). */
import { describe, expect, it } from 'vitest';
import { parseResource } from '../../../../agent/resources/parse.js';
import { API_VERSIONS } from '../../../../agent/resources/schemas.js';
import { KINDS } from '../../../../agent/resources/types.js';
import { objectRef, toDocument } from '../../../../agent/sources/kubernetes/convert.js';
import {
  apiVersionOf,
  collectionPath,
  objectKey,
  WATCHED_KINDS,
} from '../../../../agent/sources/kubernetes/kinds.js';

const kind = (k: string) => WATCHED_KINDS.find((w) => w.kind === k)!;

describe('watched kinds', () => {
  it('are exactly the kinds the pipeline parses, with their apiVersions', () => {
    expect(WATCHED_KINDS.map((w) => w.kind).sort()).toEqual([...KINDS].sort());
    for (const w of WATCHED_KINDS)
      expect(apiVersionOf(w)).toBe(API_VERSIONS[w.kind as keyof typeof API_VERSIONS]);
  });

  it('NADs are namespaced and watched in every namespace; kubeovn kinds are cluster-scoped', () => {
    const nad = kind('NetworkAttachmentDefinition');
    expect(nad.namespaced).toBe(true);
    expect(collectionPath(nad)).toBe('/apis/k8s.cni.cncf.io/v1/network-attachment-definitions');
    expect(objectKey(nad, { name: 'vswitch1', namespace: 'tenant' })).toBe('tenant/vswitch1');
    expect(collectionPath(kind('IptablesEIP'))).toBe('/apis/kubeovn.io/v1/iptables-eips');
    expect(WATCHED_KINDS.filter((w) => w.namespaced)).toEqual([nad]);
  });
});

describe('toDocument', () => {
  const apiObject = {
    apiVersion: 'kubeovn.io/v1',
    kind: 'Subnet',
    metadata: {
      name: 's1',
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
      labels: { a: 'b' },
      finalizers: ['x'],
    },
    spec: { vpc: 'vpc-1', cidrBlock: '172.20.10.0/24', gateway: '172.20.10.1' },
    status: { v4availableIPs: 250 },
  };

  it('keeps what a manifest has and drops server-managed metadata and status', () => {
    const doc = toDocument(kind('Subnet'), apiObject);
    expect(doc).toEqual({
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 's1', uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: 'b' } },
      spec: apiObject.spec,
    });
  });

  it('parses like the same manifest, its errors naming the object', () => {
    const source = objectRef(kind('Subnet'), 's1');
    expect(parseResource(toDocument(kind('Subnet'), apiObject), source).errors).toEqual([]);
    const bad = { ...apiObject, spec: { ...apiObject.spec, gateway: '10.0.0.1' } };
    const { errors } = parseResource(toDocument(kind('Subnet'), bad), source);
    expect(errors.map((e) => e.issue)).toEqual([
      expect.objectContaining({ kind: 'Subnet', name: 's1', field: 'spec.gateway', source }),
    ]);
    expect(source).toEqual({ file: 'kubernetes:Subnet/s1', document: 0 });
  });
});
