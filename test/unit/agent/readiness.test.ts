/** `/readyz`: connected databases, a finished start and, as writer, a last pass that succeeded. */
import { describe, expect, it } from 'vitest';
import { readiness, type ReadinessInput } from '../../../agent/readiness.js';

const online = { isOnline: true };
const offline = { isOnline: false };
const converged = { passes: 3, consecutiveFailures: 0, lastError: undefined };

function input(extra: Partial<ReadinessInput> = {}): ReadinessInput {
  return {
    config: {},
    nb: online,
    node: undefined,
    started: true,
    writer: true,
    reconcile: converged,
    ...extra,
  };
}

describe('readiness', () => {
  it('is ready once connected, started and converged', () => {
    expect(readiness(input())).toEqual({
      ready: true,
      reasons: [],
      databases: { Northbound: true },
      writer: true,
    });
  });

  it('names every database that is configured and not connected, before the node work exists too', () => {
    const config = { ovs: 'unix:/ovs.sock', sb: 'unix:/sb.sock' };
    expect(readiness(input({ config, nb: offline, started: false }))).toEqual({
      ready: false,
      reasons: [
        'Northbound: not connected',
        'Open_vSwitch: not connected',
        'Southbound: not connected',
        'start: not finished (initial sync and manifest load)',
      ],
      databases: { Northbound: false, Open_vSwitch: false, Southbound: false },
      writer: true,
    });
    const r = readiness(input({ config, node: { ovs: online, sb: offline } }));
    expect(r.reasons).toEqual(['Southbound: not connected']);
    expect(readiness(input({ config, node: { ovs: online, sb: online } })).ready).toBe(true);
    // Without sb, the Southbound is not waited for.
    expect(readiness(input({ config: { ovs: 'unix:/o' }, node: { ovs: online, sb: undefined } })).ready).toBe(
      true,
    );
  });

  it('as writer, needs a first pass and a last pass that succeeded', () => {
    expect(
      readiness(input({ reconcile: { passes: 0, consecutiveFailures: 0, lastError: undefined } })).reasons,
    ).toEqual(['reconcile: no pass has completed yet']);
    expect(
      readiness(input({ reconcile: { passes: 4, consecutiveFailures: 1, lastError: 'not owner' } })).reasons,
    ).toEqual(['reconcile: the last pass failed (1 in a row): not owner']);
  });

  it('as standby, does not wait for passes it does not run', () => {
    const r = readiness(
      input({ writer: false, reconcile: { passes: 0, consecutiveFailures: 2, lastError: 'stolen' } }),
    );
    expect(r).toMatchObject({ ready: true, writer: false });
  });
});
