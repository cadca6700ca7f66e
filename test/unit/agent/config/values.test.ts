/** Duration and listen-address parsing of the agent's configuration. */
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  MAX_DURATION_MS,
  parseDuration,
  parseListenAddress,
} from '../../../../agent/config/values.js';

describe('parseDuration', () => {
  it.each([
    ['60s', 60_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['1500', 1_500],
    ['0', 0],
    [' 30s ', 30_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '60x', '-1s', 's', '1e3', '60 s', 'NaN', '0x10', '1,5s', '60S'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration \(use e\.g\. 500ms, 60s, 2m/);
  });

  it('refuses what setTimeout cannot wait for', () => {
    expect(parseDuration(`${MAX_DURATION_MS}`)).toBe(MAX_DURATION_MS);
    expect(() => parseDuration('25d')).toThrow(/not a duration/);
    expect(() => parseDuration('600h')).toThrow(/too long/);
  });

  it('formats defaults in the largest exact unit, and they parse back', () => {
    for (const [ms, text] of [
      [60_000, '1m'],
      [30_000, '30s'],
      [100, '100ms'],
      [7_200_000, '2h'],
      [1_500, '1500ms'],
      [0, '0ms'],
    ] as const) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration(text)).toBe(ms);
    }
  });
});

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9090', { host: '127.0.0.1', port: 9090 }],
    [':9090', { host: '127.0.0.1', port: 9090 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['agent-1.example.org:65535', { host: 'agent-1.example.org', port: 65535 }],
  ])('%s', (text, want) => {
    expect(parseListenAddress(text)).toEqual(want);
  });

  it.each([
    ['127.0.0.1', /has no port/],
    ['localhost', /has no port/],
    ['[::1]', /has no port/],
    ['127.0.0.1:', /port "" is not a number/],
    ['127.0.0.1:99999', /port "99999" is not a number from 0 to 65535/],
    ['127.0.0.1:http', /port "http"/],
    ['127.0.0.1:-1', /port "-1"/],
    ['999.1.1.1:9090', /999\.1\.1\.1 is not an IP address or host name/],
    ['bad_host:9090', /bad_host is not an IP address or host name/],
    ['::1:9090', /in brackets/],
    ['[nope]:9090', /nope is not an IPv6 address/],
    ['[::1:9090', /unterminated/],
  ])('refuses %s', (text, why) => {
    expect(() => parseListenAddress(text)).toThrow(why);
  });
});
