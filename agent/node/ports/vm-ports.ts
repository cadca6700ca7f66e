/**
 * The two ends of a KubeVirt VM's port that outlive its pods (./identity.ts):
 *
 * - {@link retainedPort}: a DEL of the VM's pod keeps the LSP — address, MAC, name — marked
 *   retained, without the pod's attachment; the host state goes (the caller removes it);
 * - {@link reapVmPorts}: a retained port whose VM is gone for good (absent from a complete list
 *   of VMs) is removed with its address. Only this node's ports, each under its namespace's lock
 *   and only if still retained then (an ADD of the VM's next pod may have taken it back).
 */
import type { OvsdbClient } from '../../../ovsdb/index.js';
import type { Ipam } from '../../ipam/index.js';
import type { Logger } from '../../log.js';
import { planPortRemove, type NodePort } from './nb-ports.js';
import type { KeyedSerial } from './serial.js';

/** `p` kept for its VM while the VM has no pod here: no attachment, no host state. */
export function retainedPort(p: NodePort): NodePort {
  const { containerId: _c, pod: _p, ...rest } = p;
  return { ...rest, retained: true };
}

export interface VmReapDeps {
  nb: OvsdbClient;
  ipam: Ipam;
  busy: ReadonlySet<string>;
  perNetns: KeyedSerial;
  /** This node's ports as Northbound holds them now. */
  mine: () => ReadonlyMap<string, NodePort>;
  log?: Pick<Logger, 'info'>;
}

/** Removes the retained ports of VMs not in `vms` (undefined: the VMs are not known, nothing goes). */
export async function reapVmPorts(
  deps: VmReapDeps,
  config: { nodeOwnerId: string; nbTimeoutMs: number },
  vms: ReadonlySet<string> | undefined,
): Promise<string[]> {
  if (!vms) return [];
  const reaped: string[] = [];
  for (const p of deps.mine().values()) {
    if (!p.retained || !p.vm || vms.has(p.vm)) continue;
    await deps.perNetns(p.netns, async () => {
      const now = deps.mine().get(p.name);
      if (!now?.retained || deps.busy.has(p.name)) return;
      await deps.nb.run((cache) => planPortRemove(cache, config.nodeOwnerId, p.name), {
        waitForCache: true,
        timeoutMs: config.nbTimeoutMs,
      });
      deps.ipam.release(p.owner, p.subnet);
      reaped.push(p.name);
    });
  }
  if (reaped.length > 0) deps.log?.info({ ports: reaped }, 'ports of deleted VMs removed');
  return reaped;
}
