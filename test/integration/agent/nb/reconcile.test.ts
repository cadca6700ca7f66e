/**
 * The reconcile engine against a real NB ovsdb-server + ovn-northd: rows appear, a second pass
 * sends nothing, drift by ovn-nbctl is repaired, foreign rows are never touched, deleting
 * everything leaves no owned rows, and with two agents only the lock holder writes until it
 * dies and the standby takes over.
 */
import { describe, expect, it } from 'vitest';
import { handBuilt, nbctl, ownedDump, startTestAgent, until, useCentral } from './helpers.js';

const env = useCentral();

describe('NB reconcile engine on a real ovsdb-server', () => {
  it('converges, sends nothing on a second pass, repairs drift, leaves foreign rows, prunes', async () => {
    const { central } = env;
    const agent = await startTestAgent(central, 'test_engine_single');
    try {
      await nbctl(central, 'ls-add', 'foreign');
      await nbctl(central, 'lsp-add', 'foreign', 'foreign-p1');
      const state = handBuilt({ sw1: ['vm1', 'vm2'], sw2: ['vm1'] });
      agent.engine.setDesired(state, { complete: true });
      await until(() => agent.writer.isWriter() && agent.engine.stats.transactions >= 1, 'first transaction');
      await agent.engine.settled();
      expect(await nbctl(central, '--bare', '--columns=name', 'list', 'Logical_Switch_Port')).toContain(
        'sw1-vm2',
      );
      expect(await ownedDump(central)).toEqual({ Logical_Switch: 2, Logical_Switch_Port: 3, ACL: 2 });
      expect(agent.engine.stats.transactions).toBe(1);

      // A second pass with no change sends nothing.
      const again = await agent.engine.reconcileNow();
      expect(again.sent).toBe(false);
      expect(agent.engine.stats.transactions).toBe(1);

      // Out-of-band deletion of an owned switch and edit of an owned port column are repaired.
      await nbctl(central, 'ls-del', 'sw2');
      await nbctl(central, 'lsp-set-addresses', 'sw1-vm1', 'dynamic');
      await until(
        async () =>
          (await nbctl(central, '--bare', '--columns=name', 'list', 'Logical_Switch')).includes('sw2') &&
          (await nbctl(central, 'lsp-get-addresses', 'sw1-vm1')) === '0a:00:00:00:00:02 10.0.0.2',
        'drift repaired',
      );
      await agent.engine.settled();
      expect(await ownedDump(central)).toEqual({ Logical_Switch: 2, Logical_Switch_Port: 3, ACL: 2 });

      // A foreign port put into our switch survives our updates.
      await nbctl(central, 'lsp-add', 'sw1', 'intruder');
      agent.engine.setDesired(handBuilt({ sw1: ['vm1'], sw2: ['vm1'] }), { complete: true });
      await until(
        async () =>
          !(await nbctl(central, '--bare', '--columns=name', 'list', 'Logical_Switch_Port')).includes(
            'sw1-vm2',
          ),
        'vm2 gone',
      );
      await agent.engine.settled();
      const ports = await nbctl(central, '--bare', '--columns=name', 'list', 'Logical_Switch_Port');
      expect(ports.split('\n').filter(Boolean).sort()).toEqual([
        'foreign-p1',
        'intruder',
        'sw1-vm1',
        'sw2-vm1',
      ]);

      // Deleting everything from the desired state leaves no owned rows; foreign rows stay.
      agent.engine.setDesired(new Map(), { complete: true });
      await until(async () => Object.keys(await ownedDump(central)).length === 0, 'owned rows gone');
      const left = (await nbctl(central, '--bare', '--columns=name', 'list', 'Logical_Switch'))
        .split('\n')
        .filter(Boolean);
      expect(left).toEqual(['foreign']);
      expect(await nbctl(central, 'lsp-list', 'foreign')).toContain('foreign-p1');
      expect(agent.engine.health().healthy).toBe(true);
    } finally {
      await agent.close();
      await nbctl(central, '--if-exists', 'ls-del', 'foreign');
    }
  });

  it('two agents: only the lock holder writes; the standby takes over when the writer dies', async () => {
    const { central } = env;
    const lock = 'test_engine_pair';
    const a = await startTestAgent(central, lock);
    await until(() => a.writer.isWriter(), 'a is writer');
    const b = await startTestAgent(central, lock);
    try {
      const state = handBuilt({ pair1: ['vm1'] });
      a.engine.setDesired(state, { complete: true });
      b.engine.setDesired(state, { complete: true });
      await until(async () => (await ownedDump(central))['Logical_Switch'] === 1, 'a converged');
      await a.engine.settled();
      await b.engine.settled();
      expect(b.writer.isWriter()).toBe(false);
      expect(b.engine.stats.passes).toBe(0);
      expect(a.engine.stats.transactions).toBe(1);

      // The writer dies; the standby gets `locked` and converges a newer desired state.
      await a.close();
      const next = handBuilt({ pair1: ['vm1', 'vm2'], pair2: [] });
      b.engine.setDesired(next, { complete: true });
      await until(() => b.writer.isWriter(), 'b became writer');
      await until(async () => (await ownedDump(central))['Logical_Switch'] === 2, 'b converged');
      await b.engine.settled();
      expect(b.engine.stats.transactions).toBe(1);
      expect(await ownedDump(central)).toEqual({ Logical_Switch: 2, Logical_Switch_Port: 2, ACL: 2 });
      b.engine.setDesired(new Map(), { complete: true });
      await until(async () => Object.keys(await ownedDump(central)).length === 0, 'cleaned');
    } finally {
      await a.close().catch(() => undefined);
      await b.close();
    }
  });
});
