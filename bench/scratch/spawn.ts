import { execFile } from 'node:child_process';
const N = 100;
async function burst(cmd: string, args: string[]) {
  const t0 = performance.now();
  const ms = await Promise.all(Array.from({ length: N }, () => new Promise<number>((res) => { const t = performance.now(); execFile(cmd, args, () => res(performance.now() - t)); })));
  ms.sort((a, b) => a - b);
  console.log(cmd, args.join(' '), `all in ${(performance.now() - t0).toFixed(0)} ms, p50 ${ms[49]!.toFixed(0)} p99 ${ms[98]!.toFixed(0)}`);
}
async function main() {
  await burst('/bin/true', []);
  await burst('/bin/sh', ['-c', 'true']);
  await burst('/bin/sh', ['-c', 'curl --version >/dev/null']);
  await burst('/bin/sh', ['-c', 'curl -s --unix-socket /nonexistent http://x/ >/dev/null; true']);
}
main();
