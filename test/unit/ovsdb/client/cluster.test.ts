/**
 * Member acceptance from a `_Server.Database` row (ovsdb-server(5)), the highest seen index,
 * and schema version compatibility.
 */
import { describe, expect, it } from 'vitest';
import {
  judgeMember,
  mustLeave,
  nextMinIndex,
  schemaVersionWarning,
  type ServerDatabaseRow,
} from '../../../../ovsdb/client/cluster.js';

function row(over: Partial<ServerDatabaseRow> = {}): ServerDatabaseRow {
  return {
    name: 'OVN_Northbound',
    model: 'clustered',
    connected: true,
    leader: true,
    index: 10,
    schema: '{"name":"OVN_Northbound"}',
    ...over,
  };
}

const leaderOnly = { leaderOnly: true, minIndex: 0 };
const anyMember = { leaderOnly: false, minIndex: 0 };

describe('judgeMember', () => {
  it('accepts a connected, joined, up-to-date leader', () => {
    expect(judgeMember(row(), leaderOnly)).toEqual({ accept: true });
  });

  it('refuses a server that does not host the database', () => {
    expect(judgeMember(undefined, anyMember)).toEqual({ accept: false, reason: 'no-database' });
  });

  it('refuses a follower only when leader-only', () => {
    expect(judgeMember(row({ leader: false }), leaderOnly)).toEqual({ accept: false, reason: 'not-leader' });
    expect(judgeMember(row({ leader: false }), anyMember)).toEqual({ accept: true });
  });

  it('refuses a member cut off from its majority, even a former leader', () => {
    expect(judgeMember(row({ connected: false }), anyMember)).toEqual({
      accept: false,
      reason: 'disconnected',
    });
  });

  it('refuses a member that has not finished joining (empty schema)', () => {
    expect(judgeMember(row({ schema: undefined, leader: false }), anyMember)).toEqual({
      accept: false,
      reason: 'not-joined',
    });
  });

  it('refuses a member whose index is behind the highest seen; equal is fine', () => {
    expect(judgeMember(row({ index: 9 }), { leaderOnly: true, minIndex: 10 })).toEqual({
      accept: false,
      reason: 'stale',
    });
    expect(judgeMember(row({ index: 10 }), { leaderOnly: true, minIndex: 10 })).toEqual({ accept: true });
  });

  it('always accepts standalone databases, and relays when connected', () => {
    const sa = row({ model: 'standalone', index: undefined, leader: true });
    expect(judgeMember(sa, { leaderOnly: true, minIndex: 99 })).toEqual({ accept: true });
    const relay = row({ model: 'relay', leader: false, index: undefined });
    expect(judgeMember(relay, leaderOnly)).toEqual({ accept: true });
    expect(judgeMember({ ...relay, connected: false }, leaderOnly)).toEqual({
      accept: false,
      reason: 'disconnected',
    });
  });
});

describe('mustLeave', () => {
  it('leaves a member that lost leadership (leader-only) or its majority', () => {
    expect(mustLeave(row(), true)).toBeUndefined();
    expect(mustLeave(row({ leader: false }), true)).toBe('not-leader');
    expect(mustLeave(row({ leader: false }), false)).toBeUndefined();
    expect(mustLeave(row({ connected: false }), false)).toBe('disconnected');
    expect(mustLeave(undefined, false)).toBe('no-database');
    expect(mustLeave(row({ model: 'standalone', connected: false }), true)).toBeUndefined();
  });
});

describe('nextMinIndex', () => {
  it('keeps the highest index seen', () => {
    let m = 0;
    for (const i of [5, 12, 7, undefined, 12, 13]) m = nextMinIndex(m, row({ index: i }));
    expect(m).toBe(13);
    expect(nextMinIndex(4, undefined)).toBe(4);
  });
});

describe('schemaVersionWarning', () => {
  it('accepts the same major and warns on a different major or malformed versions', () => {
    expect(schemaVersionWarning('7.0.0', '7.0.0')).toBeUndefined();
    expect(schemaVersionWarning('7.0.0', '7.3.1')).toBeUndefined();
    expect(schemaVersionWarning('7.0.0', '8.0.0')).toMatch(/major/);
    expect(schemaVersionWarning('7', '7.0.0')).toMatch(/cannot compare/);
  });
});
