import { describe, expect, it } from 'vitest';
import { PortError } from '../../../../../agent/node/ports/errors.js';
import { validateAddRequest, validateDelRequest } from '../../../../../agent/node/ports/request.js';

/** The field a rejected request names (and that it is a 400). */
function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PortError);
    expect((err as PortError).status).toBe(400);
    return (err as PortError).field;
  }
  throw new Error('accepted');
}

describe('port request validation', () => {
  it('accepts a full add request and normalises the MAC', () => {
    expect(
      validateAddRequest({
        network: 'default/vswitch1',
        netns: 'vm1',
        ifname: 'net5',
        name: 'p1',
        ip: '172.20.10.20',
        mac: '0A:00:00:00:00:01',
        dhcp: false,
        defaultRoute: true,
      }),
    ).toEqual({
      network: { namespace: 'default', name: 'vswitch1' },
      netns: 'vm1',
      ifname: 'net5',
      name: 'p1',
      ip: '172.20.10.20',
      mac: '0a:00:00:00:00:01',
      dhcp: false,
      defaultRoute: true,
    });
  });

  it('names the field at fault', () => {
    const ok = { network: 'default/vswitch1', netns: 'vm1' };
    expect(fieldOf(() => validateAddRequest([]))).toBe('body');
    expect(fieldOf(() => validateAddRequest({ netns: 'vm1' }))).toBe('network');
    expect(fieldOf(() => validateAddRequest({ ...ok, network: 'vswitch1' }))).toBe('network');
    expect(fieldOf(() => validateAddRequest({ network: 'default/x' }))).toBe('netns');
    expect(fieldOf(() => validateAddRequest({ ...ok, netns: '../etc' }))).toBe('netns');
    expect(fieldOf(() => validateAddRequest({ ...ok, ifname: 'a-name-longer-than-15' }))).toBe('ifname');
    expect(fieldOf(() => validateAddRequest({ ...ok, ifname: 'a/b' }))).toBe('ifname');
    expect(fieldOf(() => validateAddRequest({ ...ok, ip: '172.20.10.300' }))).toBe('ip');
    expect(fieldOf(() => validateAddRequest({ ...ok, mac: 'zz:00:00:00:00:00' }))).toBe('mac');
    expect(fieldOf(() => validateAddRequest({ ...ok, dhcp: 'yes' }))).toBe('dhcp');
    expect(fieldOf(() => validateAddRequest({ ...ok, name: 'has space' }))).toBe('name');
    expect(fieldOf(() => validateAddRequest({ ...ok, colour: 'red' }))).toBe('colour');
  });

  it('del: netns required, network optional', () => {
    expect(validateDelRequest({ netns: 'vm1' })).toEqual({ netns: 'vm1' });
    expect(validateDelRequest({ netns: 'vm1', network: 'default/v' })).toEqual({
      netns: 'vm1',
      network: { namespace: 'default', name: 'v' },
    });
    expect(fieldOf(() => validateDelRequest({}))).toBe('netns');
    expect(fieldOf(() => validateDelRequest({ netns: 'vm1', network: 'x' }))).toBe('network');
  });
});
