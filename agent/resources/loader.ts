/**
 * Reads manifests: one file or a directory tree of multi-document YAML (`---` separated; JSON
 * is YAML too). Each document becomes a resource or errors naming the file and the 0-based
 * document index; a Kubernetes `List` (`kind: List`, `items: [...]`) is expanded in place.
 * Hidden entries (leading `.`, e.g. the `..data` of a mounted ConfigMap, editor swap files)
 * are skipped; symlinks are followed.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ManifestError, ValidationError } from '../errors.js';
import { parseResource } from './parse.js';
import type { Resource } from './types.js';
import { validateResources, type ValidationResult } from './validate.js';

export type LoadError = ValidationError | ManifestError;

export interface LoadedManifests {
  /** Resources that passed the per-resource checks, in file then document order. */
  resources: Resource[];
  errors: LoadError[];
  /** Files read, sorted. */
  files: string[];
}

export interface LoadAndValidateResult {
  valid: ValidationResult['valid'];
  errors: LoadError[];
  files: string[];
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/** Manifest files under `path` (or `[path]` for a file), sorted for a stable order. */
export async function listManifestFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 32) return; // symlink loops
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) await walk(full, depth + 1);
      else if (isFile && MANIFEST_EXT.test(e.name)) out.push(full);
    }
  };
  await walk(path, 0);
  return out.sort();
}

/** One document of a manifest file, decoded from YAML but not parsed into a resource yet. */
export interface ManifestDocument {
  doc: unknown;
  source: { file: string; document: number };
}

/**
 * Decodes the text of one manifest file into its documents (a `List` expanded in place) and
 * the YAML errors of the documents that could not be decoded.
 */
export function decodeManifestText(
  text: string,
  file: string,
): { docs: ManifestDocument[]; errors: ManifestError[] } {
  const docs: ManifestDocument[] = [];
  const errors: ManifestError[] = [];
  const parsed = parseAllDocuments(text);
  const all = Array.isArray(parsed) ? parsed : [];
  all.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line;
        const firstLine = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        errors.push(
          new ManifestError(
            file,
            index,
            `YAML: ${firstLine}`,
            line !== undefined ? { line, cause: e } : { cause: e },
          ),
        );
      }
      return;
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      errors.push(new ManifestError(file, index, `YAML: ${(e as Error).message}`, { cause: e }));
      return;
    }
    if (data === null || data === undefined) return; // empty document (e.g. a trailing ---)
    const items =
      typeof data === 'object' && !Array.isArray(data) && (data as Record<string, unknown>)['kind'] === 'List'
        ? (((data as Record<string, unknown>)['items'] as unknown[] | undefined) ?? [])
        : [data];
    for (const item of items) docs.push({ doc: item, source: { file, document: index } });
  });
  return { docs, errors };
}

/** Parses the text of one manifest file. */
export function parseManifestText(
  text: string,
  file: string,
): { resources: Resource[]; errors: LoadError[] } {
  const { docs, errors } = decodeManifestText(text, file);
  const out: LoadError[] = [...errors];
  const resources: Resource[] = [];
  for (const d of docs) {
    const r = parseResource(d.doc, d.source);
    out.push(...r.errors);
    if (r.resource) resources.push(r.resource);
  }
  return { resources, errors: out };
}

/** Reads and parses every manifest under `path` (file or directory). Unreadable files are errors. */
export async function loadManifests(path: string): Promise<LoadedManifests> {
  let files: string[];
  try {
    files = await listManifestFiles(path);
  } catch (e) {
    return {
      resources: [],
      errors: [new ManifestError(path, undefined, (e as Error).message, { cause: e })],
      files: [],
    };
  }
  const resources: Resource[] = [];
  const errors: LoadError[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      errors.push(new ManifestError(file, undefined, (e as Error).message, { cause: e }));
      continue;
    }
    const r = parseManifestText(text, file);
    resources.push(...r.resources);
    errors.push(...r.errors);
  }
  return { resources, errors, files };
}

/** `loadManifests` then `validateResources`: the valid set and every error, load errors first. */
export async function loadAndValidate(path: string): Promise<LoadAndValidateResult> {
  const loaded = await loadManifests(path);
  const { valid, errors } = validateResources(loaded.resources);
  return { valid, errors: [...loaded.errors, ...errors], files: loaded.files };
}
