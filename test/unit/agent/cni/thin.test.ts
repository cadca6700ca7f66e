/**
 * The thin plugin (agent/cni/vpc-agent-cni.sh) on its own: VERSION answered without the agent
 * and with the versions the agent's plugin code supports; an agent that does not answer is a
 * CNI error (code 11, try again later) on stdout and a non-zero exit.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_VERSIONS } from '../../../../agent/cni/versions.js';

const SCRIPT = path.resolve(import.meta.dirname, '../../../../agent/cni/vpc-agent-cni.sh');

function thin(command: string, config: unknown): Promise<{ code: number; out: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const child = execFile(
      'sh',
      [SCRIPT],
      { env: { PATH: process.env['PATH'], CNI_COMMAND: command, CNI_IFNAME: 'eth0' } },
      (err, stdout) => {
        resolve({ code: err ? Number(err.code) : 0, out: JSON.parse(stdout) as Record<string, unknown> });
      },
    );
    child.stdin?.end(JSON.stringify(config));
  });
}

describe('the thin CNI plugin', () => {
  it("answers VERSION itself, in the config's version, with the agent's supported versions", async () => {
    const v = await thin('VERSION', { cniVersion: '0.3.1' });
    expect(v).toEqual({ code: 0, out: { cniVersion: '0.3.1', supportedVersions: [...SUPPORTED_VERSIONS] } });
    expect((await thin('VERSION', { cniVersion: '9.9.9' })).out['cniVersion']).toBe(
      SUPPORTED_VERSIONS.at(-1),
    );
  });

  it('without an agent on server_socket: a CNI error, code 11, and a non-zero exit', async () => {
    const r = await thin('ADD', {
      cniVersion: '1.0.0',
      type: 'kube-ovn',
      provider: 'vswitch1.default.ovn',
      server_socket: '/nonexistent/vpc-agent-test.sock',
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatchObject({ cniVersion: '1.0.0', code: 11 });
    expect(String(r.out['msg'])).toContain('/nonexistent/vpc-agent-test.sock');
  });
});
