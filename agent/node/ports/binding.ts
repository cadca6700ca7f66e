/**
 * This chassis' view of the Southbound: its `Chassis` row and the `Port_Binding`s bound to it
 * (ovn-sb(5)). The monitor is conditional (ovsdb-server(7) §4.1.12 monitor_cond): `Chassis`
 * where `name` = this chassis, `Port_Binding` where `chassis` = that row's uuid — nothing of
 * other nodes' ports reaches this agent. The uuid is learnt from the first rows and the
 * Port_Binding condition replaced (monitor_cond_change, §4.1.13) whenever it changes.
 *
 * A port is ready when its binding is on this chassis and `up` = true: ovn-controller sets `up`
 * once the port's flows are installed (ovn-sb(5) Port_Binding "up").
 */
import type { ClientMonitorConfig, DatabaseCache, OvsdbClient } from '../../../ovsdb/index.js';

/** The SB monitor of a chassis named `chassis` (Port_Binding starts empty until the uuid is known). */
export function sbPortsMonitor(chassis: string): ClientMonitorConfig {
  return {
    tables: {
      Chassis: { columns: ['name', 'hostname'], where: [['name', '==', chassis]] },
      Port_Binding: { columns: ['logical_port', 'chassis', 'up', 'type'], where: [false] },
    },
  };
}

/** This chassis' row uuid in the SB cache, if registered. */
export function chassisUuid(cache: DatabaseCache, chassis: string): string | undefined {
  return cache.lookup('Chassis', 'name', chassis)[0]?._uuid;
}

export type BindingState = 'up' | 'down' | 'unbound' | 'no-chassis';

/** Where the binding of `lsp` stands, seen from this chassis. */
export function bindingState(cache: DatabaseCache, chassis: string, lsp: string): BindingState {
  const uuid = chassisUuid(cache, chassis);
  if (!uuid) return 'no-chassis';
  const pb = cache.lookup('Port_Binding', 'logical_port', lsp).find((r) => r['chassis'] === uuid);
  if (!pb) return 'unbound';
  return pb['up'] === true ? 'up' : 'down';
}

/**
 * Keeps the Port_Binding condition on this chassis' uuid. Returns the unsubscribe function.
 * Errors (e.g. while reconnecting) are retried on the next change.
 */
export function followChassis(
  sb: OvsdbClient,
  chassis: string,
  onError: (err: unknown) => void = () => undefined,
): () => void {
  let current: string | undefined;
  let busy = false;
  const sync = async () => {
    const uuid = chassisUuid(sb.cache, chassis);
    if (busy || uuid === current || !sb.isOnline) return;
    busy = true;
    try {
      await sb.setConditions({ Port_Binding: uuid ? [['chassis', '==', uuid]] : [false] });
      current = uuid;
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
    }
    if (chassisUuid(sb.cache, chassis) !== current) void sync();
  };
  const off = sb.cache.onChange(() => void sync());
  void sync();
  return off;
}
