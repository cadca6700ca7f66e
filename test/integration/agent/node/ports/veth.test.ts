/**
 * plugVeth's TX checksum offload as decided from a real Open_vSwitch database: br-int's
 * `datapath_type` read through the client's cache, then the pair plugged into namespaces this
 * file creates and always deletes (test/harness/netns.ts). No ovs-vswitchd runs, so no datapath of either kind is
 * needed: what is under test is the decision and what it leaves on the veth.
 */
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { disableTxChecksumFor } from '../../../../../agent/node/ovs/datapath.js';
import { NODE_OVS_MONITOR } from '../../../../../agent/node/ovs/index.js';
import { integrationDatapathType } from '../../../../../agent/node/ovs/plan.js';
import { plugVeth, unplugVeth, type VethPlug } from '../../../../../agent/node/ports/veth.js';
import { run } from '../../../../../agent/sandbox/process.js';
import { createNetns, getTxChecksumOffload } from '../../../../../netlink/index.js';
import { useTestNamespaces } from '../../../../harness/netns.js';
import { useOvsDb } from '../../../../harness/ovs-db.js';

const { prefix: PREFIX } = useTestNamespaces('vth');
const NODE = `${PREFIX}node`;
const VM_KERNEL = `${PREFIX}k`;
const VM_NETDEV = `${PREFIX}n`;

const ovs = useOvsDb('veth', NODE_OVS_MONITOR);

/** Sets br-int's datapath_type with ovs-vsctl, seen by the client's cache. */
const setDatapathType = (type: string) =>
  ovs.vsctlSeen('set', 'bridge', 'br-int', `datapath_type=${JSON.stringify(type)}`);

/** The pair of one workload namespace, offload decided from br-int's type as the port service does. */
const plug = (netns: string, host: string, mac: string): VethPlug => ({
  nodeNetns: NODE,
  host,
  netns,
  ifname: 'eth0',
  mac,
  mtu: 1400,
  address: undefined,
  defaultVia: undefined,
  disableTxChecksum: disableTxChecksumFor(integrationDatapathType(ovs.client.cache)),
  ipv6: false,
});

/** `ethtool -k` of eth0 in `netns`: feature (and sub-feature) → its actual state, on/off. */
async function features(netns: string): Promise<Record<string, string>> {
  const out = (await run('ethtool', ['-k', 'eth0'], { netns })).stdout;
  return Object.fromEntries([...out.matchAll(/^\s*(\S+): (on|off)/gm)].map((m) => [m[1]!, m[2]!]));
}

beforeAll(async () => {
  await ovs.vsctlSeen('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=system');
  for (const ns of [NODE, VM_KERNEL, VM_NETDEV]) await createNetns(ns);
});

describe('veth TX checksum offload from br-int datapath_type', () => {
  it('kernel datapath (system): offload, and TSO with it, stay on — also when plugged again', async () => {
    expect(integrationDatapathType(ovs.client.cache)).toBe('system');
    const p = plug(VM_KERNEL, 'h-kernel', '0a:00:00:00:00:11');
    expect(p.disableTxChecksum).toBe(false);
    expect(await plugVeth(p)).toEqual({ created: true });
    expect(await getTxChecksumOffload({ netns: VM_KERNEL, link: 'eth0' })).toBe(true);
    expect(await features(VM_KERNEL)).toMatchObject({
      'tx-checksumming': 'on',
      'tx-tcp-segmentation': 'on',
    });
    expect(await plugVeth(p)).toEqual({ created: false });
    expect(await getTxChecksumOffload({ netns: VM_KERNEL, link: 'eth0' })).toBe(true);
  });

  it('the column left empty is the kernel datapath too', async () => {
    await setDatapathType('');
    expect(plug(VM_KERNEL, 'h-kernel', '0a:00:00:00:00:11').disableTxChecksum).toBe(false);
  });

  it('userspace datapath (netdev): offload is turned off on the namespace side, TSO goes with it', async () => {
    await setDatapathType('netdev');
    const p = plug(VM_NETDEV, 'h-netdev', '0a:00:00:00:00:12');
    expect(p.disableTxChecksum).toBe(true);
    await plugVeth(p);
    expect(await getTxChecksumOffload({ netns: VM_NETDEV, link: 'eth0' })).toBe(false);
    expect(await features(VM_NETDEV)).toMatchObject({
      'tx-checksumming': 'off',
      'tx-tcp-segmentation': 'off',
    });
    // The kernel-datapath pair plugged earlier is not touched by the other port's decision.
    expect(await getTxChecksumOffload({ netns: VM_KERNEL, link: 'eth0' })).toBe(true);
  });

  it('IPv6 stays off on the host end always, and on the namespace side unless the port keeps it', async () => {
    const off = async (netns: string, ifname: string) =>
      (await run('sysctl', ['-n', `net.ipv6.conf.${ifname}.disable_ipv6`], { netns })).stdout.trim() === '1';
    const v6addrs = async (netns: string, ifname: string) =>
      (await run('ip', ['-6', '-o', 'addr', 'show', 'dev', ifname], { netns })).stdout.trim();
    // Both pairs above: up, no IPv6 on either end.
    for (const [vm, host] of [
      [VM_KERNEL, 'h-kernel'],
      [VM_NETDEV, 'h-netdev'],
    ] as const) {
      expect(await off(NODE, host)).toBe(true);
      expect(await off(vm, 'eth0')).toBe(true);
      expect(await v6addrs(NODE, host)).toBe('');
      expect(await v6addrs(vm, 'eth0')).toBe('');
    }
    // A port whose port security has no IP (routed) keeps IPv6 inside: it gets its link-local.
    await plugVeth({ ...plug(VM_KERNEL, 'h-routed', '0a:00:00:00:00:13'), ifname: 'net1', ipv6: true });
    expect(await off(NODE, 'h-routed')).toBe(true);
    expect(await off(VM_KERNEL, 'net1')).toBe(false);
    await expect
      .poll(() => v6addrs(VM_KERNEL, 'net1'), { timeout: 10_000 })
      .toMatch(/inet6 fe80::800:ff:fe00:13\//);
    expect(await unplugVeth(NODE, 'h-routed')).toBe(true);
  });

  it('plugging a healthy pair again changes nothing: no netlink event in either namespace', async () => {
    const p = {
      ...plug(VM_NETDEV, 'h-netdev', '0a:00:00:00:00:12'),
      address: '10.9.0.2/24',
      defaultVia: '10.9.0.1',
    };
    await plugVeth(p);
    // `ip monitor` in both namespaces; a canary link (a veth made and deleted) marks where the
    // window starts and ends, so only what the second plug did falls between them.
    const events: Record<string, string> = { [NODE]: '', [VM_NETDEV]: '' };
    const monitors = [NODE, VM_NETDEV].map((ns) => {
      const m = execa('ip', ['-n', ns, 'monitor', 'link', 'address', 'route'], { reject: false });
      m.stdout?.on('data', (c: Buffer) => (events[ns] += c.toString()));
      return m;
    });
    const canary = async (name: string) => {
      for (const ns of [NODE, VM_NETDEV]) {
        await run('ip', ['-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
        await run('ip', ['-n', ns, 'link', 'del', name]);
      }
      await expect.poll(() => events[NODE]!.includes(name) && events[VM_NETDEV]!.includes(name)).toBe(true);
    };
    try {
      await canary('canary1');
      expect(await plugVeth(p)).toEqual({ created: false });
      await canary('canary2');
      for (const ns of [NODE, VM_NETDEV]) {
        // One event per unindented line, its indented lines with it.
        const evs = events[ns]!.split(/\n(?=\S)/);
        const from = evs.findLastIndex((e) => e.includes('canary1'));
        const to = evs.findIndex((e) => e.includes('canary2'));
        expect(evs.slice(from + 1, to), ns).toEqual([]);
      }
      // And a missing route is put back (the read found it gone).
      await run('ip', ['-n', VM_NETDEV, 'route', 'del', 'default']);
      await plugVeth(p);
      expect((await run('ip', ['-n', VM_NETDEV, 'route', 'show', 'default'])).stdout).toContain(
        'via 10.9.0.1',
      );
    } finally {
      for (const m of monitors) m.kill();
    }
  });

  it('unplug removes both pairs; a second unplug is success (false)', async () => {
    expect(await unplugVeth(NODE, 'h-kernel')).toBe(true);
    expect(await unplugVeth(NODE, 'h-netdev')).toBe(true);
    expect(await unplugVeth(NODE, 'h-netdev')).toBe(false);
  });

  it('unplugs made at once are deleted together; a link gone already is false; others are untouched', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `h-many${i}`);
    for (const [i, host] of names.entries())
      await plugVeth({
        ...plug(VM_KERNEL, host, `0a:00:00:00:01:${String(i).padStart(2, '0')}`),
        ifname: `net${i}`,
      });
    // A link of someone else's in the node namespace, in a group of its own.
    await run('ip', ['-n', NODE, 'link', 'add', 'other0', 'type', 'veth', 'peer', 'name', 'other1']);
    await run('ip', ['-n', NODE, 'link', 'set', 'other0', 'group', '7']);
    const out = await Promise.all([...names, 'h-never'].map((h) => unplugVeth(NODE, h)));
    expect(out).toEqual([...names.map(() => true), false]);
    const nodeLinks = (await run('ip', ['-n', NODE, '-o', 'link'])).stdout;
    for (const h of names) expect(nodeLinks).not.toContain(`${h}@`);
    expect((await run('ip', ['-n', VM_KERNEL, '-o', 'link'])).stdout).not.toMatch(/net\d+@/);
    expect(nodeLinks).toContain('other0@other1');
    expect(nodeLinks).toContain('other1@other0');
    await run('ip', ['-n', NODE, 'link', 'del', 'other0']);
  });
});
