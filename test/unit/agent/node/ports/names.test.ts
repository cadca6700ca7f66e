import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultPortName,
  hostIfname,
  IFNAME_MAX,
  nextIfname,
  parseNetwork,
  portIpamOwner,
} from '../../../../../agent/node/ports/names.js';

describe('port names', () => {
  it('parses <namespace>/<nad> and refuses anything else', () => {
    expect(parseNetwork('default/vswitch1')).toEqual({ namespace: 'default', name: 'vswitch1' });
    for (const bad of ['vswitch1', 'a/b/c', '/x', 'x/', 'Default/x', 'a b/c', ''])
      expect(parseNetwork(bad), bad).toBeUndefined();
  });

  it('IPAM owners are per node, namespace and network; a namespace path stays one component', () => {
    expect(portIpamOwner('node1', 'vm1', 'default/vswitch1')).toBe('vm/node1/vm1/default/vswitch1');
    expect(portIpamOwner('node1', 'vm1', 'default/vswitch1')).not.toBe(
      portIpamOwner('node2', 'vm1', 'default/vswitch1'),
    );
    expect(portIpamOwner('node1', 'vm1', 'default/vswitch1')).not.toBe(
      portIpamOwner('node1', 'vm2', 'default/vswitch1'),
    );
    expect(portIpamOwner('node1', 'vm1', 'default/vswitch1')).not.toBe(
      portIpamOwner('node1', 'vm1', 'default/vswitch2'),
    );
    expect(portIpamOwner('node1', '/proc/42/ns/net', 'default/v')).toBe(
      'vm/node1/%2Fproc%2F42%2Fns%2Fnet/default/v',
    );
  });

  it('default LSP name is Kube-OVN style <pod>.<namespace>.<provider>', () => {
    expect(defaultPortName('vm1', { namespace: 'default', name: 'vswitch1' }, 'vswitch1.default.ovn')).toBe(
      'vm1.default.vswitch1.default.ovn',
    );
  });

  it('host-side names are stable, h-prefixed, within IFNAMSIZ and distinct per LSP', () => {
    expect(hostIfname('a')).toBe(hostIfname('a'));
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const h = hostIfname(a);
        expect(h).toMatch(/^h[0-9a-f]{12}$/);
        expect(h.length).toBeLessThanOrEqual(IFNAME_MAX);
        if (a !== b) expect(hostIfname(b)).not.toBe(h);
      }),
    );
  });

  it('interfaces: eth0 first, then net1, net2, … skipping taken names', () => {
    expect(nextIfname(new Set(['lo']))).toBe('eth0');
    expect(nextIfname(new Set(['lo', 'eth0']))).toBe('net1');
    expect(nextIfname(new Set(['eth0', 'net1', 'net3']))).toBe('net2');
  });
});
