/**
 * Per-key serialization: work on one network namespace (a port request, the repair of one of
 * its ports) runs one at a time, in order; other namespaces do not wait.
 */

export type KeyedSerial = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Runs `fn` once every earlier call with the same key has settled; other keys do not wait.
 * A promise chain per key is all this needs, so no mutex package is pulled in for it.
 */
export function keyedSerial(): KeyedSerial {
  const tails = new Map<string, Promise<unknown>>();
  return (key, fn) => {
    const next = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return next;
  };
}
