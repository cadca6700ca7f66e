import { describe, expect, it } from 'vitest';
import { formatLspAddress, heldAddress, HELD_TABLES, parseLspAddress } from '../../../agent/ownership.js';
import type { Row } from '../../../ovsdb/index.js';

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

describe('heldAddress', () => {
  const ids = (extra: Record<string, string>) => ({
    'vpc-agent.io/owner': 'vpc-agent',
    'vpc-agent.io/subnet': 'ext',
    'vpc-agent.io/ip-owner': 'eip/e1',
    ...extra,
  });
  const row = (external_ids: Record<string, string>, cols: Record<string, unknown> = {}) =>
    ({ _uuid: 'u', external_ids, ...cols }) as Row;

  it('reads an EIP record (Address_Set) like a port: subnet, IPAM owner and address', () => {
    expect(heldAddress('Address_Set', row(ids({ 'vpc-agent.io/ip': '203.0.113.7' })), 'vpc-agent')).toEqual({
      subnet: 'ext',
      owner: 'eip/e1',
      ip: '203.0.113.7',
    });
    expect(HELD_TABLES).toContain('Address_Set');
  });

  it('ignores rows of another deployment, without an address, or with a malformed one', () => {
    const good = ids({ 'vpc-agent.io/ip': '203.0.113.7' });
    expect(heldAddress('Address_Set', row(good), 'other')).toBeUndefined();
    expect(heldAddress('Address_Set', row(ids({})), 'vpc-agent')).toBeUndefined();
    expect(heldAddress('Address_Set', row(ids({ 'vpc-agent.io/ip': 'nope' })), 'vpc-agent')).toBeUndefined();
    expect(heldAddress('ACL', row(good), 'vpc-agent')).toBeUndefined();
  });
});
