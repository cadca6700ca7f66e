/** External networks: a Subnet with provider `<nad>.<namespace>` over a NAD of another CNI on a NIC. */
import { describe, expect, it } from 'vitest';
import { check, nad, ovnNad, subnet, where } from './helpers.js';

const macvlan = (name: string, namespace: string, extra: Record<string, unknown> = {}) =>
  nad(
    name,
    {
      cniVersion: '0.3.0',
      type: 'macvlan',
      master: 'eth1',
      mode: 'bridge',
      ipam: { type: 'kube-ovn', server_socket: '/run/x.sock', provider: `${name}.${namespace}` },
      ...extra,
    },
    namespace,
  );
const external = (name: string, provider: string, spec: Record<string, unknown> = {}) =>
  subnet(name, '10.115.48.0/21', { gateway: '10.115.55.254', provider, ...spec });

describe('external network subnets', () => {
  it('accepts the macvlan NAD with "master" and marks the Subnet external', () => {
    const r = check([macvlan('ext', 'kube-system'), external('subnetexternal', 'ext.kube-system')]);
    expect(r.errors).toEqual([]);
    expect(r.valid.subnets.get('subnetexternal')?.spec.external).toEqual({
      nad: 'ext',
      namespace: 'kube-system',
    });
    expect(r.valid.nads.get('kube-system/ext')?.spec.master).toBe('eth1');
  });

  it('refuses, naming the field: no such NAD, a kube-ovn NAD, a NAD without master, underlay/NAT flags', () => {
    const r = check([
      external('no-nad', 'missing.kube-system'),
      ovnNad('ovnnet'),
      external('on-ovn-nad', 'ovnnet.default'),
      nad('nomaster', { cniVersion: '0.3.0', type: 'macvlan' }),
      external('no-master', 'nomaster.default'),
      macvlan('ext', 'default'),
      external('natted', 'ext.default', { natOutgoing: true }),
    ]);
    expect(where(r.errors).sort()).toEqual([
      // (a kube-ovn NAD no Subnet serves)
      'NetworkAttachmentDefinition/ovnnet spec.config.provider',
      'Subnet/natted spec.provider',
      'Subnet/no-master spec.provider',
      'Subnet/no-nad spec.provider',
      'Subnet/on-ovn-nad spec.provider',
    ]);
    const msg = (name: string) => r.errors.find((e) => e.resourceName === name)?.message ?? '';
    expect(msg('no-nad')).toContain('kube-system/missing does not exist');
    expect(msg('on-ovn-nad')).toContain('ovnnet.default.ovn');
    expect(msg('no-master')).toContain('"master"');
  });

  it('checks the NAD side: a bad master and an ipam provider that is not <name>.<namespace>', () => {
    const r = check([
      macvlan('badmaster', 'default', { master: 'not a nic name' }),
      macvlan('wrongipam', 'default', { ipam: { type: 'kube-ovn', provider: 'other.default' } }),
    ]);
    expect(where(r.errors).sort()).toEqual([
      'NetworkAttachmentDefinition/badmaster spec.config.master',
      'NetworkAttachmentDefinition/wrongipam spec.config.ipam.provider',
    ]);
  });
});
