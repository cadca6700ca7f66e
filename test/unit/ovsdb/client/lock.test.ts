/**
 * Lock handles against a scripted session (RFC 7047 §4.1.8-10): ownership from the `lock`
 * reply or a later `locked` notification, `stolen`, release on disconnect, re-request on a new
 * session, `steal` withdrawing the pending request first, `unlock`.
 */
import { describe, expect, it } from 'vitest';
import { LockManager } from '../../../../ovsdb/client/lock.js';
import type { RpcConnection } from '../../../../ovsdb/rpc/connection.js';

/** A fake session: records requests, answers `lock` with `granted`, lets tests push notifications. */
function fakeConn(granted: boolean) {
  const requests: [string, unknown[]][] = [];
  const handlers = new Map<string, (p: unknown[]) => void>();
  const conn = {
    isClosed: false,
    request: async (method: string, params: unknown[]) => {
      requests.push([method, params]);
      return method === 'lock' ? { locked: granted } : method === 'steal' ? { locked: true } : {};
    },
    onNotification: (method: string, h: (p: unknown[]) => void) => {
      handlers.set(method, h);
      return () => handlers.delete(method);
    },
  };
  const notify = (method: string, name: string) => handlers.get(method)?.([name]);
  return { conn: conn as unknown as RpcConnection, requests, notify };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LockHandle', () => {
  it('owns the lock when granted at once, loses it on stolen and on disconnect', async () => {
    const m = new LockManager();
    const s = fakeConn(true);
    await m.attach(s.conn);
    const h = m.get('writer');
    const events: string[] = [];
    h.on('locked', () => events.push('locked'));
    h.on('stolen', () => events.push('stolen'));
    h.on('released', (why) => events.push(`released:${why}`));
    await h.acquired;
    expect(h.isOwner).toBe(true);
    s.notify('stolen', 'writer');
    expect(h.isOwner).toBe(false);
    s.notify('locked', 'writer');
    expect(h.isOwner).toBe(true);
    m.detach('disconnected');
    expect(h.isOwner).toBe(false);
    expect(events).toEqual(['locked', 'stolen', 'locked', 'released:disconnected']);
    expect(s.requests).toEqual([['lock', ['writer']]]);
  });

  it('waits for the locked notification and re-requests on every new session', async () => {
    const m = new LockManager();
    const h = m.get('writer');
    const first = fakeConn(false);
    await m.attach(first.conn);
    expect(h.isOwner).toBe(false);
    first.notify('locked', 'other-lock');
    expect(h.isOwner).toBe(false);
    m.detach('disconnected');
    const second = fakeConn(false);
    await m.attach(second.conn);
    expect(second.requests).toEqual([['lock', ['writer']]]);
    second.notify('locked', 'writer');
    await h.acquired;
    expect(h.isOwner).toBe(true);
  });

  it('steal withdraws the queued request, then steals', async () => {
    const m = new LockManager();
    const s = fakeConn(false);
    await m.attach(s.conn);
    const h = m.get('writer');
    await tick();
    await h.steal();
    expect(h.isOwner).toBe(true);
    expect(s.requests.map(([method]) => method)).toEqual(['lock', 'unlock', 'steal']);
  });

  it('unlock releases, stops re-requesting, and rejects a pending acquire', async () => {
    const m = new LockManager();
    const s = fakeConn(true);
    await m.attach(s.conn);
    const owned = m.get('a');
    await owned.acquired;
    const released: string[] = [];
    owned.on('released', (why) => released.push(why));
    await owned.unlock();
    expect(released).toEqual(['unlock']);

    const pending = m.get('b');
    m.detach('disconnected');
    await pending.unlock();
    await expect(pending.acquired).rejects.toMatchObject({ code: 'OVSDB_LOCK_RELEASED' });

    const next = fakeConn(true);
    await m.attach(next.conn);
    expect(next.requests).toEqual([]);
    expect(m.get('a')).not.toBe(owned);
  });

  it('refuses names that are not RFC 7047 <id>s', () => {
    const m = new LockManager();
    expect(() => m.get('9lives')).toThrow(expect.objectContaining({ code: 'OVSDB_BAD_LOCK_NAME' }));
    expect(() => m.get('with-dash')).toThrow(expect.objectContaining({ code: 'OVSDB_BAD_LOCK_NAME' }));
    expect(m.get('_ok_1').name).toBe('_ok_1');
  });
});
