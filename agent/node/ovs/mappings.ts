/**
 * `ovn-bridge-mappings` — the `external_ids` key of the Open_vSwitch table that tells
 * ovn-controller which OVS bridge carries each physical network (ovn-controller(8)
 * "external_ids:ovn-bridge-mappings": a comma-separated list of `network:bridge` pairs; for each
 * localnet port whose `options:network_name` names a network, ovn-controller creates patch ports
 * between br-int and that bridge).
 *
 * The key is shared: an installer or an operator may have put their own pairs there. The agent
 * merges instead of overwriting and remembers which pairs it put, in the Open_vSwitch row's
 * `external_ids:vpc-agent.io/bridge-mappings` (same syntax), so that it removes only its own:
 *
 * - a pair whose network is not in the record is foreign: kept verbatim, in place, never claimed
 *   (even when it equals a desired pair — the agent then has nothing to add and nothing to undo);
 * - a recorded pair that is no longer desired is removed;
 * - a desired pair replaces a recorded one of the same network in place (bridge renamed);
 * - a desired pair whose network has a foreign pair to another bridge is a conflict: the foreign
 *   pair wins and the conflict is reported;
 * - new pairs are appended in network-name order, so the result is stable.
 */

/** Key of the Open_vSwitch row's `external_ids` read by ovn-controller. */
export const BRIDGE_MAPPINGS_KEY = 'ovn-bridge-mappings';
/** Key of the Open_vSwitch row's `external_ids` recording the pairs the agent owns. */
export const OWNED_MAPPINGS_KEY = 'vpc-agent.io/bridge-mappings';

/** One `network:bridge` pair. */
export interface BridgeMapping {
  network: string;
  bridge: string;
}

/**
 * Parses `net1:br1,net2:br2` (whitespace around items ignored, empty items skipped). An item
 * without `:` is kept with an empty bridge so it survives a round trip unchanged in meaning.
 */
export function parseBridgeMappings(value: string | undefined): BridgeMapping[] {
  if (!value) return [];
  const out: BridgeMapping[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const i = item.indexOf(':');
    out.push(
      i < 0 ? { network: item, bridge: '' } : { network: item.slice(0, i), bridge: item.slice(i + 1) },
    );
  }
  return out;
}

/** Formats pairs as `net1:br1,net2:br2` (the inverse of {@link parseBridgeMappings}). */
export function formatBridgeMappings(list: readonly BridgeMapping[]): string {
  return list.map((m) => (m.bridge === '' ? m.network : `${m.network}:${m.bridge}`)).join(',');
}

export interface MappingConflict {
  network: string;
  /** The bridge the agent wanted. */
  wanted: string;
  /** The bridge of the foreign pair that was kept. */
  existing: string;
}

export interface MergedMappings {
  /** New `ovn-bridge-mappings` value ('' = no pairs: the key should be removed). */
  value: string;
  /** New record of the agent's pairs ('' = none: the key should be removed). */
  owned: string;
  /** Desired pairs not applied because a foreign pair maps the network elsewhere. */
  conflicts: MappingConflict[];
}

/**
 * Merges the agent's desired pairs into the current value (see the module comment for the rules).
 * Pure; `desired` maps network → bridge.
 */
export function mergeBridgeMappings(
  current: string | undefined,
  ownedRecord: string | undefined,
  desired: ReadonlyMap<string, string>,
): MergedMappings {
  const ours = new Set(parseBridgeMappings(ownedRecord).map((m) => m.network));
  const out: BridgeMapping[] = [];
  const placed = new Set<string>();
  const conflicts: MappingConflict[] = [];
  for (const m of parseBridgeMappings(current)) {
    if (!ours.has(m.network)) {
      // Foreign: kept as it is.
      out.push(m);
      placed.add(m.network);
      const wanted = desired.get(m.network);
      if (wanted !== undefined && wanted !== m.bridge) {
        conflicts.push({ network: m.network, wanted, existing: m.bridge });
      }
      continue;
    }
    const wanted = desired.get(m.network);
    if (wanted === undefined || placed.has(m.network)) continue; // ours, no longer desired (or a duplicate)
    out.push({ network: m.network, bridge: wanted });
    placed.add(m.network);
  }
  const owned: BridgeMapping[] = [];
  const added = [...desired.keys()].filter((n) => !placed.has(n)).sort();
  for (const network of added) out.push({ network, bridge: desired.get(network) ?? '' });
  // The record lists what is ours after the merge, in the order it appears in the value.
  for (const m of out) if (desired.get(m.network) === m.bridge && !isForeign(m.network)) owned.push(m);
  return { value: formatBridgeMappings(out), owned: formatBridgeMappings(owned), conflicts };

  function isForeign(network: string): boolean {
    // A pair is foreign when it was in the current value and not in our record.
    return !ours.has(network) && !added.includes(network);
  }
}
