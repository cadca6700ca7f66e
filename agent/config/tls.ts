/**
 * TLS material of `ssl:` remotes (ovsdb(7) "Connection Methods"): which remotes need it and
 * whether the files given are there. Used by the flags (errors name the flag) and by the
 * agent's OVSDB clients (errors name the remote), so a config built in code is held to the
 * same rules as one built from the command line.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { parseRemotes, type TlsOptions } from '../../ovsdb/index.js';
import { AgentError } from '../errors.js';

export type TlsFile = 'privateKey' | 'certificate' | 'caCert';
export const TLS_FILES: readonly TlsFile[] = ['privateKey', 'certificate', 'caCert'];

/** The `ssl:` remotes of a remote list (throws `OVSDB_BAD_REMOTE` on a malformed one). */
export function sslRemotes(remotes: string | readonly string[]): string[] {
  return parseRemotes(remotes)
    .filter((r) => r.kind === 'ssl')
    .map((r) => r.text);
}

/** Why `file` cannot be used as a PEM file, or undefined when it can be read. */
export function unreadableFile(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${file} is not a regular file`;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? String(err)})`;
  }
}

/** The first unusable file of `tls` (PEM contents and buffers are taken as they are). */
export function tlsFileProblem(tls: TlsOptions): { key: TlsFile; problem: string } | undefined {
  for (const key of TLS_FILES) {
    const v = tls[key];
    if (typeof v !== 'string' || v.includes('-----BEGIN')) continue;
    const problem = unreadableFile(v);
    if (problem) return { key, problem };
  }
  return undefined;
}

/**
 * Refuses to create a client of `remotes` that could never connect: an `ssl:` remote without
 * TLS material, or TLS files that are not there.
 * @throws AgentError `ERR_CONFIG`
 */
export function assertTlsFor(database: string, remotes: string | readonly string[], tls?: TlsOptions): void {
  const ssl = sslRemotes(remotes);
  if (ssl.length === 0) return;
  if (!tls)
    throw new AgentError(
      'ERR_CONFIG',
      `${database}: ${ssl.join(',')} needs TLS: a private key, a certificate and a CA certificate`,
    );
  const bad = tlsFileProblem(tls);
  if (bad) throw new AgentError('ERR_CONFIG', `${database}: TLS ${bad.key}: ${bad.problem}`);
}
