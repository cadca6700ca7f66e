import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatBridgeMappings,
  mergeBridgeMappings,
  parseBridgeMappings,
} from '../../../../../agent/node/ovs/mappings.js';

const want = (...pairs: [string, string][]) => new Map(pairs);

describe('parse/format ovn-bridge-mappings', () => {
  it('round-trips pairs, trims items, skips empty ones', () => {
    expect(parseBridgeMappings(' physnet:br-eth0 ,, tor:br-tor')).toEqual([
      { network: 'physnet', bridge: 'br-eth0' },
      { network: 'tor', bridge: 'br-tor' },
    ]);
    expect(formatBridgeMappings(parseBridgeMappings('a:br-a,b:br-b'))).toBe('a:br-a,b:br-b');
    expect(parseBridgeMappings(undefined)).toEqual([]);
    expect(parseBridgeMappings('')).toEqual([]);
    expect(formatBridgeMappings(parseBridgeMappings('odd'))).toBe('odd');
  });
});

describe('mergeBridgeMappings', () => {
  it('adds ours to an empty value and records them', () => {
    const m = mergeBridgeMappings(undefined, undefined, want(['tor', 'br-tor'], ['a', 'br-a']));
    expect(m).toEqual({ value: 'a:br-a,tor:br-tor', owned: 'a:br-a,tor:br-tor', conflicts: [] });
  });

  it('keeps foreign entries in place and appends ours after them', () => {
    const m = mergeBridgeMappings('physnet:br-eth0,z:br-z', undefined, want(['tor', 'br-tor']));
    expect(m.value).toBe('physnet:br-eth0,z:br-z,tor:br-tor');
    expect(m.owned).toBe('tor:br-tor');
  });

  it('removes only our entries that are no longer desired', () => {
    const m = mergeBridgeMappings(
      'physnet:br-eth0,tor:br-tor,b:br-b',
      'tor:br-tor,b:br-b',
      want(['b', 'br-b']),
    );
    expect(m.value).toBe('physnet:br-eth0,b:br-b');
    expect(m.owned).toBe('b:br-b');
    const none = mergeBridgeMappings('physnet:br-eth0,tor:br-tor', 'tor:br-tor', want());
    expect(none).toEqual({ value: 'physnet:br-eth0', owned: '', conflicts: [] });
  });

  it('changes our entry in place when its bridge changes', () => {
    const m = mergeBridgeMappings('x:br-x,tor:br-old,y:br-y', 'tor:br-old', want(['tor', 'br-tor']));
    expect(m.value).toBe('x:br-x,tor:br-tor,y:br-y');
    expect(m.owned).toBe('tor:br-tor');
  });

  it('never overrides a foreign entry for the same network, and reports it', () => {
    const m = mergeBridgeMappings('tor:br-admin', undefined, want(['tor', 'br-tor']));
    expect(m.value).toBe('tor:br-admin');
    expect(m.owned).toBe('');
    expect(m.conflicts).toEqual([{ network: 'tor', wanted: 'br-tor', existing: 'br-admin' }]);
  });

  it('does not claim a foreign entry equal to ours (removing ours later keeps it)', () => {
    const m = mergeBridgeMappings('tor:br-tor', undefined, want(['tor', 'br-tor']));
    expect(m).toEqual({ value: 'tor:br-tor', owned: '', conflicts: [] });
    expect(mergeBridgeMappings(m.value, m.owned, want()).value).toBe('tor:br-tor');
  });

  it('repairs our entry removed out of band', () => {
    const m = mergeBridgeMappings('physnet:br-eth0', 'tor:br-tor', want(['tor', 'br-tor']));
    expect(m.value).toBe('physnet:br-eth0,tor:br-tor');
    expect(m.owned).toBe('tor:br-tor');
  });

  const name = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
  it('property: foreign entries survive in order; merging twice changes nothing; removal restores', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { maxLength: 5 }),
        fc.uniqueArray(name, { maxLength: 5 }),
        (foreign, ours) => {
          const current = formatBridgeMappings(foreign.map((n) => ({ network: n, bridge: `br-f${n}` })));
          const desired = new Map(ours.map((n) => [n, `br-${n}`]));
          const once = mergeBridgeMappings(current, undefined, desired);
          const twice = mergeBridgeMappings(once.value, once.owned, desired);
          expect(twice.value).toBe(once.value);
          expect(twice.owned).toBe(once.owned);
          // Foreign pairs are a prefix, unchanged.
          expect(once.value.startsWith(current)).toBe(true);
          // Withdrawing everything restores the foreign value exactly.
          expect(mergeBridgeMappings(once.value, once.owned, new Map()).value).toBe(current);
          expect(mergeBridgeMappings(once.value, once.owned, new Map()).owned).toBe('');
        },
      ),
    );
  });
});
