/**
 * The manifest-directory {@link ResourceSource}: one file or a directory tree of multi-document
 * YAML, watched.
 *
 * - `fs.watch` events only *trigger* a check (debounced), and a poll checks too, because
 *   `fs.watch` misses changes on some filesystems (network mounts, ConfigMap symlink swaps).
 * - A check lists the files and stats them (path, size, mtime, inode); only when that
 *   fingerprint changed does it read them — each file once — and only when their text changed
 *   does it decode them and deliver a snapshot. Nothing else reads the files.
 * - A listing that fails (the path vanished, a sub-directory cannot be read, a volume
 *   unmounted) or a file that cannot be read makes the snapshot incomplete: it still carries
 *   every item that could be read, but the pipeline prunes nothing on it.
 * - A file with a YAML error is `broken`: its decodable documents are delivered and its
 *   resources are held at their last valid version by the pipeline.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ManifestError } from '../errors.js';
import { decodeManifestText, listManifestFiles } from '../resources/loader.js';
import type { ResourceSource, SourceItem, SourceSnapshot } from './types.js';

export interface DirectorySourceOptions {
  /** Quiet time after an fs event before checking; default 200 ms (editors write in bursts). */
  debounceMs?: number;
  /** Poll interval; default 2000 ms; 0 disables polling. */
  pollIntervalMs?: number;
  /** Unexpected failures of a check (read problems are in the snapshot instead). */
  onError?: (err: unknown) => void;
}

interface Listing {
  files: string[];
  /** Directory-level problem: the listing is not to be trusted as complete. */
  error?: ManifestError;
  print: string;
}

async function list(path: string): Promise<Listing> {
  let files: string[];
  try {
    files = await listManifestFiles(path);
  } catch (e) {
    const error = new ManifestError(path, undefined, `cannot list manifests: ${(e as Error).message}`, {
      cause: e,
    });
    return { files: [], error, print: `error:${(e as NodeJS.ErrnoException).code ?? ''}` };
  }
  const parts = await Promise.all(
    files.map(async (f) => {
      const s = await stat(f).catch(() => undefined);
      return s ? `${f}:${s.size}:${s.mtimeMs}:${s.ino}` : `${f}:gone`;
    }),
  );
  return { files, print: parts.join('\n') };
}

/** Reads every file once; decodes only when the texts changed since `lastHash`. */
async function read(listing: Listing): Promise<{ hash: string; texts: Map<string, string | Error> }> {
  const h = createHash('sha256');
  if (listing.error) h.update(`\0listing:${listing.error.message}`);
  const texts = new Map<string, string | Error>();
  for (const f of listing.files) {
    const text = await readFile(f, 'utf8').catch((e: unknown) =>
      e instanceof Error ? e : new Error(String(e)),
    );
    texts.set(f, text);
    h.update(f + '\0');
    h.update(typeof text === 'string' ? text : `\0unreadable:${text.message}`);
    h.update('\0');
  }
  return { hash: h.digest('hex'), texts };
}

function decode(listing: Listing, texts: Map<string, string | Error>): SourceSnapshot {
  const items: SourceItem[] = [];
  const errors: ManifestError[] = [];
  const incomplete: string[] = [];
  const broken: string[] = [];
  if (listing.error) {
    errors.push(listing.error);
    incomplete.push(listing.error.message);
  }
  for (const [file, text] of texts) {
    if (typeof text !== 'string') {
      errors.push(new ManifestError(file, undefined, text.message, { cause: text }));
      incomplete.push(`${file}: ${text.message}`);
      continue;
    }
    const d = decodeManifestText(text, file);
    items.push(...d.docs);
    if (d.errors.length > 0) {
      errors.push(...d.errors);
      broken.push(file);
    }
  }
  return { items, errors, complete: incomplete.length === 0, incomplete, broken };
}

/** The directory source, with its counters (for `/debug` and tests). */
export interface DirectorySource extends ResourceSource {
  stats(): { checks: number; fileReads: number; snapshots: number };
}

export function createDirectorySource(path: string, options: DirectorySourceOptions = {}): DirectorySource {
  const debounceMs = options.debounceMs ?? 200;
  const pollMs = options.pollIntervalMs ?? 2000;
  let lastPrint: string | undefined;
  let lastHash: string | undefined;
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;
  let fsw: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let deliver: ((s: SourceSnapshot) => void) | undefined;
  const counters = { checks: 0, fileReads: 0, snapshots: 0 };

  const runCheck = async (): Promise<void> => {
    counters.checks++;
    const listing = await list(path);
    if (listing.print === lastPrint) return;
    const { hash, texts } = await read(listing);
    counters.fileReads += texts.size;
    lastPrint = listing.print;
    if (hash === lastHash) return;
    lastHash = hash;
    if (closed) return;
    counters.snapshots++;
    deliver?.(decode(listing, texts));
  };

  // Serializes checks; a request during a check runs one more check afterwards.
  const check = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await runCheck();
        } catch (e) {
          options.onError?.(e);
        }
      } while (again && !closed);
      running = undefined;
    })();
    return running;
  };

  const trigger = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void check(), debounceMs);
  };

  const startWatch = () => {
    try {
      fsw = watch(path, { recursive: true, persistent: false }, trigger);
      fsw.on('error', () => {
        fsw?.close();
        fsw = undefined; // polling carries on
      });
    } catch {
      fsw = undefined;
    }
  };

  return {
    name: `dir:${path}`,
    async start(onSnapshot) {
      deliver = onSnapshot;
      startWatch();
      if (pollMs > 0) {
        poll = setInterval(() => {
          if (!fsw) startWatch(); // the path may be back
          void check();
        }, pollMs);
        poll.unref();
      }
      await check();
    },
    check,
    stats: () => ({ ...counters }),
    async close() {
      closed = true;
      if (debounce) clearTimeout(debounce);
      if (poll) clearInterval(poll);
      fsw?.close();
      await running;
    },
  };
}
