/**
 * Which ports a DEL removes — pure. A DEL names a namespace (every port of it, or one network's),
 * or a CNI attachment: container id, optionally with its interface name. The namespace of a CNI
 * DEL may be gone or not passed at all (CNI allows an empty CNI_NETNS on DEL), so an attachment
 * is found by the container id its LSP records; an OVS port whose LSP is gone already is found by
 * its namespace and interface.
 */
import { formatNetwork } from './names.js';
import type { NodePort } from './nb-ports.js';
import type { LocalPortRecord } from './ovs.js';
import type { ValidDelRequest } from './request.js';

export interface PortsToDelete {
  nbPorts: NodePort[];
  local: LocalPortRecord[];
}

export function portsToDelete(
  mine: ReadonlyMap<string, NodePort>,
  local: readonly LocalPortRecord[],
  req: ValidDelRequest,
): PortsToDelete {
  const network = req.network ? formatNetwork(req.network) : undefined;
  const common = (p: { netns: string; network: string; ifname: string }) =>
    (req.netns === undefined || p.netns === req.netns) &&
    (network === undefined || p.network === network) &&
    (req.ifname === undefined || p.ifname === req.ifname);
  const nbPorts = [...mine.values()].filter(
    (p) => common(p) && (req.containerId === undefined || p.containerId === req.containerId),
  );
  const names = new Set(nbPorts.map((p) => p.name));
  const localMatch = local.filter(
    (l) =>
      names.has(l.lsp) ||
      // Without its LSP an OVS port has no container id: the namespace identifies it.
      (req.netns !== undefined && !mine.has(l.lsp) && common(l)),
  );
  return { nbPorts, local: localMatch };
}

/**
 * The per-namespace lock a DEL takes: its namespace, else the recorded namespace of the
 * attachment's port, else the container id (nothing of it is left to race with).
 */
export function delNetnsKey(mine: ReadonlyMap<string, NodePort>, req: ValidDelRequest): string {
  if (req.netns !== undefined) return req.netns;
  const p = [...mine.values()].find((x) => x.containerId === req.containerId);
  return p?.netns ?? `container:${req.containerId ?? ''}`;
}
