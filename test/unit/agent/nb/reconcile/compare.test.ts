/** The plan's allocation-free comparisons agree with the generic `datumEqual` (RFC 7047 §5.1 semantics). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../../../../../agent/nb/desired.js';
import { columnEqual, sameExternalIds } from '../../../../../agent/nb/reconcile/compare.js';
import { datumEqual, nb } from '../../../../../ovsdb/index.js';

const lsp = nb.schema().tables.get('Logical_Switch_Port')!;
const type = (col: string) => lsp.columns.get(col)!.type;
const atom = fc.constantFrom('a', 'b', 'c', 'd', 'e');

describe('columnEqual', () => {
  it('matches datumEqual on sets (small and large, any order) and maps', () => {
    const set = fc.uniqueArray(fc.oneof(atom, fc.string({ maxLength: 3 })), { maxLength: 40 });
    fc.assert(
      fc.property(set, set, fc.boolean(), (a, b, shuffle) => {
        const bb = shuffle ? [...a].reverse() : b;
        const t = type('addresses');
        expect(columnEqual(t, a, bb)).toBe(datumEqual(t, a, bb));
      }),
    );
    const map = fc.dictionary(atom, atom, { maxKeys: 5 });
    fc.assert(
      fc.property(map, map, (a, b) => {
        const t = type('options');
        expect(columnEqual(t, a, b)).toBe(datumEqual(t, a, b));
        expect(columnEqual(t, a, { ...a })).toBe(true);
      }),
    );
    expect(columnEqual(type('addresses'), undefined, [])).toBe(true);
    expect(columnEqual(type('tag'), undefined, 5)).toBe(false);
  });
});

describe('sameExternalIds', () => {
  const own = { [OWNER_KEY]: 'o', [ROW_KEY]: 'k', [RESOURCE_KEY]: 'R' };
  it('is true only for exactly the extra keys plus the ownership keys', () => {
    expect(sameExternalIds({ ...own, x: '1' }, { x: '1' }, 'o', 'k', 'R')).toBe(true);
    expect(sameExternalIds({ ...own }, undefined, 'o', 'k', 'R')).toBe(true);
    expect(sameExternalIds({ ...own, x: '1' }, undefined, 'o', 'k', 'R')).toBe(false);
    expect(sameExternalIds({ ...own }, { x: '1' }, 'o', 'k', 'R')).toBe(false);
    expect(sameExternalIds({ ...own, x: '2' }, { x: '1' }, 'o', 'k', 'R')).toBe(false);
    expect(sameExternalIds({ ...own }, {}, 'o', 'k2', 'R')).toBe(false);
    // An ownership key in the builder's extra is overridden, not counted twice.
    expect(sameExternalIds({ ...own }, { [OWNER_KEY]: 'other' }, 'o', 'k', 'R')).toBe(true);
  });
});
