import { execSync } from 'node:child_process';
import { rtnl } from '/work/main/netlink/index.js';
import { nla, u32, cstr, ifinfomsg, linkInfo, IFLA } from '/work/main/netlink/attrs.js';
import { FlagsNew } from 'netlink';
execSync('ip netns add vpca-t6a; ip netns add vpca-t6b');
try {
  const nl = rtnl('vpca-t6a');
  const gen = nla(26, nla(10, nla(8, Buffer.from([1]))));
  const fd = (await import('node:fs')).openSync('/run/netns/vpca-t6b', 'r');
  const peerAttrs = [nla(IFLA.IFNAME, cstr('b')), nla(IFLA.NET_NS_FD, u32(fd)), gen];
  const data = nla(1, Buffer.concat([ifinfomsg({ flags: 1, change: 1 }), ...peerAttrs]));
  await nl.call('x', 'a', (s) => s.newLink({ flags: { up: true }, change: { up: true } } as any, { ifname: 'a', linkinfo: linkInfo('veth', data), afSpec: new Map([[10, nla(8, Buffer.from([1]))]]) } as any, { flags: FlagsNew.CREATE | FlagsNew.EXCL }));
  await new Promise((r) => setTimeout(r, 300));
  console.log(execSync('ip -n vpca-t6a -d link show a; ip -n vpca-t6a -6 addr; ip -n vpca-t6b -d link show b; ip -n vpca-t6b -6 addr').toString());
} finally { execSync('ip netns del vpca-t6a; ip netns del vpca-t6b'); }
