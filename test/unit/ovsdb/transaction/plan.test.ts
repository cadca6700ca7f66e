import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDatum } from '../../../../ovsdb/notation.js';
import { parseColumnType, type ColumnType } from '../../../../ovsdb/schema.js';
import { compileType } from '../../../../ovsdb/transaction/plan.js';

const U1 = '11111111-2222-4333-8444-555555555555';

const types: [string, unknown][] = [
  ['string scalar', 'string'],
  ['uuid scalar', 'uuid'],
  ['optional integer', { key: 'integer', min: 0, max: 1 }],
  ['optional uuid', { key: 'uuid', min: 0, max: 1 }],
  ['string set', { key: 'string', min: 0, max: 'unlimited' }],
  ['uuid set', { key: 'uuid', min: 0, max: 'unlimited' }],
  ['string map', { key: 'string', value: 'string', min: 0, max: 'unlimited' }],
  ['integer-keyed map', { key: 'integer', value: 'boolean', min: 0, max: 'unlimited' }],
  ['string-to-uuid map', { key: 'string', value: 'uuid', min: 0, max: 'unlimited' }],
  ['optional string', { key: 'string', min: 0, max: 1 }],
  ['string set of 1..2', { key: 'string', min: 1, max: 2 }],
  ['string map of at most 2', { key: 'string', value: 'string', min: 0, max: 2 }],
  ['enum string', { key: { type: 'string', enum: ['set', ['a', 'b']] } }],
];

/** Values of the in-memory form of `type` (RFC 7047 §5.1 as held by ovsdb/notation.ts). */
function values(type: ColumnType): fc.Arbitrary<unknown> {
  const atom = (t: string): fc.Arbitrary<unknown> =>
    t === 'uuid'
      ? fc.constantFrom(U1, 'row1', 'p_2')
      : t === 'integer'
        ? fc.integer()
        : t === 'boolean'
          ? fc.boolean()
          : fc.string();
  const key = atom(type.key.type);
  switch (type.kind) {
    case 'scalar':
      return key;
    case 'optional':
      return fc.oneof(fc.constant(undefined), key, fc.array(key, { maxLength: 1 }));
    case 'set':
      return fc.oneof(key, fc.uniqueArray(key, { maxLength: 5 }));
    case 'map': {
      const k = type.key.type === 'integer' ? fc.integer().map(String) : fc.string();
      return fc.dictionary(k, atom(type.value!.type), { maxKeys: 4 });
    }
  }
}

/** The value `f` returns, or the message of what it throws. */
function attempt(f: () => unknown): unknown {
  try {
    return f();
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

describe('compiled encoders and fast paths (RFC 7047 §5.1 wire notation)', () => {
  it.each(types)('%s: the same wire value as encodeDatum for every checked value', (_name, raw) => {
    const type = parseColumnType(raw, 'test');
    const plan = compileType(type);
    fc.assert(
      fc.property(fc.oneof(values(type), fc.anything()), (v) => {
        const fast = plan.fast?.(v);
        if (plan.check(v, () => {}) !== undefined) {
          expect(fast).toBeUndefined(); // the fast path never accepts what the check rejects
          return;
        }
        // Same value, or the same error (a set column given null passes the check but has no
        // wire form; encodeDatum rejects it, and so must the compiled encoder).
        const expected = attempt(() => encodeDatum(type, v));
        expect(attempt(() => plan.encode(v))).toEqual(expected);
        if (fast !== undefined) expect(fast).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('copies arrays rather than handing the caller’s array to the wire', () => {
    const plan = compileType(parseColumnType({ key: 'string', min: 0, max: 'unlimited' }, 'test'));
    const held = ['a', 'b'];
    const wire = plan.encode(held) as ['set', string[]];
    expect(wire).toEqual(['set', ['a', 'b']]);
    expect(wire[1]).not.toBe(held);
  });
});

describe('uuid-set fast path (RFC 7047 §5.2.1 uuid-names)', () => {
  const uuidSets: [string, unknown][] = [
    ['uuid set', { key: 'uuid', min: 0, max: 'unlimited' }],
    ['optional uuid', { key: 'uuid', min: 0, max: 1 }],
    ['uuid set of 1..3', { key: 'uuid', min: 1, max: 3 }],
  ];
  const declared = new Set(['row1', 'p_2']);
  const element = fc.constantFrom(U1, 'row1', 'p_2', 'ghost', '1bad', 7);

  it.each(uuidSets)('%s: accepts exactly what check accepts with declared names', (_name, raw) => {
    const plan = compileType(parseColumnType(raw, 'test'));
    fc.assert(
      fc.property(fc.oneof(fc.array(element, { maxLength: 8 }), fc.anything()), (v) => {
        const fast = plan.fast?.(v, declared);
        let undeclared = false;
        const why = plan.check(v, (n) => {
          if (!declared.has(n)) undeclared = true;
        });
        if (why !== undefined || undeclared) {
          expect(fast).toBeUndefined();
          return;
        }
        if (fast !== undefined) expect(fast).toEqual(plan.encode(v));
        else expect(Array.isArray(v)).toBe(false); // every accepted array takes the fast path
      }),
      { numRuns: 300 },
    );
  });

  it('encodes declared names as named-uuid and real UUIDs as uuid, rejects duplicates', () => {
    const plan = compileType(parseColumnType({ key: 'uuid', min: 0, max: 'unlimited' }, 'test'));
    expect(plan.fast?.([U1, 'row1'], declared)).toEqual([
      'set',
      [
        ['uuid', U1],
        ['named-uuid', 'row1'],
      ],
    ]);
    expect(plan.fast?.(['row1', 'p_2', 'row1'], declared)).toBeUndefined();
    expect(
      plan.fast?.(['a', 'b', 'c', 'd', 'e', 'f', 'a'], new Set(['a', 'b', 'c', 'd', 'e', 'f'])),
    ).toBeUndefined();
    expect(plan.fast?.(['row1'])).toBeUndefined(); // no names given: defer to check
  });
});
