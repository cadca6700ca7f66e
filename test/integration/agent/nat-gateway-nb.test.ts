/**
 * The NAT gateway seed in a real Northbound with ovn-northd: the external network leaves no row,
 * and northd turns the gateway's policies into the VPC router's reroute to lanIp.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agent/run.js';
import { exampleDir, FAST, nbctl, sbctl, until, useCentral } from './nb/helpers.js';

/** An IptablesEIP of gw1 without v4ip (allocated by the agent). */
const eipDoc = (name: string) =>
  `apiVersion: kubeovn.io/v1\nkind: IptablesEIP\nmetadata:\n  name: ${name}\nspec:\n  natGwDp: gw1\n`;

/** EIP name → address, from the records in Northbound (ovn-nbctl's view). */
async function eipRecords(central: Parameters<typeof nbctl>[0]): Promise<Record<string, string>> {
  const out = await nbctl(
    central,
    '--format=json',
    '--columns=addresses,external_ids',
    'list',
    'Address_Set',
  );
  const json = JSON.parse(out) as { data: [unknown, [string, [string, string][]]][] };
  const records: Record<string, string> = {};
  for (const [addresses, ids] of json.data) {
    const resource = ids[1].find(([k]) => k === 'vpc-agent.io/resource')?.[1] ?? '';
    records[resource.replace('IptablesEIP/', '')] = String(addresses);
  }
  return records;
}

const env = useCentral();

describe('vpc-nat-gateway in Northbound', () => {
  it('routes translated sources to lanIp through the VPC router; nothing of the external network in OVN', async () => {
    const { central } = env;
    const dir = await exampleDir('vpc-nat-gateway', 'natgw');
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
      expect(await nbctl(central, 'lr-route-list', 'vpc-nat')).toMatch(
        /0\.0\.0\.0\/0\s+172\.30\.10\.254 dst-ip/,
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

  it('an EIP without v4ip gets a free address of its external network, kept across restarts, freed on delete', async () => {
    const { central } = env;
    const dir = await exampleDir('vpc-nat-gateway', 'natgw-eip');
    await writeFile(path.join(dir, 'eip-a.yaml'), eipDoc('eip-a'));
    const config = { manifests: dir, nb: central.nb.unix, lockName: 'test_natgw_eip', ...FAST };
    const converged = async (
      agent: ReturnType<typeof createAgent>,
      what: (r: Record<string, string>) => boolean,
    ) => {
      await until(async () => what(await eipRecords(central)), 'EIP records');
      await agent.engine.settled();
      return eipRecords(central);
    };
    let agent = createAgent({}, config);
    let first: Record<string, string>;
    try {
      await agent.start();
      first = await converged(agent, (r) => r['eip-a'] !== undefined && r['eip-gw1'] !== undefined);
      expect(first['eip-gw1']).toBe('10.115.55.200');
      // 10.115.48.0/21 without network, gateway (.55.254) and the other EIP.
      expect(first['eip-a']).toMatch(/^10\.115\.(4[89]|5[0-5])\.\d+$/);
      expect(first['eip-a']).not.toBe('10.115.55.200');
    } finally {
      await agent.stop();
    }
    // A new agent (empty IPAM, as after a restart or on the standby that takes over) keeps it,
    // and gives a new EIP another address.
    await writeFile(path.join(dir, 'eip-b.yaml'), eipDoc('eip-b'));
    agent = createAgent({}, config);
    try {
      await agent.start();
      const again = await converged(agent, (r) => r['eip-b'] !== undefined);
      expect(again['eip-a']).toBe(first['eip-a']);
      expect(new Set(Object.values(again)).size).toBe(3);
      await rm(path.join(dir, 'eip-a.yaml'));
      const after = await converged(agent, (r) => r['eip-a'] === undefined);
      expect(Object.keys(after).sort()).toEqual(['eip-b', 'eip-gw1']);
      expect(agent.ipam.ownerOf('subnetexternal', first['eip-a']!)).toBeUndefined();
    } finally {
      await agent.stop();
    }
  });
});
