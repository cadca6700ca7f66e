import { describe, expect, it } from 'vitest';
import { parseRemote, parseRemotes } from '../../../../ovsdb/rpc/transport.js';

describe('parseRemote', () => {
  it('parses unix, tcp and ssl remotes', () => {
    expect(parseRemote('unix:/run/ovn/ovnnb_db.sock')).toEqual({
      kind: 'unix',
      path: '/run/ovn/ovnnb_db.sock',
      text: 'unix:/run/ovn/ovnnb_db.sock',
    });
    expect(parseRemote('tcp:10.0.0.1:6641')).toEqual({
      kind: 'tcp',
      host: '10.0.0.1',
      port: 6641,
      text: 'tcp:10.0.0.1:6641',
    });
    expect(parseRemote('ssl:ovn-central.example:6642')).toMatchObject({
      kind: 'ssl',
      host: 'ovn-central.example',
      port: 6642,
    });
  });

  it('parses bracketed IPv6 hosts and defaults the port to 6640', () => {
    expect(parseRemote('tcp:[::1]:6641')).toEqual({
      kind: 'tcp',
      host: '::1',
      port: 6641,
      text: 'tcp:[::1]:6641',
    });
    expect(parseRemote('ssl:[fd00::2]')).toMatchObject({
      host: 'fd00::2',
      port: 6640,
      text: 'ssl:[fd00::2]:6640',
    });
    expect(parseRemote('tcp:127.0.0.1')).toMatchObject({ port: 6640 });
  });

  it('rejects malformed remotes with OVSDB_BAD_REMOTE', () => {
    for (const bad of [
      'ptcp:6641',
      'tcp:',
      'tcp:h:0',
      'tcp:h:70000',
      'tcp:h:x',
      'tcp:::1:6641',
      'tcp:[::1',
      'unix:',
      'x',
    ]) {
      expect(() => parseRemote(bad), bad).toThrow(expect.objectContaining({ code: 'OVSDB_BAD_REMOTE' }));
    }
  });
});

describe('parseRemotes', () => {
  it('splits comma-separated lists, also inside array entries', () => {
    expect(parseRemotes('tcp:10.0.0.1:6641,tcp:10.0.0.2:6641, tcp:[::1]:6641').map((r) => r.text)).toEqual([
      'tcp:10.0.0.1:6641',
      'tcp:10.0.0.2:6641',
      'tcp:[::1]:6641',
    ]);
    expect(parseRemotes(['unix:/a.sock', 'tcp:h:1,ssl:h:2']).map((r) => r.kind)).toEqual([
      'unix',
      'tcp',
      'ssl',
    ]);
  });

  it('rejects an empty list', () => {
    expect(() => parseRemotes(' , ')).toThrow(expect.objectContaining({ code: 'OVSDB_BAD_REMOTE' }));
  });
});
