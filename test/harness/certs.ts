/**
 * Throwaway PKI for `ssl:` tests, made with `openssl` in a test directory: CAs, and keys with
 * certificates signed by one of them (as `ovs-pki` would make for ovsdb-server and its clients).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  key: string;
  pem: string;
}

/**
 * Creates `<dir>/<name>.key` and `<dir>/<name>.pem` (CN=`name`, valid 2 days): self-signed when
 * `ca` is undefined (a CA), else signed by the CA `<dir>/<ca>.{key,pem}` made before.
 */
export async function makeCert(dir: string, name: string, ca?: string): Promise<CertFiles> {
  const key = path.join(dir, `${name}.key`);
  const pem = path.join(dir, `${name}.pem`);
  await run('openssl', ['genrsa', '-out', key, '2048']);
  if (!ca) {
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-out',
      pem,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]);
    return { key, pem };
  }
  const csr = path.join(dir, `${name}.csr`);
  await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-out',
    pem,
    '-days',
    '2',
    '-CA',
    path.join(dir, `${ca}.pem`),
    '-CAkey',
    path.join(dir, `${ca}.key`),
    '-CAcreateserial',
  ]);
  return { key, pem };
}

/** ovsdb-server's TLS arguments for a server certificate `name` signed by CA `ca`. */
export function serverTlsArgs(dir: string, name: string, ca: string): string[] {
  return [
    `--private-key=${path.join(dir, `${name}.key`)}`,
    `--certificate=${path.join(dir, `${name}.pem`)}`,
    `--ca-cert=${path.join(dir, `${ca}.pem`)}`,
  ];
}

/** Client TLS options (OvsdbClient `tls`, the agent's `-p/-c/-C`) for `who` trusting CA `ca`. */
export function clientTls(dir: string, who: string, ca: string) {
  return {
    privateKey: path.join(dir, `${who}.key`),
    certificate: path.join(dir, `${who}.pem`),
    caCert: path.join(dir, `${ca}.pem`),
  };
}

/**
 * The PKI every `ssl:` test uses: CA `ca` signing `server` and `client`; CA `otherca` signing
 * `stranger` (a certificate the server must refuse).
 */
export async function makeTestPki(dir: string, client: string): Promise<void> {
  await makeCert(dir, 'ca');
  await makeCert(dir, 'otherca');
  await makeCert(dir, 'server', 'ca');
  await makeCert(dir, client, 'ca');
  await makeCert(dir, 'stranger', 'otherca');
}
