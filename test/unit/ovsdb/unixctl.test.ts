import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findUnixctlSocket } from '../../../ovsdb/unixctl.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unixctl-find-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findUnixctlSocket', () => {
  it('finds <program>.<pid>.ctl from the pidfile in the run dir', async () => {
    await writeFile(path.join(dir, 'ovn-controller.pid'), '4242\n');
    await writeFile(path.join(dir, 'ovn-controller.4242.ctl'), '');
    expect(await findUnixctlSocket('ovn-controller', { runDir: dir })).toBe(
      path.join(dir, 'ovn-controller.4242.ctl'),
    );
  });

  it('honours an explicit pidfile', async () => {
    await writeFile(path.join(dir, 'custom.pid'), '77');
    await writeFile(path.join(dir, 'ovs-vswitchd.77.ctl'), '');
    expect(
      await findUnixctlSocket('ovs-vswitchd', { runDir: dir, pidfile: path.join(dir, 'custom.pid') }),
    ).toBe(path.join(dir, 'ovs-vswitchd.77.ctl'));
  });

  it('fails with OVSDB_UNIXCTL_NOT_FOUND without pidfile, pid or socket', async () => {
    await expect(findUnixctlSocket('ovn-controller', { runDir: dir })).rejects.toMatchObject({
      code: 'OVSDB_UNIXCTL_NOT_FOUND',
    });
    await writeFile(path.join(dir, 'ovn-controller.pid'), 'garbage');
    await expect(findUnixctlSocket('ovn-controller', { runDir: dir })).rejects.toThrow(/holds no pid/);
    await writeFile(path.join(dir, 'ovn-controller.pid'), '99');
    await expect(findUnixctlSocket('ovn-controller', { runDir: dir })).rejects.toThrow(/no control socket/);
  });
});
