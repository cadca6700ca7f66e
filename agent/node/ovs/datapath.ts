/**
 * What br-int's datapath means for the veths plugged into it. ovs-vswitchd.conf.db(5) Bridge
 * `datapath_type`: `system` (or empty, the default) is the kernel datapath, `netdev` the
 * userspace one.
 *
 * TX checksum offload: a veth hands what it sends over with TCP/UDP checksums left for "the
 * hardware" to complete (CHECKSUM_PARTIAL). The kernel datapath forwards such packets with that
 * state and the checksum is completed where it has to be, so offload stays on there — turning it
 * off also turns off TSO/GSO, and the sender then checksums and segments everything itself. The
 * userspace datapath reads plain frames off the device and forwards them as they are: TCP/UDP then
 * arrive with bad checksums while ping works. So the side that sends into the datapath (the
 * workload's end of the pair) turns it off, on `netdev` only. br-int's type is read from the
 * node's Open_vSwitch DB (`integrationDatapathType` in plan.ts).
 */

/** `datapath_type` of OVS's userspace datapath. */
export const USERSPACE_DATAPATH = 'netdev';

/** Whether a veth into a bridge of `datapathType` must have TX checksum offload off: on `netdev` only. */
export function disableTxChecksumFor(datapathType: string): boolean {
  return datapathType === USERSPACE_DATAPATH;
}
