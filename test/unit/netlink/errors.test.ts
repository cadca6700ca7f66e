import { describe, expect, it } from 'vitest';
import {
  errnoName,
  errnoNumber,
  errnoOf,
  HostNetError,
  isGone,
  NetlinkError,
  toNetlinkError,
} from '../../../netlink/errors.js';
import { errnoFromMessage } from '../../../netlink/exec.js';

describe('NetlinkError', () => {
  it('carries errno, its name, op, target and netns, with a stable code and a readable message', () => {
    const e = new NetlinkError(17, {
      op: 'link.create.veth',
      target: 'v0',
      netns: 'vm1',
      hint: 'exists as bridge',
    });
    expect(e).toBeInstanceOf(HostNetError);
    expect(e).toMatchObject({
      errno: 17,
      errnoName: 'EEXIST',
      code: 'NETLINK_EEXIST',
      op: 'link.create.veth',
    });
    expect(e.message).toBe('link.create.veth v0 in netns vm1: EEXIST (exists as bridge)');
    expect(e.name).toBe('NetlinkError');
  });

  it('names errno 0 UNKNOWN and shows the cause', () => {
    const e = toNetlinkError(new Error('Timeout has been reached'), { op: 'link.list' });
    expect(e.code).toBe('NETLINK_UNKNOWN');
    expect(e.message).toContain('Timeout has been reached');
  });
});

describe('errno extraction', () => {
  it('reads the npm netlink package NLMSG_ERROR text, ErrnoException fields and Node fs errors', () => {
    expect(errnoOf(new Error('Request rejected: ENODEV'))).toBe(19);
    expect(errnoOf(new Error('Request rejected: -95'))).toBe(95);
    expect(errnoOf(Object.assign(new Error('x'), { errno: -2, code: 'ENOENT' }))).toBe(2);
    expect(errnoOf(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }))).toBe(99);
    expect(errnoOf('nope')).toBe(0);
    expect(errnoNumber('ESRCH')).toBe(3);
    expect(errnoName(99)).toBe('EADDRNOTAVAIL');
    expect(errnoName(4000)).toBe('E4000');
  });

  it('isGone: ENOENT, ENODEV, ESRCH, EADDRNOTAVAIL only', () => {
    for (const n of [2, 19, 3, 99]) expect(isGone(new NetlinkError(n, { op: 'x' }))).toBe(true);
    for (const n of [17, 1, 22, 95]) expect(isGone(new NetlinkError(n, { op: 'x' }))).toBe(false);
    expect(isGone(new Error('Request rejected: ENODEV'))).toBe(false);
  });

  it('maps iproute2/ethtool messages of the exec fallback to errno', () => {
    expect(errnoFromMessage('Cannot create namespace file "/run/netns/x": File exists')).toBe(17);
    expect(errnoFromMessage('Cannot find device "v9"')).toBe(19);
    expect(errnoFromMessage('RTNETLINK answers: Operation not supported')).toBe(95);
    expect(errnoFromMessage('something else')).toBe(5);
  });
});
