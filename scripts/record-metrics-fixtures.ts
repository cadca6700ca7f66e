/**
 * Records the replies the metrics collectors parse, from a running sandbox node, into
 * test/fixtures/metrics/ (the unit tests read them):
 *   npx tsx agent/cli.ts sandbox up --state-dir /tmp/sbx
 *   (add two VMs and let them ping, so the counters are not zero)
 *   npx tsx scripts/record-metrics-fixtures.ts /tmp/sbx [OUT_DIR]
 * Writes the unixctl outputs as text, the OpenFlow exchanges as hex (one message a line) and
 * the Interface rows of the node's Open_vSwitch database as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import {
  encodeHello,
  encodeTableStatsRequest,
  negotiate,
  helloVersions,
  splitMessages,
} from '../agent/metrics/openflow.js';
import { INTERFACE_METRICS_MONITOR } from '../agent/metrics/interfaces.js';
import { openSandbox } from '../agent/sandbox/sandbox.js';
import { OvsdbClient, unixctl, vswitch } from '../ovsdb/index.js';

const OUT = path.resolve(process.argv[3] ?? 'test/fixtures/metrics');

/** The server's messages of one table-statistics exchange, offering `versions`. */
function recordOpenflow(socket: string, versions: number[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    const got: Buffer[] = [];
    let pending: Buffer = Buffer.alloc(0);
    sock.on('connect', () => sock.write(encodeHello(versions)));
    sock.on('data', (chunk: Buffer) => {
      const { messages, rest } = splitMessages(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const m of messages) {
        got.push(Buffer.from(m));
        if (m.readUInt8(1) === 0) {
          const v = negotiate(helloVersions(m), versions);
          if (v === undefined) return reject(new Error('no common version'));
          sock.write(encodeTableStatsRequest(v, 2));
        } else if (m.readUInt8(1) === 17 || m.readUInt8(1) === 19) {
          if ((m.readUInt16BE(10) & 1) === 0) {
            sock.destroy();
            resolve(got);
          }
        }
      }
    });
    sock.on('error', reject);
  });
}

async function main(): Promise<void> {
  const stateDir = process.argv[2];
  if (!stateDir) throw new Error('usage: record-metrics-fixtures.ts SANDBOX_STATE_DIR');
  const sb = await openSandbox(stateDir);
  const node = sb.node();
  await mkdir(OUT, { recursive: true });
  for (const cmd of ['dpctl/show', 'ofproto/list', 'upcall/show']) {
    const text = await unixctl(node.vswitchdCtl, cmd);
    await writeFile(path.join(OUT, `${cmd.replace('/', '-')}.txt`), text);
  }
  const mgmt = path.join(node.dir, 'br-int.mgmt');
  for (const [name, versions] of [
    ['of10', [0x01]],
    ['of15', [0x01, 0x04, 0x05, 0x06]],
  ] as const) {
    const msgs = await recordOpenflow(mgmt, [...versions]);
    await writeFile(
      path.join(OUT, `openflow-table-stats-${name}.hex`),
      msgs.map((m) => m.toString('hex')).join('\n') + '\n',
    );
  }
  const client = await OvsdbClient.connect({
    remotes: node.ovsRemote,
    database: 'Open_vSwitch',
    schema: vswitch.schema(),
    monitor: INTERFACE_METRICS_MONITOR,
  });
  await client.ready();
  const rows = [...client.cache.rows('Interface')].sort((a, b) =>
    String(a['name']).localeCompare(String(b['name'])),
  );
  await writeFile(path.join(OUT, 'interface-rows.json'), JSON.stringify(rows, null, 2) + '\n');
  const bridges = [...client.cache.rows('Bridge')];
  await writeFile(path.join(OUT, 'bridge-rows.json'), JSON.stringify(bridges, null, 2) + '\n');
  await client.close();
  process.stdout.write(`recorded into ${OUT}\n`);
}

await main();
