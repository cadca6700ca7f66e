/**
 * netlink/ against the real kernel, as root, only inside throwaway namespaces named `nlt<pid>-*`
 * that this file creates and always deletes. The host's links, addresses, routes, nft ruleset and
 * ip_forward are snapshotted before and compared after.
 */
import { closeSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cachedRtnlNamespaces,
  createBridge,
  createNetns,
  createVeth,
  createVlan,
  deleteAddress,
  deleteLink,
  deleteNetns,
  deleteRoute,
  disableIpv6,
  disableTxChecksumOffload,
  getLink,
  getTxChecksumOffload,
  inNetns,
  listAddresses,
  listLinks,
  listNetns,
  listRoutes,
  moveLink,
  netnsExists,
  NetlinkError,
  readSysctl,
  renameLink,
  replaceAddress,
  replaceRoute,
  rtnl,
  setLinkUp,
  setMac,
  setMaster,
  setMtu,
  setTxChecksumOffload,
  writeSysctl,
} from '../../../netlink/index.js';
import { openNetns } from '../../../netlink/setns.js';
import { useTestNamespaces } from '../../harness/netns.js';

const { prefix: PREFIX } = useTestNamespaces('nlt');
const A = `${PREFIX}a`;
const B = `${PREFIX}b`;
const C = `${PREFIX}c`;
/** For the IPv6 and concurrency tests. */
const D = `${PREFIX}d`;

const ip = async (...args: string[]) => (await execa('ip', args)).stdout;
const inNs = async (ns: string, ...argv: string[]) =>
  (await execa('ip', ['netns', 'exec', ns, ...argv])).stdout;
const linkJson = async (ns: string, dev: string) =>
  (JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as Array<Record<string, unknown>>)[0]!;
const brLinks = async (ns?: string) =>
  (await ip(...(ns ? ['-n', ns] : []), '-br', 'link'))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[0]!.split('@')[0]!);

beforeAll(async () => {
  await createNetns(A);
  await createNetns(B);
  await createNetns(D);
});

describe('namespaces', () => {
  it('create is idempotent, shows in ip netns list, and brings lo up', async () => {
    expect(await createNetns(A)).toBe(false);
    expect(listNetns()).toContain(A);
    expect(await ip('netns', 'list')).toContain(A);
    expect(netnsExists(A)).toBe(true);
    expect(((await linkJson(A, 'lo'))['flags'] as string[]).includes('UP')).toBe(true);
    expect(await inNs(A, 'ping', '-c1', '-W2', '127.0.0.1')).toContain('1 received');
  });

  it('delete is idempotent, closes the cached socket, and a re-created namespace gets a fresh one', async () => {
    await createNetns(C);
    const first = rtnl(C);
    expect(cachedRtnlNamespaces()).toContain(C);
    expect(await deleteNetns(C)).toBe(true);
    expect(first.closed).toBe(true);
    expect(await deleteNetns(C)).toBe(false);
    expect(netnsExists(C)).toBe(false);
    expect(await ip('netns', 'list')).not.toContain(C);
    await createNetns(C);
    await createVeth(rtnl(C), { name: 'only-in-c', peer: { name: 'peer-in-c' } });
    expect(rtnl(C)).not.toBe(first);
    expect(await brLinks(C)).toContain('only-in-c');
    await deleteNetns(C);
  });

  it('a namespace re-created behind our back gets a fresh socket (cache keyed by identity)', async () => {
    await createNetns(C);
    const first = rtnl(C);
    await execa('ip', ['netns', 'delete', C]);
    await execa('ip', ['netns', 'add', C]);
    const second = rtnl(C);
    expect(second).not.toBe(first);
    expect((await listLinks(second)).map((l) => l.name)).toEqual(['lo']);
    await deleteNetns(C);
  });

  it('the exec fallback (`ip netns add/delete`) is idempotent too', async () => {
    expect(await createNetns(C, { via: 'exec', loopbackUp: false })).toBe(true);
    expect(await createNetns(C, { via: 'exec' })).toBe(false);
    expect(((await linkJson(C, 'lo'))['flags'] as string[]).includes('UP')).toBe(false);
    expect(await deleteNetns(C, { via: 'exec' })).toBe(true);
    expect(await deleteNetns(C, { via: 'exec' })).toBe(false);
    expect(listNetns()).not.toContain(C);
  });

  it('inNetns runs synchronously inside the namespace, returns to the original one, and refuses async work', () => {
    const self = readlinkSync('/proc/thread-self/ns/net');
    const inside = inNetns(A, () => readlinkSync('/proc/thread-self/ns/net'));
    expect(inside).not.toBe(self);
    const fd = openNetns(A);
    try {
      expect(inNetns({ fd }, () => readlinkSync('/proc/thread-self/ns/net'))).toBe(inside);
    } finally {
      closeSync(fd);
    }
    expect(() => inNetns(A, () => Promise.resolve(1))).toThrow(/must be synchronous/);
    expect(() =>
      inNetns(A, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(() => inNetns(`${PREFIX}missing`, () => 1)).toThrow(NetlinkError);
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(self);
  });
});

describe('links, addresses and routes across two namespaces', () => {
  it('creates a veth with its peer directly in the other namespace, both ends with the MTU', async () => {
    const a = rtnl(A);
    const v = await createVeth(a, { name: 'va', peer: { name: 'vb', netns: B }, mtu: 1400 });
    expect(v).toMatchObject({ name: 'va', kind: 'veth', mtu: 1400, up: false });
    const peer = await getLink(rtnl(B), 'vb');
    expect(peer).toMatchObject({ kind: 'veth', mtu: 1400 });
    expect(await getLink(a, 'vb')).toBeUndefined();
    expect((await linkJson(B, 'vb'))['mtu']).toBe(1400);
    const host = await brLinks();
    expect(host).not.toContain('va');
    expect(host).not.toContain('vb');
  });

  it('a socket bound inside a namespace sees exactly that namespace’s links', async () => {
    for (const ns of [A, B]) {
      const ours = (await listLinks(rtnl(ns))).map((l) => l.name).sort();
      expect(ours).toEqual((await brLinks(ns)).sort());
    }
    // Other processes may add/remove host links meanwhile: compare with listings taken around ours.
    const h1 = await brLinks();
    const hostNames = (await listLinks(rtnl())).map((l) => l.name);
    const h2 = await brLinks();
    expect(hostNames).toEqual(expect.arrayContaining(h1.filter((n) => h2.includes(n))));
    for (const n of hostNames) expect([...h1, ...h2]).toContain(n);
    expect(hostNames).not.toContain('va');
  });

  it('create twice is success; a name taken by another kind is EEXIST with the reason', async () => {
    const again = await createVeth(rtnl(A), { name: 'va', peer: { name: 'vb', netns: B } });
    expect(again.kind).toBe('veth');
    const err = await createBridge(rtnl(A), { name: 'va' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ errnoName: 'EEXIST', op: 'link.create.bridge', target: 'va', netns: A });
    expect((err as Error).message).toContain('exists as veth');
  });

  it('addresses (IPv4 + IPv6) are replaced idempotently, listed, and deleted twice', async () => {
    const [a, b] = [rtnl(A), rtnl(B)];
    await setLinkUp(a, 'va');
    await setLinkUp(b, 'vb');
    for (let i = 0; i < 2; i++) {
      await replaceAddress(a, 'va', '203.0.113.1/24');
      await replaceAddress(a, 'va', '2001:db8:5::1/64', { nodad: true });
    }
    await replaceAddress(b, 'vb', '203.0.113.2/24');
    await replaceAddress(b, 'vb', '2001:db8:5::2/64', { nodad: true });
    const listed = (await listAddresses(a, { link: 'va' })).map((x) => x.cidr);
    expect(listed.filter((c) => c === '203.0.113.1/24')).toHaveLength(1);
    expect(listed).toContain('2001:db8:5::1/64');
    expect((await listAddresses(a, { family: 4 })).map((x) => x.cidr)).toEqual([
      '127.0.0.1/8',
      '203.0.113.1/24',
    ]);
    expect(await ip('-n', A, '-br', 'addr', 'show', 'dev', 'va')).toContain('203.0.113.1/24');

    await replaceAddress(a, 'va', '203.0.113.99/24');
    expect(await deleteAddress(a, 'va', '203.0.113.99/24')).toBe(true);
    expect(await deleteAddress(a, 'va', '203.0.113.99/24')).toBe(false);
    expect(await deleteAddress(a, 'nosuchdev', '203.0.113.99/24')).toBe(false);
    expect(await ip('-n', A, '-br', 'addr', 'show', 'dev', 'va')).not.toContain('203.0.113.99');
  });

  it('pings between the namespaces, IPv4 and IPv6', async () => {
    expect(await inNs(A, 'ping', '-c1', '-W2', '203.0.113.2')).toContain('1 received');
    expect(await inNs(B, 'ping', '-c1', '-W2', '203.0.113.1')).toContain('1 received');
    expect(await inNs(A, 'ping', '-6', '-c1', '-W2', '2001:db8:5::2')).toContain('1 received');
  });

  it('default route via a gateway and a dev route: replace twice, list, reach through, delete twice', async () => {
    const b = rtnl(B);
    await replaceAddress(rtnl(A), 'lo', '198.51.100.1/32');
    for (let i = 0; i < 2; i++) {
      await replaceRoute(b, { dst: 'default', via: '203.0.113.1' });
      await replaceRoute(b, { dst: '192.0.2.0/24', dev: 'vb', metric: 77 });
    }
    const routes = await listRoutes(b, { family: 4 });
    expect(routes.filter((r) => r.dst === 'default')).toEqual([
      expect.objectContaining({ via: '203.0.113.1', dev: 'vb', protocol: 'boot' }),
    ]);
    expect(routes).toContainEqual(
      expect.objectContaining({ dst: '192.0.2.0/24', dev: 'vb', metric: 77, scope: 'link' }),
    );
    expect(await ip('-n', B, 'route', 'show', 'default')).toContain('default via 203.0.113.1 dev vb');
    // 198.51.100.1 lives on A's loopback: B reaches it only through the default route.
    expect(await inNs(B, 'ping', '-c1', '-W2', '198.51.100.1')).toContain('1 received');

    await replaceRoute(b, { dst: 'default', via: '203.0.113.3' });
    expect((await listRoutes(b, { family: 4 })).filter((r) => r.dst === 'default').map((r) => r.via)).toEqual(
      ['203.0.113.3'],
    );
    expect(await deleteRoute(b, { dst: 'default' })).toBe(true);
    expect(await deleteRoute(b, { dst: 'default' })).toBe(false);
    expect(await deleteRoute(b, { dst: '192.0.2.0/24', dev: 'vb' })).toBe(true);
    expect(await deleteRoute(b, { dst: '192.0.2.0/24', dev: 'vb' })).toBe(false);
    expect(await ip('-n', B, 'route', 'show', 'default')).toBe('');
  });

  it('IPv6 default route via a gateway', async () => {
    const b = rtnl(B);
    await replaceRoute(b, { dst: 'default', via: '2001:db8:5::1' });
    expect(await ip('-n', B, '-6', 'route', 'show', 'default')).toContain('default via 2001:db8:5::1 dev vb');
    expect(await deleteRoute(b, { dst: 'default', via: '2001:db8:5::1' })).toBe(true);
    expect(await deleteRoute(b, { dst: 'default', family: 6 })).toBe(false);
  });

  it('sets MTU and MAC as ip reads them back', async () => {
    const a = rtnl(A);
    await setMtu(a, 'va', 1350);
    await setMac(a, 'va', '02:00:5e:00:53:01');
    const j = await linkJson(A, 'va');
    expect(j['mtu']).toBe(1350);
    expect(j['address']).toBe('02:00:5e:00:53:01');
    expect(await getLink(a, 'va')).toMatchObject({ mtu: 1350, mac: '02:00:5e:00:53:01' });
    await expect(setMtu(a, 'nosuchdev', 1400)).rejects.toMatchObject({
      errnoName: 'ENODEV',
      target: 'nosuchdev',
    });
  });

  it('renames an up link (down, rename, up) and is idempotent', async () => {
    const a = rtnl(A);
    await createVeth(a, { name: 'rn0', peer: { name: 'rn1' } });
    await setLinkUp(a, 'rn0');
    await renameLink(a, 'rn0', 'rn0new');
    expect(await getLink(a, 'rn0')).toBeUndefined();
    expect(await getLink(a, 'rn0new')).toMatchObject({ up: true, kind: 'veth' });
    await renameLink(a, 'rn0', 'rn0new');
    expect(await deleteLink(a, 'rn0new')).toBe(true);
  });

  it('bridge with an enslaved port', async () => {
    const a = rtnl(A);
    const br = await createBridge(a, { name: 'br-t' });
    expect((await createBridge(a, { name: 'br-t' })).index).toBe(br.index);
    await createVeth(a, { name: 'bp0', peer: { name: 'bp1' } });
    await setMaster(a, 'bp0', 'br-t');
    expect((await getLink(a, 'bp0'))?.masterIndex).toBe(br.index);
    expect(await ip('-n', A, 'link', 'show', 'master', 'br-t')).toContain('bp0');
    await setMaster(a, 'bp0', undefined);
    expect((await getLink(a, 'bp0'))?.masterIndex).toBeUndefined();
    expect(await deleteLink(a, 'bp0')).toBe(true);
    expect(await deleteLink(a, 'br-t')).toBe(true);
  });

  it('moves a link into a namespace by name and by fd; moving again is success', async () => {
    const [a, b] = [rtnl(A), rtnl(B)];
    await createVeth(a, { name: 'mv0', peer: { name: 'mv1' } });
    await createVeth(a, { name: 'mf0', peer: { name: 'mf1' } });
    expect(await moveLink(a, 'mv1', B)).toBe(true);
    expect(await moveLink(a, 'mv1', B)).toBe(false);
    const fd = openNetns(B);
    try {
      expect(await moveLink(a, 'mf1', { fd })).toBe(true);
    } finally {
      closeSync(fd);
    }
    expect(await getLink(a, 'mv1')).toBeUndefined();
    expect(await getLink(b, 'mv1')).toMatchObject({ kind: 'veth' });
    expect(await brLinks(B)).toEqual(expect.arrayContaining(['mv1', 'mf1']));
    await expect(moveLink(a, 'never-was', B)).rejects.toMatchObject({ errnoName: 'ENODEV' });
  });

  it('delete twice: the second is success; deleting one end removes the peer in the other namespace', async () => {
    const a = rtnl(A);
    expect(await deleteLink(a, 'mv0')).toBe(true);
    expect(await deleteLink(a, 'mv0')).toBe(false);
    expect(await getLink(rtnl(B), 'mv1')).toBeUndefined();
    expect(await deleteLink(a, 'mf0')).toBe(true);
  });

  it('vlan creation fails here with a clear error (no 802.1Q in this kernel)', async () => {
    const err = await createVlan(rtnl(A), { name: 'va.2017', parent: 'va', id: 2017 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'NETLINK_EOPNOTSUPP', op: 'link.create.vlan', target: 'va.2017' });
    expect((err as Error).message).toMatch(/802\.1Q/);
    await expect(createVlan(rtnl(A), { name: 'vx', parent: 'va', id: 4095 })).rejects.toMatchObject({
      errnoName: 'EINVAL',
    });
    expect(await getLink(rtnl(A), 'va.2017')).toBeUndefined();
  });
});

describe('TX checksum offload and sysctls', () => {
  const txLine = async (ns: string, dev: string) =>
    /^tx-checksumming: (\w+)/m.exec(await inNs(ns, 'ethtool', '-k', dev))?.[1];

  it('turns tx checksum offload off (ioctl), as ethtool -k reports; idempotent; back on', async () => {
    expect(await txLine(A, 'va')).toBe('on');
    expect(await getTxChecksumOffload({ netns: A, link: 'va' })).toBe(true);
    await disableTxChecksumOffload({ netns: A, link: 'va' });
    await disableTxChecksumOffload({ netns: A, link: 'va' });
    expect(await txLine(A, 'va')).toBe('off');
    expect(await getTxChecksumOffload({ netns: A, link: 'va' })).toBe(false);
    await setTxChecksumOffload({ netns: A, link: 'va' }, { on: true });
    expect(await txLine(A, 'va')).toBe('on');
    await expect(disableTxChecksumOffload({ netns: A, link: 'nosuchdev' })).rejects.toMatchObject({
      errnoName: 'ENODEV',
    });
  });

  it('the exec fallback (ethtool -K) does the same', async () => {
    await disableTxChecksumOffload({ netns: B, link: 'vb' }, { via: 'exec' });
    expect(await txLine(B, 'vb')).toBe('off');
    expect(await getTxChecksumOffload({ netns: B, link: 'vb' }, { via: 'exec' })).toBe(false);
  });

  it('writes net.ipv4.ip_forward inside a namespace only', async () => {
    const hostBefore = await readSysctl(undefined, 'net.ipv4.ip_forward');
    await writeSysctl(A, 'net.ipv4.ip_forward', 1);
    expect(await readSysctl(A, 'net.ipv4.ip_forward')).toBe('1');
    expect(await inNs(A, 'sysctl', '-n', 'net.ipv4.ip_forward')).toBe('1');
    expect(await readSysctl(B, 'net.ipv4.ip_forward')).toBe('0');
    await writeSysctl(B, 'net.ipv6.conf.all.forwarding', 1, { via: 'exec' });
    expect(await readSysctl(B, 'net.ipv6.conf.all.forwarding', { via: 'exec' })).toBe('1');
    expect(await readSysctl(undefined, 'net.ipv4.ip_forward')).toBe(hostBefore);
    await expect(writeSysctl(A, 'kernel.hostname', 'x')).rejects.toThrow(/only net\./);
  });

  it('turns IPv6 off on one link only, before it comes up: no link-local address, ever', async () => {
    await createVeth(rtnl(D), { name: 'v6a', peer: { name: 'v6b' } });
    disableIpv6(D, 'v6a');
    await setLinkUp(rtnl(D), 'v6a');
    await setLinkUp(rtnl(D), 'v6b');
    expect(await inNs(D, 'sysctl', '-n', 'net.ipv6.conf.v6a.disable_ipv6')).toBe('1');
    expect(await inNs(D, 'sysctl', '-n', 'net.ipv6.conf.v6b.disable_ipv6')).toBe('0');
    // The other end, left alone, gets its link-local; v6a none.
    await expect.poll(() => inNs(D, 'ip', '-6', '-o', 'addr', 'show', 'dev', 'v6b')).toMatch(/fe80::/);
    expect(await inNs(D, 'ip', '-6', '-o', 'addr', 'show', 'dev', 'v6a')).toBe('');
    expect(() => disableIpv6(D, 'nosuchdev')).toThrow(NetlinkError);
    await deleteLink(rtnl(D), 'v6a');
  });
});

describe('one socket, many requests at once', () => {
  it('single-reply requests overlap, dumps run alone: 40 links made, changed and listed concurrently', async () => {
    const nl = rtnl(D);
    const names = Array.from({ length: 40 }, (_, i) => `cc${i}`);
    const linkDumps: Promise<{ name: string }[]>[] = [];
    const addrDumps: Promise<{ address: string }[]>[] = [];
    const routeDumps: Promise<unknown[]>[] = [];
    await Promise.all(
      names.map(async (name, i) => {
        await createBridge(nl, { name });
        // A dump in the middle of everyone's single-reply requests.
        if (i % 8 === 0) {
          linkDumps.push(listLinks(nl));
          addrDumps.push(listAddresses(nl, {}));
          routeDumps.push(listRoutes(nl));
        }
        await Promise.all([setMtu(nl, name, 1400 + i), setLinkUp(nl, name)]);
        await replaceAddress(nl, name, `10.77.${i}.1/24`);
        expect((await getLink(nl, name))?.mtu).toBe(1400 + i);
      }),
    );
    // Every dump came back whole: a cut one throws, or misses the loopback and its address.
    for (const l of await Promise.all(linkDumps)) expect(l.map((x) => x.name)).toContain('lo');
    for (const a of await Promise.all(addrDumps)) expect(a.map((x) => x.address)).toContain('127.0.0.1');
    expect(await Promise.all(routeDumps)).toHaveLength(5);
    const links = await listLinks(nl);
    for (const name of names) expect(links.find((l) => l.name === name)).toMatchObject({ up: true });
    const addrs = await listAddresses(nl, {});
    expect(addrs.filter((a) => a.address.startsWith('10.77.'))).toHaveLength(40);
    await Promise.all(names.map((n) => deleteLink(nl, n)));
    expect((await listLinks(nl)).filter((l) => l.name.startsWith('cc'))).toEqual([]);
  });
});
