/**
 * The NAT gateway seed in a real Northbound with ovn-northd: the external network leaves no row,
 * and northd turns the gateway's policies into the VPC router's reroute to lanIp.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agent/run.js';
import { makeTmpDir } from '../../harness/index.js';
import { FAST, nbctl, sbctl, until, useCentral } from './nb/helpers.js';

const env = useCentral();

describe('vpc-nat-gateway in Northbound', () => {
  it('routes translated sources to lanIp through the VPC router; nothing of the external network in OVN', async () => {
    const { central } = env;
    const dir = await makeTmpDir('natgw');
    await cp(path.resolve('examples/vpc-nat-gateway'), dir, { recursive: true });
    const agent = createAgent({}, { manifests: dir, nb: central.nb.unix, lockName: 'test_natgw', ...FAST });
    try {
      await agent.start();
      await until(() => agent.engine.stats.transactions >= 1, 'first transaction');
      await agent.engine.settled();
      expect(agent.engine.problems()).toEqual([]);
      const policies = await nbctl(central, 'lr-policy-list', 'vpc-nat');
      expect(policies).toMatch(
        /29100\s+ip4\.src == \{172\.30\.10\.0\/24, 172\.30\.10\.20\/32\} && ip4\.dst == 172\.30\.10\.0\/24\s+allow/,
      );
      expect(policies).toMatch(
        /29000\s+ip4\.src == \{172\.30\.10\.0\/24, 172\.30\.10\.20\/32\}\s+reroute\s+172\.30\.10\.254/,
      );
      expect(await nbctl(central, '--bare', '--columns=name', 'list', 'Logical_Switch')).not.toContain(
        'subnetexternal',
      );
      expect(await nbctl(central, 'show')).not.toContain('10.115.');

      await nbctl(central, '--wait=sb', 'sync');
      const flows = (await sbctl(central, 'lflow-list', 'vpc-nat'))
        .split('\n')
        .filter((l) => l.includes('lr_in_policy'));
      expect(flows.some((l) => l.includes('priority=29000') && l.includes('reg0 = 172.30.10.254'))).toBe(
        true,
      );
      expect(flows.some((l) => l.includes('priority=29100') && l.includes('next;'))).toBe(true);
    } finally {
      await agent.stop();
    }
  });
});
