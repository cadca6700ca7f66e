/**
 * Cuts a long loop into slices between which the event loop runs, so that a large message
 * never keeps the process from reading its sockets (and answering ovsdb-server's `echo`,
 * RFC 7047 §4.1.11) for long. A slice ends after `rows` rows or `ms` milliseconds, whichever
 * comes first: the row count bounds the work of cheap rows without reading the clock for
 * each, the time bound holds however costly a row is (a client index key function can make
 * rows arbitrarily expensive).
 *
 * Usage: `const s = new Slicer(rows, ms); for (...) { work(); if (s.due()) await s.pause(); }`.
 */

/** How many rows between two looks at the clock. */
const CLOCK_EVERY = 32;

export class Slicer {
  private n = 0;
  private deadline: number;

  constructor(
    private readonly rows: number,
    private readonly ms: number,
  ) {
    this.deadline = performance.now() + ms;
  }

  /** Counts one row; true when the slice is over. */
  due(): boolean {
    const n = ++this.n;
    if (n >= this.rows) return true;
    return n % CLOCK_EVERY === 0 && performance.now() >= this.deadline;
  }

  /** Lets the event loop run (I/O included: `setImmediate` runs after the poll phase), then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.n = 0;
    this.deadline = performance.now() + this.ms;
  }
}
