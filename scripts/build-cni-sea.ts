/**
 * `npm run build:cni-sea`: the CNI plugin as one self-contained executable,
 * dist/cni/vpc-agent-cni, for hosts without Node (a Harvester node has none): a Node single
 * executable application (SEA) — a copy of the running `node` binary with the bundle
 * (dist/cni/vpc-agent-cni.cjs, `npm run build:cni` first) injected as its main script by
 * `postject` (a devDependency; Node's documented way to inject the blob).
 *
 * The V8 code cache is stored with it (`useCodeCache`): the script is not compiled at each start.
 * The executable is as large as `node` itself (~100 MB); it is built on request, not by
 * `npm run build`.
 */
import { copyFile, chmod, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../agent/sandbox/process.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.join(ROOT, 'dist/cni/vpc-agent-cni.cjs');
const OUT = path.join(ROOT, 'dist/cni/vpc-agent-cni');
const CONFIG = path.join(ROOT, 'dist/cni/sea-config.json');
const BLOB = path.join(ROOT, 'dist/cni/sea-prep.blob');
/** The fuse string Node's SEA support looks for (Node's single-executable-applications docs). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

await stat(BUNDLE).catch(() => {
  throw new Error(`${BUNDLE} missing: run npm run build:cni first`);
});
await writeFile(
  CONFIG,
  JSON.stringify({ main: BUNDLE, output: BLOB, disableExperimentalSEAWarning: true, useCodeCache: true }),
);
await run(process.execPath, ['--experimental-sea-config', CONFIG], { timeoutMs: 120_000 });
await rm(OUT, { force: true });
await copyFile(process.execPath, OUT);
await run(
  process.execPath,
  [path.join(ROOT, 'node_modules/postject/dist/cli.js'), OUT, 'NODE_SEA_BLOB', BLOB, '--sentinel-fuse', FUSE],
  { timeoutMs: 300_000 },
);
await chmod(OUT, 0o755);
await rm(BLOB, { force: true });
await rm(CONFIG, { force: true });
process.stdout.write(`${path.relative(ROOT, OUT)}: ${(await stat(OUT)).size} bytes\n`);
