/** `vpc-agent run` flags → agent config: values parsed, combinations checked, errors name the flag. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagError, parseRunFlags, type RunFlags } from '../../../../agent/config/flags.js';

/** The flags commander hands over for `run --manifests m --nb unix:/nb.sock` (defaults applied). */
function flags(extra: Partial<RunFlags> = {}): RunFlags {
  return {
    manifests: '/etc/vpc-agent/manifests',
    nb: 'unix:/run/ovn/ovnnb_db.sock',
    api: true,
    portReadyTimeout: '30s',
    startTimeout: '1m',
    owner: 'vpc-agent',
    lock: 'vpc_agent_nb_writer',
    resync: '1m',
    ...extra,
  };
}

/** The FlagError thrown for `extra`. */
function refused(extra: Partial<RunFlags>): FlagError {
  try {
    parseRunFlags(flags(extra));
  } catch (err) {
    expect(err).toBeInstanceOf(FlagError);
    return err as FlagError;
  }
  throw new Error(`accepted ${JSON.stringify(extra)}`);
}

let dir: string;
let pem: (name: string) => string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vpca-flags-'));
  pem = (name) => path.join(dir, name);
  for (const f of ['key.pem', 'cert.pem', 'ca.pem']) await writeFile(pem(f), '-----BEGIN X-----\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseRunFlags', () => {
  it('turns durations into milliseconds and keeps the rest', () => {
    const { config, log } = parseRunFlags(
      flags({ resync: '60s', portReadyTimeout: '500ms', startTimeout: '2000', gatewayChassis: 'n1, n2,' }),
    );
    expect(config).toMatchObject({
      manifests: '/etc/vpc-agent/manifests',
      nb: 'unix:/run/ovn/ovnnb_db.sock',
      resyncMs: 60_000,
      portReadyTimeoutMs: 500,
      startTimeoutMs: 2_000,
      gatewayChassis: ['n1', 'n2'],
      owner: 'vpc-agent',
      lockName: 'vpc_agent_nb_writer',
      apiSocket: undefined,
    });
    expect(config.tls).toBeUndefined();
    expect(log).toEqual({ level: undefined, pretty: false });
    expect(parseRunFlags(flags({ resync: '0' })).config.resyncMs).toBe(0);
  });

  it.each([
    [{ resync: '60x' }, '--resync', /"60x" is not a duration/],
    [{ resync: 'NaN' }, '--resync', /not a duration/],
    [{ portReadyTimeout: 'soon' }, '--port-ready-timeout', /not a duration/],
    [{ portReadyTimeout: '0' }, '--port-ready-timeout', /at least 1 ms/],
    [{ startTimeout: '-5s' }, '--start-timeout', /not a duration/],
    [{ listen: '127.0.0.1' }, '--listen', /has no port/],
    [{ listen: '127.0.0.1:70000' }, '--listen', /port "70000"/],
    [{ listen: 'not a host:80' }, '--listen', /not an IP address or host name/],
    [{ nb: 'tcp:10.0.0.1:6641:7' }, '--nb', /IPv6 addresses must be in brackets/],
    [{ nb: 'http://nb' }, '--nb', /expected unix:, tcp: or ssl:/],
    [{ nb: ',' }, '--nb', /no remote given/],
    [{ lock: 'vpc-agent' }, '--lock', /not an OVSDB id/],
    [{ owner: ' ' }, '--owner', /is empty/],
    [{ node: '' }, '--node', /is empty/],
    [{ logLevel: 'loud' }, '--log-level', /unknown log level "loud"/],
  ] as [Partial<RunFlags>, string, RegExp][])('refuses %j, naming %s', (extra, flag, why) => {
    const err = refused(extra);
    expect(err.flag).toBe(flag);
    expect(err.code).toBe('ERR_FLAG');
    expect(err.message.startsWith(`${flag}: `)).toBe(true);
    expect(err.message).toMatch(why);
  });

  it('collects --node-label key=value (values may be empty or hold =), refusing other shapes', () => {
    const { config } = parseRunFlags(
      flags({ nodeLabel: ['zone=a', 'node-role.kubernetes.io/gateway=', 'x/y=a=b'] }),
    );
    expect(config.nodeLabels).toEqual({ zone: 'a', 'node-role.kubernetes.io/gateway': '', 'x/y': 'a=b' });
    expect(parseRunFlags(flags()).config.nodeLabels).toBeUndefined();
    for (const bad of ['zone', '=a', ' z=a'])
      expect(refused({ nodeLabel: [bad] }).message).toBe(`--node-label: "${bad}" is not key=value`);
  });

  it('collects the OVN health flags: control socket lists, northd, run directory and interval', () => {
    const { config } = parseRunFlags(
      flags({
        nbCtl: '/run/ovn/ovnnb_db.ctl, rel/nb2.ctl,',
        sbCtl: '/run/ovn/ovnsb_db.ctl',
        northdCtl: '/run/ovn/ovn-northd.7.ctl',
        ovnRundir: '/run/ovn',
        ovnMetricsInterval: '2s',
      }),
    );
    expect(config.ovnHealth).toEqual({
      nbCtl: ['/run/ovn/ovnnb_db.ctl', path.resolve('rel/nb2.ctl')],
      sbCtl: ['/run/ovn/ovnsb_db.ctl'],
      northdCtl: '/run/ovn/ovn-northd.7.ctl',
      runDir: '/run/ovn',
      intervalMs: 2000,
    });
    expect(parseRunFlags(flags()).config.ovnHealth).toBeUndefined();
    expect(refused({ ovnMetricsInterval: 'often' }).message).toMatch(/^--ovn-metrics-interval: /);
  });

  it('refuses flags that mean nothing without the ones they depend on', () => {
    expect(refused({ apiSocket: '/run/a.sock' }).message).toMatch(/^--api-socket: needs --ovs and --sb/);
    expect(refused({ apiSocket: '/run/a.sock', ovs: 'unix:/ovs.sock' }).flag).toBe('--api-socket');
    expect(refused({ apiSocket: '/run/a.sock', ovs: 'unix:/o', sb: 'unix:/s', api: false }).message).toMatch(
      /^--api-socket: cannot be combined with --no-api/,
    );
    expect(refused({ sb: 'unix:/sb.sock' }).message).toMatch(/^--sb: needs --ovs/);
    expect(refused({ netns: 'node1' }).message).toMatch(/^--netns: needs --ovs/);
    expect(refused({ netns: 'a/b', ovs: 'unix:/o' }).flag).toBe('--netns');
    expect(refused({ ovs: 'unix:/o', sb: 'unix:/s', apiSocket: `/${'x'.repeat(120)}` }).message).toMatch(
      /longer than the 107 bytes/,
    );
  });

  it('serves the API (default socket) only with --ovs and --sb, and not with --no-api', () => {
    const node = { ovs: 'unix:/o.sock', sb: 'unix:/s.sock' };
    expect(parseRunFlags(flags(node)).config.apiSocket).toBe('/run/vpc-agent/agent.sock');
    expect(parseRunFlags(flags({ ...node, apiSocket: 'rel/a.sock' })).config.apiSocket).toBe(
      path.resolve('rel/a.sock'),
    );
    expect(parseRunFlags(flags({ ...node, api: false })).config.apiSocket).toBeUndefined();
    expect(parseRunFlags(flags({ ovs: 'unix:/o.sock' })).config.apiSocket).toBeUndefined();
  });

  it('serves the CNI socket beside the API: Kube-OVN daemon socket by default, --no-cni-socket turns it off', () => {
    const node = { ovs: 'unix:/o.sock', sb: 'unix:/s.sock' };
    expect(parseRunFlags(flags(node)).config.cniSocket).toBe('/run/openvswitch/kube-ovn-daemon.sock');
    expect(parseRunFlags(flags({ ...node, cniSocket: 'rel/c.sock' })).config.cniSocket).toBe(
      path.resolve('rel/c.sock'),
    );
    expect(parseRunFlags(flags({ ...node, cniSocket: false })).config.cniSocket).toBeUndefined();
    expect(parseRunFlags(flags({ ...node, api: false })).config.cniSocket).toBeUndefined();
    expect(parseRunFlags(flags({ ovs: 'unix:/o.sock' })).config.cniSocket).toBeUndefined();
    expect(refused({ cniSocket: '/run/c.sock' }).message).toMatch(/^--cni-socket: needs --ovs and --sb/);
    expect(refused({ ...node, api: false, cniSocket: '/run/c.sock' }).message).toMatch(
      /^--cni-socket: cannot be combined with --no-api/,
    );
    expect(refused({ ...node, apiSocket: '/run/a.sock', cniSocket: '/run/a.sock' }).message).toMatch(
      /same path as --api-socket/,
    );
    expect(refused({ ...node, cniSocket: `/${'x'.repeat(120)}` }).flag).toBe('--cni-socket');
  });

  it('refuses ssl: remotes without the TLS flags, and partial or missing TLS files', () => {
    expect(refused({ nb: 'unix:/a,ssl:10.0.0.1:6641' }).message).toBe(
      '--nb: ssl:10.0.0.1:6641 needs --private-key, --certificate and --ca-cert',
    );
    expect(refused({ ovs: 'unix:/o', sb: 'ssl:[::1]:6642' }).message).toMatch(
      /^--sb: ssl:\[::1\]:6642 needs/,
    );
    expect(refused({ ovs: 'ssl:127.0.0.1:6640' }).flag).toBe('--ovs');
    expect(refused({ privateKey: pem('key.pem') }).message).toBe(
      '--private-key: needs --certificate and --ca-cert too',
    );
    expect(refused({ caCert: pem('ca.pem'), certificate: pem('cert.pem') }).message).toBe(
      '--certificate: needs --private-key too',
    );
    const missing = pem('nope.pem');
    expect(refused({ privateKey: pem('key.pem'), certificate: missing, caCert: pem('ca.pem') }).message).toBe(
      `--certificate: ${missing} does not exist`,
    );
    expect(refused({ privateKey: dir, certificate: pem('cert.pem'), caCert: pem('ca.pem') }).message).toBe(
      `--private-key: ${dir} is not a regular file`,
    );
  });

  it('passes the TLS files to the config when they are there', () => {
    const tls = { privateKey: pem('key.pem'), certificate: pem('cert.pem'), caCert: pem('ca.pem') };
    const { config } = parseRunFlags(flags({ nb: 'ssl:127.0.0.1:6641', ...tls }));
    expect(config.tls).toEqual(tls);
    expect(config.nb).toBe('ssl:127.0.0.1:6641');
  });

  it('selects the Kubernetes source: --kubeconfig implies it; --source kubernetes alone loads the default config', () => {
    const kc = pem('key.pem');
    const byFile = parseRunFlags(flags({ manifests: undefined, kubeconfig: kc, kubeContext: 'prod' }));
    expect(byFile.kubernetes).toEqual({ kubeconfigPath: kc, context: 'prod' });
    expect(byFile.config.manifests).toBe('');
    const byDefault = parseRunFlags(flags({ manifests: undefined, source: 'kubernetes' }));
    expect(byDefault.kubernetes).toEqual({});
    expect(parseRunFlags(flags()).kubernetes).toBeUndefined();
  });

  it('refuses mixed or missing source flags, naming the flag', () => {
    expect(refused({ source: 'etcd' }).message).toBe(
      '--source: "etcd" is not a source (use dir or kubernetes)',
    );
    expect(refused({ source: 'kubernetes' }).message).toBe(
      '--manifests: cannot be combined with --source kubernetes',
    );
    expect(refused({ source: 'dir', kubeconfig: pem('key.pem') }).message).toBe(
      '--kubeconfig: needs --source kubernetes',
    );
    expect(refused({ kubeContext: 'x' }).message).toBe('--kube-context: needs --source kubernetes');
    expect(refused({ manifests: undefined }).message).toBe(
      '--manifests: is required (or --source kubernetes)',
    );
    const missing = pem('no-kubeconfig');
    expect(refused({ manifests: undefined, kubeconfig: missing }).message).toBe(
      `--kubeconfig: ${missing} does not exist`,
    );
  });
});
