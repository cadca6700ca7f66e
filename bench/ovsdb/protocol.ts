/**
 * The runner ↔ peer protocol. A peer is one process per phase, started as
 * `<peer> --remote <unix:…> --phase <seq|pipe|sync> --switches S --ports P --schema <file>`:
 *
 * 1. after its imports and setup, before connecting, it prints `{"event":"ready"}` on stdout
 *    and waits for a `go` line on stdin (the runner samples its baseline RSS meanwhile);
 * 2. it runs the phase and prints one {@link PeerResult} line `{"event":"result", …}`;
 * 3. it keeps its state (connection, cache) alive until stdin reaches EOF, so the runner
 *    can read `/proc/<pid>/status` of the loaded client; then it exits 0.
 * A failure is printed as `{"event":"error","message":…}` and a non-zero exit.
 */

export type Phase = 'seq' | 'pipe' | 'sync';
export const PHASES: readonly Phase[] = ['seq', 'pipe', 'sync'];

/** Arguments every peer receives. */
export interface PeerArgs {
  remote: string;
  phase: Phase;
  switches: number;
  ports: number;
  schema: string;
}

/** What a peer reports for one phase. */
export interface PeerResult {
  event: 'result';
  phase: Phase;
  /** Transactions committed (write phases). */
  txns?: number;
  /** Wall time of the measured part. */
  seconds: number;
  /** Rows held after a sync (cache size, or rows in the raw reply). */
  rows?: number;
  /** Whether the peer keeps a replica of the rows (memory per cached row is meaningful). */
  cache?: boolean;
  /** In-flight limit used for `pipe` (absent = unlimited). */
  window?: number;
  /** Process whose memory counts as the client's, when it is not the peer itself (ovn-nbctl daemon). */
  measurePid?: number;
  /** Free-form remarks (how the peer pipelines, what "synced" means for it). */
  note?: string;
}

/** Parses `--name value` pairs into {@link PeerArgs}. */
export function parsePeerArgs(argv: readonly string[]): PeerArgs {
  const get = (name: string): string => {
    const k = argv.indexOf(`--${name}`);
    const v = k >= 0 ? argv[k + 1] : undefined;
    if (v === undefined) throw new Error(`missing --${name}`);
    return v;
  };
  const phase = get('phase');
  if (!PHASES.includes(phase as Phase)) throw new Error(`bad --phase ${phase}`);
  return {
    remote: get('remote'),
    phase: phase as Phase,
    switches: Number(get('switches')),
    ports: Number(get('ports')),
    schema: get('schema'),
  };
}

/** Formats the command-line arguments of a peer. */
export function peerArgv(a: PeerArgs): string[] {
  return [
    '--remote',
    a.remote,
    '--phase',
    a.phase,
    '--switches',
    String(a.switches),
    '--ports',
    String(a.ports),
    '--schema',
    a.schema,
  ];
}

/** Thrown by a peer that cannot run here (e.g. our client before its API has landed). */
export class PeerUnavailableError extends Error {}

/**
 * Node side of the protocol: `setup` runs before `ready` (imports, schema loading) and
 * returns the phase runner; its result is printed, then the process stays up until stdin EOF.
 * A {@link PeerUnavailableError} from `setup` is reported as `{"event":"unavailable"}`.
 */
export async function runNodePeer(
  setup: (args: PeerArgs) => Promise<(args: PeerArgs) => Promise<Omit<PeerResult, 'event' | 'phase'>>>,
): Promise<void> {
  const print = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  try {
    const args = parsePeerArgs(process.argv.slice(2));
    let phaseRunner;
    try {
      phaseRunner = await setup(args);
    } catch (err) {
      if (err instanceof PeerUnavailableError) {
        print({ event: 'unavailable', message: err.message });
        process.exit(0);
      }
      throw err;
    }
    const lines = stdinLines();
    print({ event: 'ready' });
    if ((await lines.next()).value !== 'go') throw new Error('expected "go" on stdin');
    const result = await phaseRunner(args);
    // After the timed part, before memory is sampled: a full GC, so RSS shows what the client
    // keeps (its replica) rather than garbage V8 has not collected yet, as CPython's reference
    // counting frees it at once for the Python peers. Node peers run with --expose-gc.
    (globalThis as { gc?: () => void }).gc?.();
    print({ event: 'result', phase: args.phase, ...result });
    while (!(await lines.next()).done) {
      /* hold the loaded state until the runner has sampled our memory */
    }
    process.exit(0);
  } catch (err) {
    print({ event: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
}

/** Lines of stdin as an async iterator (ends at EOF). */
function stdinLines(): AsyncIterator<string> {
  const queue: string[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let k;
    while ((k = buf.indexOf('\n')) >= 0) {
      queue.push(buf.slice(0, k).trim());
      buf = buf.slice(k + 1);
    }
    wake?.();
  });
  process.stdin.on('end', () => {
    ended = true;
    wake?.();
  });
  return {
    async next() {
      while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const value = queue.shift();
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    },
  };
}
