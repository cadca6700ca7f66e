/**
 * Interface addresses (RTM_NEWADDR/DELADDR/GETADDR, RFC 3549 §3.1.2; `struct ifaddrmsg` and IFA_*
 * in <linux/if_addr.h>), IPv4 and IPv6.
 *
 * Contract: {@link replaceAddress} uses NLM_F_CREATE|NLM_F_REPLACE, so adding an address twice is
 * success; {@link deleteAddress} of an address that is not there (EADDRNOTAVAIL) or on a link that is
 * gone (ENODEV) is success.
 */
import { FlagsNew, type rt } from 'netlink';
import { isGone } from './errors.js';
import { afOf, familyOfAf, ipFromBytes, ipToBytes, parseIpPrefix, type IpFamily } from './inet.js';
import { requireLink } from './links.js';
import type { Rtnl } from './socket.js';

export interface AddressInfo {
  /** Index of the link the address is on. */
  index: number;
  family: IpFamily;
  address: string;
  prefixLen: number;
  /** `address/prefixLen`. */
  cidr: string;
  /** RT_SCOPE_*: 0 universe, 253 link, 254 host. */
  scope: number;
}

/** Converts a parsed RTM_NEWADDR message; undefined for families other than IPv4/IPv6. */
export function toAddressInfo(m: rt.AddressMessage): AddressInfo | undefined {
  const family = familyOfAf(m.data.family);
  // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
  const bytes = m.attrs.local ?? m.attrs.address;
  if (!family || !bytes) return undefined;
  const address = ipFromBytes(bytes).text;
  const prefixLen = m.data.prefixlen ?? 0;
  return {
    index: m.data.index ?? 0,
    family,
    address,
    prefixLen,
    cidr: `${address}/${prefixLen}`,
    scope: m.data.scope ?? 0,
  };
}

/** Addresses of the namespace, optionally only those of link `link` and/or of one family. */
export async function listAddresses(
  nl: Rtnl,
  filter: { link?: string; family?: IpFamily } = {},
): Promise<AddressInfo[]> {
  const index = filter.link === undefined ? undefined : (await requireLink(nl, filter.link)).index;
  const data: rt.Address = filter.family === undefined ? {} : { family: afOf(filter.family) };
  const msgs = await nl.call('addr.list', filter.link, (s) => s.getAddresses(data), { dump: true });
  return msgs
    .map(toAddressInfo)
    .filter((a): a is AddressInfo => a !== undefined)
    .filter(
      (a) =>
        (index === undefined || a.index === index) &&
        (filter.family === undefined || a.family === filter.family),
    );
}

/** The request body for `cidr` on link `index` (exported for tests). */
export function addressRequest(
  index: number,
  cidr: string,
  opts: { nodad?: boolean } = {},
): [rt.Address, rt.AddressAttrs] {
  const { ip, prefix } = parseIpPrefix(cidr);
  const bytes = ipToBytes(ip);
  const data: rt.Address = { family: afOf(ip.family), prefixlen: prefix, index, scope: 0 };
  const attrs: rt.AddressAttrs = { local: bytes, address: bytes };
  if (ip.family === 6) delete attrs.local;
  if (opts.nodad) attrs.flags = { nodad: true };
  return [data, attrs];
}

export interface ReplaceAddressOptions {
  /** IPv6: skip duplicate address detection (IFA_F_NODAD) so the address is usable at once. */
  nodad?: boolean;
}

/** Adds `cidr` (e.g. `10.0.0.2/24`, `fd00::2/64`) to `link`, or leaves it if already there. */
export async function replaceAddress(
  nl: Rtnl,
  link: string,
  cidr: string,
  opts: ReplaceAddressOptions = {},
): Promise<void> {
  const { index } = await requireLink(nl, link);
  const [data, attrs] = addressRequest(index, cidr, opts);
  await nl.call('addr.replace', `${cidr} dev ${link}`, (s) =>
    s.newAddress(data, attrs, { flags: FlagsNew.CREATE | FlagsNew.REPLACE }),
  );
}

/** Removes `cidr` from `link`. Returns false when it (or the link) was not there. */
export async function deleteAddress(nl: Rtnl, link: string, cidr: string): Promise<boolean> {
  try {
    const { index } = await requireLink(nl, link);
    const [data, attrs] = addressRequest(index, cidr);
    await nl.call('addr.delete', `${cidr} dev ${link}`, (s) => s.delAddress(data, attrs));
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}
