/**
 * The NAT data path with the real kernel, real nft and real conntrack, only inside namespaces
 * this file creates: a "VM" (10.0.1.5 and 10.0.1.6 on eth0), a gateway namespace built by hand
 * (net1 towards the VM, net2 on 203.0.113.0/24 with the EIPs) and an "external host"
 * (203.0.113.1, with no route back to the VPC: only translated traffic can return).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conntrackVictims } from '../../../agent/nat/conntrack-policy.js';
import { buildRuleset, type NatRules } from '../../../agent/nat/ruleset.js';
import { waitUntil } from '../../../agent/sandbox/process.js';
import {
  applyNftScript,
  closeNftContext,
  createNetns,
  deleteConntrackEntries,
  listConntrack,
  listNftCounters,
  listNftTable,
  listNftTableText,
  NftError,
  nftVia,
  replaceAddress,
  replaceRoute,
  rtnl,
  setLinkUp,
  writeSysctl,
} from '../../../netlink/index.js';
import {
  EXT_HOST,
  httpGet,
  pingFrom,
  plugVeth,
  startEchoServer,
  startHttpServer,
  startSession,
  stopAll,
} from '../../harness/nat.js';
import { useTestNamespaces } from '../../harness/netns.js';

const { prefix } = useTestNamespaces('ndp');
const VM = `${prefix}vm`;
const GW = `${prefix}gw`;
const EXT = `${prefix}ext`;
const EIP = '203.0.113.10';
const FIP_EIP = '203.0.113.20';

const rules = (over: Partial<NatRules> = {}): NatRules => ({
  lanIf: 'net1',
  wanIf: 'net2',
  lanIp: '10.0.1.254',
  snat: [{ name: 'lan', eip: EIP, cidr: '10.0.1.0/24' }],
  dnat: [
    { name: 'web', eip: EIP, protocol: 'tcp', externalPort: 8888, internalIp: '10.0.1.5', internalPort: 80 },
    { name: 'echo', eip: EIP, protocol: 'tcp', externalPort: 7777, internalIp: '10.0.1.5', internalPort: 7 },
  ],
  fip: [{ name: 'vm2', eip: FIP_EIP, internalIp: '10.0.1.6' }],
  ...over,
});

/** Applies `next` the way the reconciler does: update form, then conntrack clean-up. */
async function install(before: NatRules | undefined, next: NatRules): Promise<string[]> {
  const counters = await listNftCounters(GW, 'ip', 'vpc-nat-gw');
  const table = await listNftTable(GW, 'ip', 'vpc-nat-gw');
  await applyNftScript(
    GW,
    buildRuleset(next, table ? { existingCounters: new Set(counters.keys()) } : {}).script,
  );
  const change = conntrackVictims(
    await listConntrack(GW),
    before,
    next,
    new Set(['10.0.1.254', EIP, FIP_EIP]),
  );
  await deleteConntrackEntries(GW, change.victims);
  return change.reasons;
}

beforeAll(async () => {
  await createNetns(VM);
  await createNetns(GW);
  await createNetns(EXT);
  await plugVeth({
    ns: VM,
    cidrs: ['10.0.1.5/24', '10.0.1.6/24'],
    peerNs: GW,
    peerName: 'net1',
    defaultVia: '10.0.1.254',
  });
  await plugVeth({ ns: EXT, cidrs: [`${EXT_HOST}/24`], peerNs: GW, peerName: 'net2' });
  const gw = rtnl(GW);
  await replaceAddress(gw, 'net1', '10.0.1.254/24');
  for (const a of ['203.0.113.254/24', `${EIP}/24`, `${FIP_EIP}/24`]) await replaceAddress(gw, 'net2', a);
  await setLinkUp(gw, 'net1');
  await setLinkUp(gw, 'net2');
  await replaceRoute(gw, { dst: 'default', via: EXT_HOST });
  await writeSysctl(GW, 'net.ipv4.ip_forward', 1);
  await startHttpServer(VM, 80, 'vm');
  await startEchoServer(VM, 7);
  await startHttpServer(EXT, 80, 'ext');
  await startEchoServer(EXT, 7);
});

afterAll(async () => {
  await stopAll();
});

describe('NAT gateway data path (real nft, real conntrack)', () => {
  it('without rules nothing crosses: the external host has no route back', async () => {
    expect(await httpGet(VM, `http://${EXT_HOST}/`, { timeoutS: 1 })).toBeUndefined();
  });

  it('installs the table in one transaction and creates a named counter per rule', async () => {
    await install(undefined, rules());
    const table = await listNftTable(GW, 'ip', 'vpc-nat-gw');
    expect(table?.rules.map((r) => r.counter)).toEqual([
      'dnat-echo',
      'dnat-web',
      'fip-vm2-in',
      'hairpin',
      'fip-vm2-out',
      'snat-lan',
    ]);
    expect([...table!.counters.keys()].sort()).toEqual([
      'dnat-echo',
      'dnat-web',
      'fip-vm2-in',
      'fip-vm2-out',
      'hairpin',
      'snat-lan',
    ]);
  });

  it('SNAT: the VM reaches the external host over ICMP and TCP, seen from the EIP', async () => {
    expect(await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.5' })).toBe(`ext ${EIP}`);
    expect(await pingFrom(VM, EXT_HOST, '10.0.1.5')).toBe(true);
    // the gateway's tracking shows the echo request leaving from the EIP
    const icmp = await listConntrack(GW, { proto: 'icmp', origSrc: '10.0.1.5' });
    expect(icmp.some((e) => e.orig.dst === EXT_HOST && e.reply.dst === EIP)).toBe(true);
    expect((await listNftCounters(GW, 'ip', 'vpc-nat-gw')).get('snat-lan')?.packets).toBeGreaterThan(0);
  });

  it('DNAT: the external host reaches the VM at EIP:8888', async () => {
    expect(await httpGet(EXT, `http://${EIP}:8888/`)).toBe(`vm ${EXT_HOST}`);
    expect((await listNftCounters(GW, 'ip', 'vpc-nat-gw')).get('dnat-web')?.packets).toBeGreaterThan(0);
  });

  it('FIP: 1:1 in both directions', async () => {
    expect(await httpGet(EXT, `http://${FIP_EIP}/`)).toBe(`vm ${EXT_HOST}`);
    expect(await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.6' })).toBe(`ext ${FIP_EIP}`);
  });

  it('hairpin: the VM reaches its own DNAT through the EIP', async () => {
    expect(await httpGet(VM, `http://${EIP}:8888/`, { from: '10.0.1.5' })).toBe('vm 10.0.1.254');
    expect((await listNftCounters(GW, 'ip', 'vpc-nat-gw')).get('hairpin')?.packets).toBeGreaterThan(0);
  });

  it('removing a DNAT rule ends its established session; an unrelated SNAT session and counters stay', async () => {
    const inbound = await startSession(EXT, EIP, 7777);
    const outbound = await startSession(VM, EXT_HOST, 7);
    const before = (await listNftCounters(GW, 'ip', 'vpc-nat-gw')).get('snat-lan')!.packets;
    const reasons = await install(rules(), rules({ dnat: rules().dnat.filter((d) => d.name !== 'echo') }));
    expect(reasons).toEqual(['dnat/echo removed']);
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 10_000).unref());
    expect(await Promise.race([inbound.ended, timeout])).toMatch(/error ECONNRESET|closed/);
    // the unrelated session keeps echoing through the change
    const echoed = outbound.echoed();
    await waitUntil(() => outbound.echoed() > echoed + 2, {
      what: 'SNAT session still echoing',
      timeoutMs: 5_000,
    });
    // the update form kept the counters of the rules that stayed
    expect((await listNftCounters(GW, 'ip', 'vpc-nat-gw')).get('snat-lan')!.packets).toBeGreaterThanOrEqual(
      before,
    );
    expect((await listNftCounters(GW, 'ip', 'vpc-nat-gw')).has('dnat-echo')).toBe(false);
    await outbound.stop();
  });

  it('installing rules deletes connections tracked un-NATed before them', async () => {
    const now = rules({ dnat: rules().dnat.filter((d) => d.name !== 'echo') });
    // no SNAT: the VM's session is tracked un-NATed and cannot get an answer
    await install(now, { ...now, snat: [] });
    const stuck = await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.5', timeoutS: 1 });
    expect(stuck).toBeUndefined();
    const raw = (await listConntrack(GW, { proto: 'tcp', origSrc: '10.0.1.5', origDst: EXT_HOST })).filter(
      (e) => e.reply.dst === '10.0.1.5',
    );
    expect(raw.length).toBeGreaterThan(0);
    const reasons = await install({ ...now, snat: [] }, now);
    expect(reasons.every((r) => r === 'snat/lan un-NATed')).toBe(true);
    const left = (await listConntrack(GW, { proto: 'tcp', origSrc: '10.0.1.5', origDst: EXT_HOST })).filter(
      (e) => e.reply.dst === '10.0.1.5',
    );
    expect(left).toEqual([]);
    expect(await httpGet(VM, `http://${EXT_HOST}/`, { from: '10.0.1.5' })).toBe(`ext ${EIP}`);
  });

  it('a bad script changes nothing (one transaction)', async () => {
    const text = await listNftTableText(GW, 'ip', 'vpc-nat-gw');
    const bad = buildRuleset(rules()).script.replace('dnat to 10.0.1.5:80', 'dnat to 10.0.1.5:99999');
    await expect(applyNftScript(GW, bad)).rejects.toBeInstanceOf(NftError);
    expect(await listNftTableText(GW, 'ip', 'vpc-nat-gw')).toBe(text);
  });

  it('the in-process nft context keeps its socket out of child processes (close-on-exec)', async () => {
    expect(nftVia()).toBe('lib');
    closeNftContext(GW);
    const before = new Set(readdirSync('/proc/self/fd'));
    await listNftTable(GW, 'ip', 'vpc-nat-gw');
    const opened = readdirSync('/proc/self/fd').filter((fd) => !before.has(fd));
    expect(opened.length).toBeGreaterThan(0);
    for (const fd of opened) {
      const flags = /^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
      expect(parseInt(flags, 8) & 0o2000000).not.toBe(0); // O_CLOEXEC
    }
  });

  it('the replace form rebuilds after `nft flush ruleset`', async () => {
    await applyNftScript(GW, 'flush ruleset\n');
    expect(await listNftTable(GW, 'ip', 'vpc-nat-gw')).toBeUndefined();
    await applyNftScript(GW, buildRuleset(rules()).script);
    expect(await httpGet(EXT, `http://${EIP}:8888/`)).toBe(`vm ${EXT_HOST}`);
  });
});
