/** The scrape-time sampler: at most one refresh per interval, concurrent callers share it, failures are not cached. */
import { describe, expect, it } from 'vitest';
import { createSampler } from '../../../../agent/metrics/sampler.js';

describe('createSampler', () => {
  it('refreshes at most once per interval and shares the refresh in flight', async () => {
    let t = 1000;
    let calls = 0;
    let release: (() => void) | undefined;
    const s = createSampler(
      () =>
        new Promise<number>((resolve) => {
          const n = ++calls;
          release = () => resolve(n);
        }),
      { minIntervalMs: 500, now: () => t },
    );
    const a = s.get();
    const b = s.get();
    release!();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    t += 499;
    expect(await s.get()).toBe(1);
    t += 1;
    const c = s.get();
    release!();
    expect(await c).toBe(2);
    expect(s.refreshes).toBe(2);
  });

  it('does not cache a failed refresh', async () => {
    let fail = true;
    const s = createSampler(() => (fail ? Promise.reject(new Error('down')) : Promise.resolve('up')), {
      minIntervalMs: 60_000,
    });
    await expect(s.get()).rejects.toThrow('down');
    fail = false;
    expect(await s.get()).toBe('up');
    expect(s.refreshes).toBe(2);
  });
});
