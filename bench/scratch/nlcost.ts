import { execSync } from 'node:child_process';
import { createNetns, deleteNetns, rtnl, createVeth, setLinkUp, replaceAddress, replaceRoute, disableIpv6, deleteLink, disableTxChecksumOffload } from '../../netlink/index.js';
const N = Number(process.argv[2] ?? 100);
const v6 = process.argv[3] !== 'keep6';
const parallel = process.argv[4] === 'par';
const node = 'vpca-nlc-node';
const t: Record<string, number> = {};
const time = async <T>(k: string, f: () => Promise<T> | T) => { const s = performance.now(); const r = await f(); t[k] = (t[k] ?? 0) + performance.now() - s; return r; };
async function main() {
  await createNetns(node);
  const ns = Array.from({ length: N }, (_, i) => `vpca-nlc-${i}`);
  for (const n of ns) await createNetns(n);
  const hostNl = rtnl(node);
  const t0 = performance.now();
  const one = async (i: number) => {
    const vm = rtnl(ns[i]!);
    await time('create', () => createVeth(hostNl, { name: `h${i}`, mtu: 1400, peer: { name: 'eth0', netns: ns[i]!, mac: `0a:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` } }));
    if (v6) await time('v6off', () => { disableIpv6(node, `h${i}`); disableIpv6(ns[i]!, 'eth0'); });
    if (process.argv[5] === 'eth') await time('ethtool', () => disableTxChecksumOffload({ netns: ns[i]!, link: 'eth0' }));
    await time('addr', () => replaceAddress(vm, 'eth0', `10.0.${i >> 8}.${(i & 255) + 1}/16`));
    await time('up', () => Promise.all([setLinkUp(vm, 'eth0'), setLinkUp(hostNl, `h${i}`)]));
    await time('route', () => replaceRoute(vm, { dst: 'default', via: '10.0.255.254', dev: 'eth0' }));
  };
  if (parallel) await Promise.all(ns.map((_, i) => one(i))); else for (let i = 0; i < N; i++) await one(i);
  console.log(`v6off=${v6} par=${parallel}: ${N} pairs in ${(performance.now() - t0).toFixed(0)} ms`, Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])));
  for (let i = 0; i < N; i++) await deleteLink(hostNl, `h${i}`);
  for (const n of ns) await deleteNetns(n);
  await deleteNetns(node);
}
main();
