import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../../agent/errors.js';
import { Ipam } from '../../../../agent/ipam/index.js';
import { nextSnapshot } from '../../../../agent/pipeline/snapshot.js';
import type { SourceSnapshot } from '../../../../agent/sources/types.js';

const vpc = (name: string) => ({ apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name } });
const subnet = (name: string, cidr: string, vpcName = 'vpc-1') => ({
  apiVersion: 'kubeovn.io/v1',
  kind: 'Subnet',
  metadata: { name },
  spec: { vpc: vpcName, cidrBlock: cidr, protocol: 'IPv4', provider: `${name}.default.ovn` },
});

function input(docs: { doc: unknown; file: string }[], extra: Partial<SourceSnapshot> = {}): SourceSnapshot {
  return {
    items: docs.map((d, i) => ({ doc: d.doc, source: { file: d.file, document: i } })),
    errors: [],
    complete: true,
    incomplete: [],
    broken: [],
    ...extra,
  };
}

const base = [
  { doc: vpc('vpc-1'), file: 'a.yaml' },
  { doc: subnet('s1', '10.1.0.0/24'), file: 'a.yaml' },
  { doc: subnet('s2', '10.2.0.0/24'), file: 'b.yaml' },
];

describe('nextSnapshot', () => {
  it('a complete load may prune; an incomplete one keeps every resource it does not show', () => {
    const first = nextSnapshot(undefined, input(base));
    expect(first.complete).toBe(true);
    expect([...first.resources.subnets.keys()].sort()).toEqual(['s1', 's2']);
    // The directory vanished: nothing shown, listing error.
    const gone = nextSnapshot(first, input([], { complete: false, incomplete: ['cannot list manifests'] }));
    expect(gone.complete).toBe(false);
    expect([...gone.resources.subnets.keys()].sort()).toEqual(['s1', 's2']);
    expect(gone.resources.vpcs.has('vpc-1')).toBe(true);
    // Back: a real removal of s2 goes through, and pruning is allowed again.
    const back = nextSnapshot(gone, input(base.slice(0, 2)));
    expect(back.complete).toBe(true);
    expect([...back.resources.subnets.keys()]).toEqual(['s1']);
    expect(back.seq).toBe(3);
  });

  it('a file with a YAML error that never loaded cleanly makes the load incomplete; once it has, its resources are held', () => {
    const broken = nextSnapshot(
      undefined,
      input(base.slice(0, 2), { broken: ['b.yaml'], errors: [new ManifestError('b.yaml', 0, 'YAML: bad')] }),
    );
    expect(broken.complete).toBe(false);
    expect(broken.incomplete.join()).toContain('b.yaml');
    const clean = nextSnapshot(broken, input(base));
    expect(clean.complete).toBe(true);
    const again = nextSnapshot(
      clean,
      input(base.slice(0, 2), { broken: ['b.yaml'], errors: [new ManifestError('b.yaml', 0, 'YAML: bad')] }),
    );
    expect(again.complete).toBe(true);
    expect(again.resources.subnets.has('s2')).toBe(true);
    expect(again.held.map((h) => h.name)).toEqual(['s2']);
  });

  it('an invalid edit of a Subnet a NAD refers to is a held edit (the last valid version stays), not a blocked delete', () => {
    const nad = {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 's1', namespace: 'default' },
      spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'kube-ovn', provider: 's1.default.ovn' }) },
    };
    const first = nextSnapshot(undefined, input([...base, { doc: nad, file: 'n.yaml' }]));
    expect(first.errors).toEqual([]);
    const broken = {
      ...subnet('s1', '10.1.0.0/24'),
      spec: { ...subnet('s1', '10.1.0.0/24').spec, cidrBlock: '10.1.0.0/33' },
    };
    const next = nextSnapshot(
      first,
      input([base[0]!, { doc: broken, file: 'a.yaml' }, base[2]!, { doc: nad, file: 'n.yaml' }]),
    );
    expect(next.blocked).toEqual([]);
    expect(next.held.map((h) => `${h.kind}/${h.name}`)).toEqual(['Subnet/s1']);
    expect(next.resources.subnets.get('s1')?.spec.cidr.text).toBe('10.1.0.0/24');
    expect(next.errors.some((e) => e.message.includes('spec.cidrBlock'))).toBe(true);
  });

  it('a Subnet whose switch still carries workload ports is kept (blocked) until they are gone', () => {
    const first = nextSnapshot(undefined, input(base));
    const withPorts = nextSnapshot(first, input(base.slice(0, 2)), { portsBySubnet: new Map([['s2', 3]]) });
    expect(withPorts.resources.subnets.has('s2')).toBe(true);
    expect(withPorts.blocked.map((b) => `${b.kind}/${b.name}`)).toEqual(['Subnet/s2']);
    expect(withPorts.blocked[0]!.message).toContain('3 workload port(s)');
    const none = nextSnapshot(withPorts, input(base.slice(0, 2)), { portsBySubnet: new Map() });
    expect(none.resources.subnets.has('s2')).toBe(false);
    expect(none.blocked).toEqual([]);
  });
});

describe('IPAM holds', () => {
  const sub = (cidr: string) => {
    const s = nextSnapshot(
      undefined,
      input([
        { doc: vpc('vpc-1'), file: 'a' },
        { doc: subnet('s1', cidr), file: 'a' },
      ]),
    );
    return s.resources.subnets.get('s1')!;
  };

  it('a subnet removed and re-added, or whose CIDR changes and comes back, never re-issues a held address', () => {
    const ipam = new Ipam();
    ipam.setSubnets([sub('10.1.0.0/24')]);
    const held = ipam.allocate('s1', 'vm-a');
    ipam.hold({ subnet: 's1', owner: 'vm-a', ip: held.ip, mac: held.mac });
    ipam.release('vm-a', 's1'); // the reservation ends; Northbound still holds it
    expect(ipam.ownerOf('s1', held.ip)).toBe('vm-a');
    ipam.setSubnets([]);
    ipam.setSubnets([sub('10.1.0.0/24')]);
    expect(ipam.ownerOf('s1', held.ip)).toBe('vm-a');
    expect(ipam.allocate('s1', 'vm-b').ip).not.toBe(held.ip);
    ipam.setSubnets([sub('10.9.0.0/24')]);
    ipam.setSubnets([sub('10.1.0.0/24')]);
    expect(ipam.ownerOf('s1', held.ip)).toBe('vm-a');
    // The row goes: the address is free again.
    ipam.unhold('s1', 'vm-a');
    expect(ipam.ownerOf('s1', held.ip)).toBeUndefined();
  });

  it('a clashing hold is reported and taken once the other holder is gone', () => {
    const ipam = new Ipam();
    ipam.setSubnets([sub('10.1.0.0/24')]);
    const a = ipam.allocate('s1', 'vm-a');
    const err = ipam.hold({ subnet: 's1', owner: 'vm-b', ip: a.ip });
    expect(err?.message).toContain(a.ip);
    expect(ipam.holdProblems().map((p) => p.owner)).toEqual(['vm-b']);
    ipam.release('vm-a', 's1');
    expect(ipam.ownerOf('s1', a.ip)).toBe('vm-b');
    expect(ipam.holdProblems()).toEqual([]);
  });
});
