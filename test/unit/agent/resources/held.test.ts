import { describe, expect, it } from 'vitest';
import { parseManifestText } from '../../../../agent/resources/loader.js';
import { validateResources, withLastValidKept } from '../../../../agent/resources/index.js';

const subnet = (name: string, cidr: string, gateway: string) => `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: ${name}
spec:
  cidrBlock: ${cidr}
  gateway: ${gateway}
  provider: ${name}.default.ovn
`;
const nad = (name: string) => `apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: ${name}
  namespace: default
spec:
  config: '{"cniVersion":"0.3.1","type":"kube-ovn","server_socket":"/run/openvswitch/kube-ovn-daemon.sock","provider":"${name}.default.ovn"}'
`;
const GOOD = [subnet('a', '10.1.0.0/24', '10.1.0.1'), nad('a'), subnet('b', '10.2.0.0/24', '10.2.0.1')].join(
  '---\n',
);

function load(text: string) {
  return parseManifestText(text, '/m/net.yaml');
}
const prev = validateResources(load(GOOD).resources).valid;
const gatewayOf = (set: typeof prev, name: string) => set.subnets.get(name)?.spec.gateway;

describe('withLastValidKept', () => {
  it('keeps the last valid version of a resource edited into an invalid one, and reports both', () => {
    const bad = [
      subnet('a', '10.1.0.0/24', '10.9.0.1'),
      nad('a'),
      subnet('b', '10.2.0.0/24', '10.2.0.254'),
    ].join('---\n');
    const r = withLastValidKept(prev, load(bad));
    expect(gatewayOf(r.valid, 'a')).toBe('10.1.0.1'); // the old, valid version
    expect(gatewayOf(r.valid, 'b')).toBe('10.2.0.254'); // a valid edit beside it takes effect
    expect(r.valid.nads.has('default/a')).toBe(true); // its NAD still resolves
    expect(r.held.map((h) => `${h.kind}/${h.name}`)).toEqual(['Subnet/a']);
    expect(r.held[0]!.message).toMatch(
      /Subnet a: the new version is invalid \(.*spec\.gateway.*\); the last valid version/,
    );
    expect(r.errors.map((e) => e.message).join('\n')).toContain('spec.gateway');
  });

  it('keeps every resource of a file that no longer parses', () => {
    const r = withLastValidKept(prev, load('kind: Subnet\nmetadata: [unclosed\n'));
    expect(r.held.map((h) => `${h.kind}/${h.name}`).sort()).toEqual([
      'NetworkAttachmentDefinition/a',
      'Subnet/a',
      'Subnet/b',
    ]);
    expect(r.held.find((h) => h.kind === 'NetworkAttachmentDefinition')?.namespace).toBe('default');
    expect([...r.valid.subnets.keys()].sort()).toEqual(['a', 'b']);
    expect(r.errors.some((e) => e.message.includes('YAML'))).toBe(true);
  });

  it('lets a resource that was removed from the manifests go', () => {
    const r = withLastValidKept(prev, load([subnet('a', '10.1.0.0/24', '10.1.0.1'), nad('a')].join('---\n')));
    expect(r.held).toEqual([]);
    expect([...r.valid.subnets.keys()]).toEqual(['a']);
    expect(r.errors).toEqual([]);
  });
});
