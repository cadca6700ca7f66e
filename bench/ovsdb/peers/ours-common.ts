/** The workload's transaction as our peers build it: typed operations from `ovsdb/`'s builders. */
import { insert, type Operation } from '../../../ovsdb/index.js';
import { portAddress, portExternalIds, portName, switchExternalIds, switchName } from '../workload.js';

/**
 * Switch i's transaction: the switch, then its ports, each port referenced from the switch's
 * `ports` by uuid-name (RFC 7047 §5.2.1) — the same rows and wire values as
 * `switchTransactionOps` of `workload.ts`.
 */
export function switchOps(i: number, ports: number): Operation[] {
  const refs: string[] = new Array(ports);
  for (let j = 0; j < ports; j++) refs[j] = `p${j}`;
  const ops: Operation[] = [
    insert(
      'Logical_Switch',
      { name: switchName(i), external_ids: switchExternalIds(i), ports: refs },
      { uuidName: 'ls' },
    ),
  ];
  for (let j = 0; j < ports; j++) {
    ops.push(
      insert(
        'Logical_Switch_Port',
        { name: portName(i, j), addresses: [portAddress(i, j)], external_ids: portExternalIds(i) },
        { uuidName: refs[j] },
      ),
    );
  }
  return ops;
}
