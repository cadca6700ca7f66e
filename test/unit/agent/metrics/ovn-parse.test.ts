/**
 * The OVN health parsers on replies recorded from a clustered sandbox (ovsdb-server 3.1,
 * ovn-northd and ovn-controller 23.03, with `ovs-appctl`) and on wrong and partial ones.
 */
import { describe, expect, it } from 'vitest';
import { OvsReplyError } from '../../../../agent/metrics/datapath-parse.js';
import { serverFields } from '../../../../agent/metrics/ovn-cluster.js';
import { countOf } from '../../../../agent/metrics/ovn-sb.js';
import {
  isNotClustered,
  parseClusterStatus,
  parseConnectionStatus,
  parseNorthdStatus,
} from '../../../../agent/metrics/ovn-parse.js';
import { fixture } from './replay.js';

const LEADER = fixture('cluster-status-leader.txt');
const FOLLOWER = fixture('cluster-status-follower.txt');

describe('parseClusterStatus', () => {
  it('reads the recorded leader: role, term, self as leader, log and backlogs, members', () => {
    expect(parseClusterStatus(LEADER)).toEqual({
      database: 'OVN_Northbound',
      sid: '62919b9d-adfb-406d-b9ac-7a3c8d063de8',
      cid: '5322bd2f-d395-441c-8dbf-937c9f76d9a8',
      address: 'tcp:127.0.0.1:36481',
      status: 'cluster member',
      member: true,
      role: 'leader',
      term: 1,
      leader: true,
      leaderId: 'self',
      logIndex: 11,
      uncommitted: 0,
      unapplied: 0,
      servers: 3,
    });
  });

  it('reads the recorded follower: not the leader, the leader’s short id', () => {
    const s = parseClusterStatus(FOLLOWER);
    expect(s).toMatchObject({ role: 'follower', leader: false, leaderId: '6291', member: true, servers: 3 });
  });

  it('reads a candidate cut off from its cluster, with a backlog and the leader unknown', () => {
    const text = LEADER.replace(
      'Status: cluster member',
      'Status: disconnected from the cluster (election timeout)',
    )
      .replace('Role: leader', 'Role: candidate')
      .replace('Term: 1', 'Term: 7')
      .replace('Leader: self', 'Leader: unknown')
      .replace('Entries not yet committed: 0', 'Entries not yet committed: 12')
      .replace('Entries not yet applied: 0', 'Entries not yet applied: 3');
    const s = parseClusterStatus(text);
    expect(s).toMatchObject({
      role: 'candidate',
      term: 7,
      member: false,
      leader: false,
      uncommitted: 12,
      unapplied: 3,
    });
    expect(s.leaderId).toBeUndefined();
  });

  it('leaves out what a partial reply lacks (no backlog, log or servers lines)', () => {
    const cut = LEADER.slice(0, LEADER.indexOf('Last Election'));
    const s = parseClusterStatus(cut);
    expect(s.term).toBe(1);
    expect(s.uncommitted).toBeUndefined();
    expect(s.unapplied).toBeUndefined();
    expect(s.logIndex).toBeUndefined();
    expect(s.servers).toBe(0);
  });

  it('refuses another command’s reply, an unknown role and an unreadable term', () => {
    expect(() => parseClusterStatus(fixture('dpctl-show.txt'))).toThrow(OvsReplyError);
    expect(() => parseClusterStatus(LEADER.replace('Role: leader', 'Role: boss'))).toThrow(/role "boss"/);
    expect(() => parseClusterStatus(LEADER.replace('Term: 1', 'Term: x'))).toThrow(/Term/);
    expect(() => parseClusterStatus(LEADER.replace(/Server ID: .*/, 'Server ID: ?'))).toThrow(/Server ID/);
  });

  it('tells a standalone server’s error apart', () => {
    expect(isNotClustered('cluster/status: unknown cluster')).toBe(true);
    // A server without any clustered database has no cluster commands at all (recorded).
    expect(
      isNotClustered(
        '"cluster/status" is not a valid command (use "list-commands" to see a list of valid commands)',
      ),
    ).toBe(true);
    expect(isNotClustered('"cluster/status" needs 1 argument')).toBe(false);
    expect(isNotClustered('"dpctl/show" is not a valid command')).toBe(false);
  });
});

describe('connection-status and northd status', () => {
  it('reads the recorded replies', () => {
    expect(parseConnectionStatus('connection-status', fixture('controller-connection-status.txt'))).toBe(
      true,
    );
    expect(parseNorthdStatus(fixture('northd-status.txt'))).toBe('active');
  });
  it('reads not connected, standby and paused', () => {
    expect(parseConnectionStatus('connection-status', 'not connected\n')).toBe(false);
    expect(parseNorthdStatus('Status: standby\n')).toBe('standby');
    expect(parseNorthdStatus('Status: paused')).toBe('paused');
  });
  it('refuses anything else', () => {
    expect(() => parseConnectionStatus('connection-status', 'connecting')).toThrow(OvsReplyError);
    expect(() => parseConnectionStatus('connection-status', '')).toThrow(/connected/);
    expect(() => parseNorthdStatus('Status: sleeping')).toThrow(OvsReplyError);
    expect(() => parseNorthdStatus(fixture('dpctl-show.txt'))).toThrow(/Status/);
  });
});

describe('serverFields (_Server.Database select)', () => {
  const RECORDED = JSON.parse(fixture('server-database-follower.json')) as unknown;
  it('reads the recorded follower row', () => {
    expect(serverFields('OVN_Southbound', RECORDED)).toEqual({
      model: 'clustered',
      role: 'follower',
      leader: false,
      connected: true,
      index: 8,
    });
  });
  it('reads a leader, a standalone server and an unknown index', () => {
    const row = (r: Record<string, unknown>) => [{ rows: [r] }];
    expect(
      serverFields('X', row({ model: 'clustered', leader: true, connected: false, index: ['set', []] })),
    ).toEqual({
      model: 'clustered',
      role: 'leader',
      leader: true,
      connected: false,
    });
    expect(serverFields('X', row({ model: 'standalone', leader: true, connected: true }))).toEqual({
      model: 'standalone',
    });
  });
  it('refuses a reply without the database’s row or with unreadable columns', () => {
    expect(() => serverFields('X', [{ rows: [] }])).toThrow(/no database X/);
    expect(() => serverFields('X', [{ error: 'unknown database' }])).toThrow(OvsReplyError);
    expect(() => serverFields('X', 'nonsense')).toThrow(OvsReplyError);
    expect(() =>
      serverFields('X', [{ rows: [{ model: 'clustered', leader: 'yes', connected: true }] }]),
    ).toThrow(/boolean/);
    expect(() => serverFields('X', [{ rows: [{ model: 'sharded' }] }])).toThrow(/model/);
  });
});

describe('countOf (the counting transaction’s reply)', () => {
  const REPLY = [{ count: 100000 }, { count: 3 }, { error: 'aborted', details: 'aborted by request' }];
  it('reads the count of each update', () => {
    expect(countOf(REPLY, 0, 'Logical_Flow')).toBe(100000);
    expect(countOf(REPLY, 1, 'Chassis')).toBe(3);
  });
  it('names the server’s error when an update was refused, and refuses other shapes', () => {
    const rbac = [
      {
        error: 'permission error',
        details:
          'RBAC rules for client "node1" role "ovn-controller" prohibit modification of table "Logical_Flow".',
      },
    ];
    expect(() => countOf(rbac, 0, 'Logical_Flow')).toThrow(
      /count Logical_Flow: permission error: RBAC rules/,
    );
    expect(() => countOf(REPLY, 2, 'Chassis')).toThrow(/aborted/);
    expect(() => countOf([{ count: -1 }], 0, 'Chassis')).toThrow(OvsReplyError);
    expect(() => countOf([{ count: 1.5 }], 0, 'Chassis')).toThrow(/no count/);
    expect(() => countOf('nonsense', 0, 'Chassis')).toThrow(/no count/);
  });
});
