/**
 * The OVSDB benchmark workload: S logical switches with P ports each, one transaction per
 * switch. Every peer (Node or Python) derives the same names, addresses and external_ids
 * from the switch index `i` and port index `j` with the formulas below; the Python twin is
 * `peers/bench_common.py` and must be kept identical.
 *
 * - switch name  `bench-ls-<i>`, external_ids {`vpc-agent-bench/owner`: `bench`, `vpc-agent-bench/index`: `<i>`}
 * - port name    `bench-ls-<i>-p<j>`, external_ids {`vpc-agent-bench/owner`: `bench`, `vpc-agent-bench/switch`: `bench-ls-<i>`}
 * - port address `"0a:<i 3 bytes>:<j 2 bytes> 10.<i high byte>.<i low byte>.<j+2>"` (ovn-nb(5) `addresses`: "MAC IP")
 *
 * Hence at most 65,536 switches and 250 ports per switch (checked by {@link checkWorkloadSize}).
 */

/** Benchmark size. */
export interface WorkloadSize {
  switches: number;
  ports: number;
}

export const OWNER_KEY = 'vpc-agent-bench/owner';
export const OWNER_VALUE = 'bench';
export const INDEX_KEY = 'vpc-agent-bench/index';
export const SWITCH_KEY = 'vpc-agent-bench/switch';

export const MAX_SWITCHES = 65_536;
export const MAX_PORTS = 250;

/** Throws when the size cannot be expressed with the address formulas. */
export function checkWorkloadSize({ switches, ports }: WorkloadSize): void {
  if (!Number.isInteger(switches) || switches < 1 || switches > MAX_SWITCHES) {
    throw new Error(`--switches must be an integer in 1..${MAX_SWITCHES}`);
  }
  if (!Number.isInteger(ports) || ports < 1 || ports > MAX_PORTS) {
    throw new Error(`--ports must be an integer in 1..${MAX_PORTS}`);
  }
}

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

export const switchName = (i: number) => `bench-ls-${i}`;
export const portName = (i: number, j: number) => `bench-ls-${i}-p${j}`;

/** `"MAC IP"` for port j of switch i. */
export function portAddress(i: number, j: number): string {
  const mac = `0a:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}:${hex2(j >> 8)}:${hex2(j)}`;
  return `${mac} 10.${(i >> 8) & 0xff}.${i & 0xff}.${j + 2}`;
}

export const switchExternalIds = (i: number): Record<string, string> => ({
  [OWNER_KEY]: OWNER_VALUE,
  [INDEX_KEY]: String(i),
});

export const portExternalIds = (i: number): Record<string, string> => ({
  [OWNER_KEY]: OWNER_VALUE,
  [SWITCH_KEY]: switchName(i),
});

/** Rows a full sync sees after the workload: the switches, their ports and the one NB_Global row. */
export const expectedSyncRows = ({ switches, ports }: WorkloadSize) => switches * (1 + ports) + 1;

const wireMap = (m: Record<string, string>) => ['map', Object.entries(m)];

/**
 * The RFC 7047 §5.2 operation list of switch i's transaction, wire notation (§5.1), without the
 * leading database name: one `insert` of the Logical_Switch whose `ports` set refers to the P
 * Logical_Switch_Port inserts by `named-uuid` (§5.2.1 `uuid-name`).
 */
export function switchTransactionOps(i: number, ports: number): object[] {
  const ops: object[] = [];
  const refs: unknown[] = [];
  for (let j = 0; j < ports; j++) {
    const uuidName = `p${j}`;
    refs.push(['named-uuid', uuidName]);
    ops.push({
      op: 'insert',
      table: 'Logical_Switch_Port',
      'uuid-name': uuidName,
      row: {
        name: portName(i, j),
        addresses: ['set', [portAddress(i, j)]],
        external_ids: wireMap(portExternalIds(i)),
      },
    });
  }
  ops.unshift({
    op: 'insert',
    table: 'Logical_Switch',
    'uuid-name': 'ls',
    row: { name: switchName(i), external_ids: wireMap(switchExternalIds(i)), ports: ['set', refs] },
  });
  return ops;
}
