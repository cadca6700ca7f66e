/**
 * Compiles the native thin CNI plugin (agent/cni/vpc-agent-cni.c) into one static executable
 * with the system's C compiler. Static: the file an init container copies onto a node runs there
 * whatever libc the node has.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
export const CNI_NATIVE_SOURCE = path.join(ROOT, 'agent/cni/vpc-agent-cni.c');
/** Where `npm run build:cni` puts it. */
export const CNI_NATIVE = path.join(ROOT, 'dist/cni/vpc-agent-cni-thin');

/** `cc -O2 -static` of the plugin into `out`; rejects with the compiler's output. */
export async function compileNativeCni(out = CNI_NATIVE, cc = process.env['CC'] ?? 'cc'): Promise<string> {
  await mkdir(path.dirname(out), { recursive: true });
  await promisify(execFile)(cc, [
    '-O2',
    '-static',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-s',
    '-o',
    out,
    CNI_NATIVE_SOURCE,
  ]);
  return out;
}
