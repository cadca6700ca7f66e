import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startOvsdbCluster,
  startOvsdbServer,
  type OvsdbClusterHandle,
  type OvsdbServerHandle,
} from '../../../agent/sandbox/ovsdb-server.js';
import { UnixctlError, unixctl, unixctlBatch } from '../../../ovsdb/unixctl.js';

const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

let dir: string;
let server: OvsdbServerHandle;
let cluster: OvsdbClusterHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unixctl-'));
  server = await startOvsdbServer({ dir, name: 'nb', schema: NB_SCHEMA });
  cluster = await startOvsdbCluster({ dir: path.join(dir, 'c'), name: 'c', schema: NB_SCHEMA, size: 1 });
});

afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('unixctl against ovsdb-server control sockets', () => {
  it('runs list-commands', async () => {
    const out = await unixctl(server.ctlPath, 'list-commands');
    expect(out).toMatch(/^The available commands are:/);
    expect(out).toContain('ovsdb-server/list-dbs');
    expect(out).toMatch(/^ {2}exit\b/m);
  });

  it('passes arguments and returns the text output', async () => {
    const dbs = await unixctl(`unix:${server.ctlPath}`, 'ovsdb-server/list-dbs');
    expect(dbs.split('\n')).toContain('OVN_Northbound');
    expect(await unixctl(server.ctlPath, 'vlog/set', ['ANY:file:info'])).toBe('');
  });

  it('reads cluster/status of a clustered database', async () => {
    const out = await unixctl(cluster.members[0]!.ctlPath, 'cluster/status', ['OVN_Northbound']);
    expect(out).toMatch(/^Role: leader$/m);
    expect(out).toMatch(/^Status: cluster member$/m);
  });

  it('reports daemon errors as UnixctlError', async () => {
    const notClustered = await unixctl(server.ctlPath, 'cluster/status', ['OVN_Northbound']).catch(
      (e: unknown) => e,
    );
    expect(notClustered).toBeInstanceOf(UnixctlError);
    expect(notClustered).toMatchObject({ code: 'OVSDB_UNIXCTL_ERROR', command: 'cluster/status' });
    const unknown = await unixctl(server.ctlPath, 'no/such-command').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'OVSDB_UNIXCTL_ERROR' });
    expect((unknown as Error).message).toContain('is not a valid command');
  });

  it('runs a batch over one connection: outcomes in order, a failed command beside good ones', async () => {
    const out = await unixctlBatch(server.ctlPath, [
      { command: 'ovsdb-server/list-dbs' },
      { command: 'no/such-command' },
      { command: 'cluster/status', args: ['OVN_Northbound'] },
      { command: 'list-commands' },
    ]);
    expect(out.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(out[0]).toMatchObject({ ok: true, output: expect.stringContaining('OVN_Northbound') });
    expect(out[1]).toMatchObject({
      ok: false,
      error: { code: 'OVSDB_UNIXCTL_ERROR', command: 'no/such-command' },
    });
    expect(out[3]).toMatchObject({ ok: true, output: expect.stringMatching(/^The available commands are:/) });
    await expect(
      unixctlBatch(path.join(dir, 'nothing.ctl'), [{ command: 'list-commands' }]),
    ).rejects.toMatchObject({
      code: 'OVSDB_CONNECT_FAILED',
    });
  });

  it('fails with OVSDB_CONNECT_FAILED when the socket does not exist', async () => {
    await expect(unixctl(path.join(dir, 'nothing.ctl'), 'list-commands')).rejects.toMatchObject({
      code: 'OVSDB_CONNECT_FAILED',
    });
  });
});
