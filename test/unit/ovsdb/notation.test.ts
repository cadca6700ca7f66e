import { describe, expect, it } from 'vitest';
import { checkDatum, datumEqual, decodeDatum, encodeDatum, isUuid } from '../../../ovsdb/notation.js';
import { parseColumnType } from '../../../ovsdb/schema.js';

const U = '5a3b6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const t = (raw: unknown) => parseColumnType(raw, 'test');

describe('decodeDatum', () => {
  it('decodes scalars, including a one-element set', () => {
    expect(decodeDatum(t('string'), 'a')).toBe('a');
    expect(decodeDatum(t('integer'), ['set', [7]])).toBe(7);
    expect(decodeDatum(t('uuid'), ['uuid', U])).toBe(U);
  });
  it('decodes optional columns: empty set is undefined, bare atom is the value', () => {
    const opt = t({ key: 'integer', min: 0, max: 1 });
    expect(decodeDatum(opt, ['set', []])).toBeUndefined();
    expect(decodeDatum(opt, 5)).toBe(5);
    expect(decodeDatum(opt, ['set', [5]])).toBe(5);
  });
  it('decodes sets in both the bare single-atom and ["set", ...] forms', () => {
    const set = t({ key: 'uuid', min: 0, max: 'unlimited' });
    expect(decodeDatum(set, ['uuid', U])).toEqual([U]);
    expect(decodeDatum(set, ['set', [['uuid', U]]])).toEqual([U]);
    expect(decodeDatum(set, ['set', []])).toEqual([]);
  });
  it('decodes maps into records, integer keys as strings', () => {
    expect(
      decodeDatum(t({ key: 'string', value: 'string', min: 0, max: 'unlimited' }), ['map', [['a', 'b']]]),
    ).toEqual({ a: 'b' });
    expect(
      decodeDatum(t({ key: 'integer', value: 'uuid', min: 0, max: 'unlimited' }), [
        'map',
        [[1, ['uuid', U]]],
      ]),
    ).toEqual({ '1': U });
  });
  it('rejects malformed values', () => {
    expect(() => decodeDatum(t('integer'), 'x')).toThrow(/integer/);
    expect(() => decodeDatum(t('string'), ['set', ['a', 'b']])).toThrow(/exactly one/);
    expect(() => decodeDatum(t({ key: 'string', value: 'string' }), ['set', []])).toThrow(/map/);
  });
});

describe('encodeDatum', () => {
  it('encodes uuids and uuid-names', () => {
    expect(encodeDatum(t('uuid'), U)).toEqual(['uuid', U]);
    expect(encodeDatum(t('uuid'), 'row1')).toEqual(['named-uuid', 'row1']);
  });
  it('encodes optional, set and map columns', () => {
    expect(encodeDatum(t({ key: 'integer', min: 0, max: 1 }), undefined)).toEqual(['set', []]);
    expect(encodeDatum(t({ key: 'integer', min: 0, max: 1 }), 3)).toBe(3);
    expect(encodeDatum(t({ key: 'string', min: 0, max: 'unlimited' }), ['a', 'b'])).toEqual([
      'set',
      ['a', 'b'],
    ]);
    expect(
      encodeDatum(t({ key: 'integer', value: 'string', min: 0, max: 'unlimited' }), { '4': 'x' }),
    ).toEqual(['map', [[4, 'x']]]);
  });
  it('round-trips through decode', () => {
    const m = t({ key: 'string', value: 'string', min: 0, max: 'unlimited' });
    expect(decodeDatum(m, encodeDatum(m, { k: 'v', k2: 'v2' }))).toEqual({ k: 'v', k2: 'v2' });
  });
});

describe('checkDatum / datumEqual / isUuid', () => {
  it('enforces constraints', () => {
    expect(
      checkDatum(t({ key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 1 }), 4096),
    ).toMatch(/greater/);
    expect(checkDatum(t({ key: { type: 'string', enum: ['set', ['a', 'b']] } }), 'c')).toMatch(/not one of/);
    expect(checkDatum(t({ key: 'string', min: 1, max: 2 }), ['a', 'b', 'c'])).toMatch(/at most 2/);
    expect(checkDatum(t({ key: 'string', min: 0, max: 'unlimited' }), ['a', 'a'])).toMatch(/duplicate/);
    expect(checkDatum(t('string'), 'ok')).toBeUndefined();
  });
  it('compares sets unordered and maps by key', () => {
    const set = t({ key: 'string', min: 0, max: 'unlimited' });
    expect(datumEqual(set, ['a', 'b'], ['b', 'a'])).toBe(true);
    expect(datumEqual(set, ['a'], ['a', 'b'])).toBe(false);
    const map = t({ key: 'string', value: 'string', min: 0, max: 'unlimited' });
    expect(datumEqual(map, { a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(datumEqual(map, { a: '1' }, { a: '2' })).toBe(false);
  });
  it('recognises canonical uuids only', () => {
    expect(isUuid(U)).toBe(true);
    expect(isUuid('row1')).toBe(false);
  });
});
