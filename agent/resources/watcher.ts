/**
 * Watches a manifest file or directory and emits the full validated resource set whenever the
 * content changes.
 *
 * Reliability over cleverness: `fs.watch` events only *trigger* a check (debounced), and a
 * poll (default every 2 s) checks too, because `fs.watch` misses changes on some filesystems
 * (network mounts, ConfigMap symlink swaps) and recursive mode is not everywhere. A check
 * compares a fingerprint of the files (path, size, mtime, inode) and, only when that changed,
 * reads everything again; it emits only when the text of the manifests actually changed.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { listManifestFiles, loadAndValidate, type LoadAndValidateResult } from './loader.js';

export interface WatchOptions {
  /** Called with the full set after the first load and after each content change. */
  onChange: (result: LoadAndValidateResult) => void;
  /** Unexpected failures of a check (not validation errors, which are in the result). */
  onError?: (err: unknown) => void;
  /** Quiet time after an fs event before checking; default 200 ms (editors write in bursts). */
  debounceMs?: number;
  /** Poll interval; default 2000 ms; 0 disables polling. */
  pollIntervalMs?: number;
}

export interface ManifestWatcher {
  /** Resolves after the first load has been emitted. */
  ready: Promise<void>;
  /** Checks now (e.g. on SIGHUP); resolves when done. */
  check(): Promise<void>;
  close(): void;
}

async function fingerprint(path: string): Promise<string> {
  const files = await listManifestFiles(path).catch(() => []);
  const parts = await Promise.all(
    files.map(async (f) => {
      const s = await stat(f).catch(() => undefined);
      return s ? `${f}:${s.size}:${s.mtimeMs}:${s.ino}` : `${f}:gone`;
    }),
  );
  return parts.join('\n');
}

async function contentHash(path: string): Promise<string> {
  const files = await listManifestFiles(path).catch(() => []);
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f + '\0');
    h.update(await readFile(f).catch(() => Buffer.from('\0unreadable')));
    h.update('\0');
  }
  return h.digest('hex');
}

/** Starts watching `path`. */
export function watchManifests(path: string, options: WatchOptions): ManifestWatcher {
  const debounceMs = options.debounceMs ?? 200;
  const pollMs = options.pollIntervalMs ?? 2000;
  let lastPrint: string | undefined;
  let lastHash: string | undefined;
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;
  let fsw: FSWatcher | undefined;

  const runCheck = async (): Promise<void> => {
    const print = await fingerprint(path);
    if (print === lastPrint) return;
    const hash = await contentHash(path);
    lastPrint = print;
    if (hash === lastHash) return;
    lastHash = hash;
    const result = await loadAndValidate(path);
    if (!closed) options.onChange(result);
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

  try {
    fsw = watch(path, { recursive: true, persistent: false }, trigger);
    fsw.on('error', () => {
      fsw?.close();
      fsw = undefined; // polling carries on
    });
  } catch {
    fsw = undefined;
  }
  const poll = pollMs > 0 ? setInterval(() => void check(), pollMs) : undefined;
  poll?.unref();

  return {
    ready: check(),
    check,
    close() {
      closed = true;
      if (debounce) clearTimeout(debounce);
      if (poll) clearInterval(poll);
      fsw?.close();
    },
  };
}
