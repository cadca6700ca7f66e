/**
 * What a node's address claim costs the Northbound server. One port add is one transaction:
 * the claim, the LSP insert, the switch's `ports` mutate. Against a fresh NB holding N LSPs
 * already (`--lsps`, default 10,000 and 50,000) in switches of 10 ports (the `nb` topology), it
 * times sequential port adds (each into another switch) three ways: with the claim the agent
 * makes (a verify of the switch's `ports`), with a claim by `wait`s over every LSP and router
 * port carrying the address or MAC (a full scan each, what the agent does not do), and with no
 * claim; medians per transaction and ratios. `tsx bench/nb/claims.ts [--lsps 10000,50000] [--adds 200]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SCHEMAS } from '../../agent/sandbox/central.js';
import { startOvsdbServer } from '../../agent/sandbox/ovsdb-server.js';
import { insert, mutate, nb, OvsdbClient, select, verify, wait, type Operation } from '../../ovsdb/index.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const sizes = arg('lsps', '10000,50000').split(',').map(Number);
const adds = Number(arg('adds', '200'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const mac = (n: number) =>
  `0a:00:00:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;

function lspRow(n: number): Record<string, unknown> {
  return {
    name: `p${n}`,
    addresses: [`${mac(n)} ${ip(n)}`],
    external_ids: { 'vpc-agent.io/subnet': 's', 'vpc-agent.io/ip': ip(n), 'vpc-agent.io/mac': mac(n) },
  };
}

function claimWaits(n: number): Operation[] {
  const out: Operation[] = [];
  for (const table of ['Logical_Switch_Port', 'Logical_Router_Port']) {
    out.push(
      wait(
        table,
        [['external_ids', 'includes', { 'vpc-agent.io/subnet': 's', 'vpc-agent.io/ip': ip(n) }]],
        ['name'],
        '==',
        [],
        0,
      ),
      wait(table, [['external_ids', 'includes', { 'vpc-agent.io/mac': mac(n) }]], ['name'], '==', [], 0),
    );
  }
  return out;
}

for (const size of sizes) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vpcb-claims-'));
  const server = await startOvsdbServer({ dir, name: 'nb', schema: SCHEMAS.nb });
  const client = await OvsdbClient.connect({
    remotes: server.unixRemote,
    database: 'OVN_Northbound',
    schema: nb.schema(),
  });
  try {
    const switches = size / 10;
    for (let sw = 0; sw < switches; sw += 500) {
      const ops: Operation[] = [];
      for (let w = sw; w < Math.min(switches, sw + 500); w++) {
        const names: string[] = [];
        for (let k = 0; k < 10; k++) {
          const n = w * 10 + k;
          ops.push(insert('Logical_Switch_Port', lspRow(n), { uuidName: `r${n}` }));
          names.push(`r${n}`);
        }
        ops.push(insert('Logical_Switch', { name: `s${w}`, ports: names }, { uuidName: `s${w}` }));
      }
      await client.transact(ops);
    }
    const lsUuid = async (w: number) => {
      const [r] = (await client.transact([
        select('Logical_Switch', [['name', '==', `s${w}`]], ['_uuid', 'ports']),
      ])) as unknown as [{ _uuid: string; ports: string[] }[]];
      return r[0]!;
    };
    const time = async (claim: 'verify' | 'scan' | 'none', base: number) => {
      const ms: number[] = [];
      for (let k = 0; k < adds; k++) {
        const n = base + k;
        const ls = await lsUuid(k % switches);
        const claimOps =
          claim === 'verify'
            ? [verify('Logical_Switch', [['_uuid', '==', ls._uuid]], { ports: ls.ports })]
            : claim === 'scan'
              ? claimWaits(n)
              : [];
        const ops = [
          ...claimOps,
          insert('Logical_Switch_Port', lspRow(n), { uuidName: 'port' }),
          mutate('Logical_Switch', [['_uuid', '==', ls._uuid]], [['ports', 'insert', ['port']]]),
        ];
        const t0 = performance.now();
        await client.transact(ops);
        ms.push(performance.now() - t0);
      }
      return median(ms);
    };
    const none = await time('none', 1_000_000);
    const verified = await time('verify', 2_000_000);
    const scan = await time('scan', 3_000_000);
    const none2 = await time('none', 4_000_000);
    const base = (none + none2) / 2;
    console.log(
      `${size} LSPs: port add txn median ${verified.toFixed(2)} ms with the agent's claim (verify), ` +
        `${scan.toFixed(2)} ms with scanning waits, ${base.toFixed(2)} ms without a claim ` +
        `(ratios ${(verified / base).toFixed(2)} and ${(scan / base).toFixed(2)})`,
    );
  } finally {
    await client.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
