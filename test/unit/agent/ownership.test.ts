import { describe, expect, it } from 'vitest';
import { formatLspAddress, parseLspAddress } from '../../../agent/ownership.js';

describe('LSP addresses "<mac> <ip> [<ip>…]"', () => {
  it('formats with single spaces and parses back the MAC and the first address', () => {
    expect(formatLspAddress('0a:00:00:00:00:01', '10.0.0.5')).toBe('0a:00:00:00:00:01 10.0.0.5');
    const two = formatLspAddress('0a:00:00:00:00:01', '10.0.0.5', 'fd00::5');
    expect(two).toBe('0a:00:00:00:00:01 10.0.0.5 fd00::5');
    expect(parseLspAddress(two)).toEqual({ mac: '0a:00:00:00:00:01', ip: '10.0.0.5' });
  });

  it('accepts any run of white space; keeps values as written', () => {
    expect(parseLspAddress('  0A:00:00:00:00:01\t 10.0.0.5  ')).toEqual({
      mac: '0A:00:00:00:00:01',
      ip: '10.0.0.5',
    });
  });

  it("rejects the column's other forms, a MAC alone and malformed elements", () => {
    for (const bad of [
      undefined,
      ['0a:00:00:00:00:01 10.0.0.5'],
      '',
      'router',
      'unknown',
      'dynamic',
      '0a:00:00:00:00:01',
      '0a:00:00:00:00:01 dynamic',
      '0a:00:00:00:00 10.0.0.5',
      '0a:00:00:00:00:01 10.0.0.256',
      '0a:00:00:00:00:01 10.0.0.5 dynamic',
      '0a:00:00:00:00:01 10.0.0.0/24',
    ]) {
      expect(parseLspAddress(bad)).toBeUndefined();
    }
  });
});
