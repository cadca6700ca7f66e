/**
 * `npm run build:cni` (part of `npm run build`): bundles the CNI plugin (agent/cni/main.ts) into
 * one CommonJS file, dist/cni/vpc-agent-cni.cjs, that `node <file>` runs with nothing beside it.
 *
 * Why a bundler (esbuild, a devDependency only): a runtime starts the plugin once per NIC, and
 * Node resolving and loading a tree of ES modules from dist/ costs more than reading one small
 * file; one file is also what an init container copies into /opt/cni/bin. The plugin imports
 * only node built-ins, so the bundle holds just its own code.
 */
import { chmod, copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { CNI_NATIVE, compileNativeCni } from './cni-native.js';

const ROOT = path.resolve(import.meta.dirname, '..');
export const CNI_BUNDLE = path.join(ROOT, 'dist/cni/vpc-agent-cni.cjs');

await mkdir(path.dirname(CNI_BUNDLE), { recursive: true });
await build({
  entryPoints: [path.join(ROOT, 'agent/cni/main.ts')],
  outfile: CNI_BUNDLE,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
await chmod(CNI_BUNDLE, 0o755);
// The thin form (a shell script and curl, agent/cni/vpc-agent-cni.sh), copied as it is.
const thin = path.join(path.dirname(CNI_BUNDLE), 'vpc-agent-cni.sh');
await copyFile(path.join(ROOT, 'agent/cni/vpc-agent-cni.sh'), thin);
await chmod(thin, 0o755);
process.stdout.write(`${path.relative(ROOT, CNI_BUNDLE)}: ${(await stat(CNI_BUNDLE)).size} bytes\n`);
// The native thin form (agent/cni/vpc-agent-cni.c): what install-cni puts on nodes as kube-ovn and
// vpc-agent-cni when the build had a C compiler (the image's always has); else the shell form is.
try {
  await compileNativeCni();
  process.stdout.write(`${path.relative(ROOT, CNI_NATIVE)}: ${(await stat(CNI_NATIVE)).size} bytes\n`);
} catch (err) {
  process.stdout.write(
    `${path.relative(ROOT, CNI_NATIVE)}: not built (no C compiler? ${String(err).split('\n')[0]}); the shell form stands in\n`,
  );
}
