/** Waiting on a monitor cache: resolve when a predicate holds, with a timeout. */
import type { DatabaseCache } from '../../../ovsdb/index.js';

/**
 * Resolves with `check()`'s first non-undefined value, re-checked after every change batch of
 * `cache`; rejects with `onTimeout()` after `timeoutMs`.
 */
export function waitForCache<T>(
  cache: DatabaseCache,
  check: () => T | undefined,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  const now = check();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const off = cache.onChange(() => {
      let v: T | undefined;
      try {
        v = check();
      } catch (err) {
        done();
        reject(err as Error);
        return;
      }
      if (v === undefined) return;
      done();
      resolve(v);
    });
    const timer = setTimeout(() => {
      done();
      reject(onTimeout());
    }, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      off();
    }
  });
}
