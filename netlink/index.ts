/**
 * Host networking for the agent: links, addresses, routes, network namespaces (and sockets inside
 * them), TX checksum offload and per-namespace sysctls. Over the npm `netlink` package (0.3.0) for
 * rtnetlink, koffi for setns(2)/unshare(2)/mount(2)/ioctl(2), and `ip`/`ethtool`/`sysctl` via execa
 * as the explicit fallback. Knows nothing of OVN or the agent.
 *
 * Typical use: `const nl = rtnl('vm1'); await replaceAddress(nl, 'eth0', '10.0.0.2/24')`.
 */
export * from './errors.js';
export * from './inet.js';
export { inNetns, netnsPath, NETNS_RUN_DIR, type NetnsRef } from './setns.js';
export { cachedRtnlNamespaces, closeAllRtnl, closeRtnl, Rtnl, rtnl } from './socket.js';
export {
  checkNetnsName,
  createNetns,
  deleteNetns,
  defaultVia,
  listNetns,
  netnsExists,
  type CreateNetnsOptions,
  type Via,
} from './namespaces.js';
export {
  createBridge,
  createMacvlan,
  createVeth,
  createVlan,
  deleteLink,
  deleteLinkGroup,
  setGroup,
  getLink,
  listLinks,
  moveLink,
  renameLink,
  requireLink,
  setLinkDown,
  setLinkUp,
  setMac,
  setMaster,
  setMtu,
  type LinkInfo,
  type VethSpec,
} from './links.js';
export {
  deleteAddress,
  listAddresses,
  replaceAddress,
  type AddressInfo,
  type ReplaceAddressOptions,
} from './addresses.js';
export {
  deleteRoute,
  listRoutes,
  MAIN_TABLE,
  replaceRoute,
  type RouteInfo,
  type RouteSpec,
} from './routes.js';
export {
  disableTxChecksumOffload,
  getTxChecksumOffload,
  setTxChecksumOffload,
  type EthtoolTarget,
} from './ethtool.js';
export { disableIpv6, readSysctl, sysctlPath, writeSysctl } from './sysctl.js';
export { commandIn } from './exec.js';
export {
  applyNftScript,
  deleteNftTable,
  nftVia,
  runNft,
  type NftOutput,
  type NftVia,
  listNftCounters,
  listNftTable,
  listNftTableText,
  NftError,
  parseNftTable,
  type NftChainInfo,
  type NftCounter,
  type NftRuleInfo,
  type NftTableInfo,
} from './nftables.js';
export {
  ConntrackError,
  deleteConntrack,
  deleteConntrackEntries,
  isUnNated,
  listConntrack,
  parseConntrackLine,
  type ConntrackEntry,
  type ConntrackFilter,
  type ConntrackTuple,
} from './conntrack.js';
export {
  closeAllNftContexts,
  closeNftContext,
  libnftablesAvailable,
  NFT_OUTPUT,
  runLibnftables,
} from './libnftables.js';
