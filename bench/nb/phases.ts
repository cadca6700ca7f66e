/**
 * Where the `nb` benchmark's "load+IPAM" phase goes, without any server: writes the topology
 * (`--vpcs N`, default 500 = 5,000 subnets / 50,000 ports), then times loading + validation,
 * IPAM subnets, holding every port's address (as a restart does from Northbound) and the
 * idempotent allocations, each separately. `tsx bench/nb/phases.ts [--vpcs N]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ipam } from '../../agent/ipam/index.js';
import { loadAndValidate } from '../../agent/resources/loader.js';
import { FULL_TOPOLOGY, topologyPorts, writeTopology } from './topology.js';

const i = process.argv.indexOf('--vpcs');
const vpcs = i >= 0 ? Number(process.argv[i + 1]) : 500;
const size = { ...FULL_TOPOLOGY, vpcs };
const dir = await mkdtemp(path.join(os.tmpdir(), 'vpcb-phases-'));
try {
  await writeTopology(dir, size);
  const ports = topologyPorts(size);
  const t = (label: string, t0: number) =>
    console.log(`${label.padEnd(24)} ${(performance.now() - t0).toFixed(0)} ms`);
  let t0 = performance.now();
  const loaded = await loadAndValidate(dir);
  t('load + validate', t0);
  const ipam = new Ipam();
  t0 = performance.now();
  ipam.setSubnets([...loaded.valid.subnets.values()]);
  t('IPAM subnets', t0);
  t0 = performance.now();
  const first = ports.map((p) => ipam.allocate(p.subnet, p.name));
  t('allocate (fresh)', t0);
  const fresh = new Ipam();
  fresh.setSubnets([...loaded.valid.subnets.values()]);
  t0 = performance.now();
  fresh.rebuild(first.map((a) => ({ subnet: a.subnet, owner: a.owner, ip: a.ip, mac: a.mac })));
  t('rebuild (restart)', t0);
  t0 = performance.now();
  for (const p of ports) fresh.allocate(p.subnet, p.name);
  t('allocate (idempotent)', t0);
  console.log(`${loaded.valid.subnets.size} subnets, ${ports.length} ports`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
