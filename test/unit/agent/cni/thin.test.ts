/**
 * The thin plugin in both forms — native (agent/cni/vpc-agent-cni.c, compiled here as the build
 * does) and shell (agent/cni/vpc-agent-cni.sh) — on its own: VERSION answered without the agent
 * and with the versions the agent's plugin code supports; an agent that does not answer is a CNI
 * error (code 11, try again later) on stdout and a non-zero exit; and what the native form sends
 * the agent, read off a socket this test listens on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_VERSIONS } from '../../../../agent/cni/versions.js';
import { compileNativeCni } from '../../../../scripts/cni-native.js';

const SCRIPT = path.resolve(import.meta.dirname, '../../../../agent/cni/vpc-agent-cni.sh');
let dir = '';
let native = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vpca-cni-thin-'));
  native = await compileNativeCni(path.join(dir, 'vpc-agent-cni-thin'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

type Outcome = { code: number; out: Record<string, unknown>; stderr: string };

function invoke(
  form: 'native' | 'sh',
  command: string,
  config: unknown,
  env: Record<string, string> = {},
): Promise<Outcome> {
  const [file, args] = form === 'native' ? [native, []] : ['sh', [SCRIPT]];
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { PATH: process.env['PATH'], CNI_COMMAND: command, CNI_IFNAME: 'eth0', ...env } },
      (err, stdout, stderr) => {
        resolve({
          code: err ? Number(err.code) : 0,
          out: JSON.parse(stdout) as Record<string, unknown>,
          stderr,
        });
      },
    );
    child.stdin?.end(typeof config === 'string' ? config : JSON.stringify(config));
  });
}

describe.each(['native', 'sh'] as const)('the thin CNI plugin (%s)', (form) => {
  const thin = (command: string, config: unknown) => invoke(form, command, config);

  it("answers VERSION itself, in the config's version, with the agent's supported versions", async () => {
    const v = await thin('VERSION', { cniVersion: '0.3.1' });
    expect(v).toMatchObject({
      code: 0,
      out: { cniVersion: '0.3.1', supportedVersions: [...SUPPORTED_VERSIONS] },
    });
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

describe('the native thin plugin and the agent', () => {
  it('sends the config as the body and CNI_* as headers; prints 200 and 422 answers as the agent gave them', async () => {
    const sock = path.join(dir, 'agent.sock');
    const seen: { headers: Record<string, unknown>; body: string; url?: string; method?: string }[] = [];
    let answer = { status: 200, body: '{"cniVersion":"1.0.0","ips":[]}' };
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body, url: req.url, method: req.method });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body + '\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      // Key order and spacing as a NAD may have them: the socket is still found.
      const config = `{ "cniVersion" : "1.0.0", "type":"kube-ovn", "server_socket" : "${sock}" }`;
      const env = {
        CNI_CONTAINERID: 'ctr-1',
        CNI_NETNS: '/var/run/netns/vm1',
        CNI_ARGS: 'K8S_POD_NAME=vm1\r\nx-injected: 1;K8S_POD_NAMESPACE=ns',
        CNI_PATH: '/opt/cni/bin',
      };
      const ok = await invoke('native', 'ADD', config, env);
      expect(ok).toMatchObject({ code: 0, out: { cniVersion: '1.0.0', ips: [] } });
      expect(seen[0]).toMatchObject({
        method: 'POST',
        url: '/v1/cni',
        body: config,
        headers: {
          'x-cni-command': 'ADD',
          'x-cni-containerid': 'ctr-1',
          'x-cni-netns': '/var/run/netns/vm1',
          'x-cni-ifname': 'eth0',
          // CR/LF dropped: no header of the caller's making.
          'x-cni-args': 'K8S_POD_NAME=vm1x-injected: 1;K8S_POD_NAMESPACE=ns',
          'x-cni-path': '/opt/cni/bin',
        },
      });
      expect(seen[0]!.headers['x-injected']).toBeUndefined();

      answer = { status: 422, body: '{"cniVersion":"1.0.0","code":7,"msg":"network: no NAD"}' };
      const bad = await invoke('native', 'ADD', config, env);
      expect(bad).toMatchObject({ code: 1, out: { code: 7, msg: 'network: no NAD' } });
      expect(bad.stderr).toContain('network: no NAD');

      answer = { status: 500, body: 'oops' };
      const broken = await invoke('native', 'DEL', config, env);
      expect(broken).toMatchObject({ code: 1, out: { code: 11 } });
      expect(String(broken.out['msg'])).toContain('HTTP 500');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
