import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestError, ValidationError } from '../../../../agent/errors.js';
import { loadAndValidate, loadManifests, parseManifestText } from '../../../../agent/resources/loader.js';

const root = new URL('../../../../', import.meta.url).pathname;
const examples = join(root, 'examples');
const fixtures = join(root, 'test/fixtures/manifests');

describe('examples', () => {
  const scenarios = ['vpc-two-subnets', 'private-subnet', 'vpc-peering', 'vlan-underlay', 'nat-outgoing'];
  for (const s of scenarios) {
    it(`${s} validates clean on its own`, async () => {
      const r = await loadAndValidate(join(examples, s));
      expect(r.errors.map((e) => e.message)).toEqual([]);
      expect(r.valid.subnets.size).toBeGreaterThan(0);
    });
  }

  it('all load together without conflicts', async () => {
    const r = await loadAndValidate(examples);
    expect(r.errors.map((e) => e.message)).toEqual([]);
    expect([...r.valid.subnets.keys()].sort()).toEqual([
      'app-subnet',
      'db-subnet',
      'natgw-lan-subnet',
      'natted-subnet',
      'subnetexternal',
      'vlan2017-subnet',
      'vpcpeer-1-subnet',
      'vpcpeer-2-subnet',
      'vswitch1-subnet',
      'vswitch2-subnet',
    ]);
  });

  it('carry the seed topologies', async () => {
    const r = await loadAndValidate(examples);
    expect(r.valid.subnets.get('vswitch1-subnet')?.spec).toMatchObject({
      vpc: 'vpc-1',
      provider: 'vswitch1.default.ovn',
    });
    expect(r.valid.subnets.get('vswitch2-subnet')?.spec.cidr.text).toBe('172.20.20.0/24');
    expect(r.valid.vpcs.get('vpcpeer-1')?.spec.vpcPeerings[0]).toMatchObject({
      remoteVpc: 'vpcpeer-2',
      address: '169.254.0.1',
    });
    expect(r.valid.vpcs.get('vpcpeer-2')?.spec.staticRoutes[0]).toMatchObject({ nextHopIP: '169.254.0.1' });
    expect(r.valid.vlans.get('vlan2017')?.spec).toEqual({ id: 2017, provider: 'tor' });
    expect(r.valid.subnets.get('vlan2017-subnet')?.spec.vlan).toBe('vlan2017');
    expect(r.valid.subnets.get('db-subnet')?.spec.private).toBe(true);
    expect(r.valid.subnets.get('natted-subnet')?.spec).toMatchObject({
      vpc: 'ovn-cluster',
      natOutgoing: true,
    });
  });
});

describe('bad-input fixtures', () => {
  const cases: Record<string, string> = {
    'gateway-outside.yaml':
      'Subnet vswitch1: spec.gateway: 172.20.11.1 is not inside cidrBlock 172.20.10.0/24',
    'unknown-kind.yaml': 'SecurityGroup sg1: kind: unknown kind',
    'unknown-field.yaml': 'Subnet typo: spec.natOutgoin: unknown field',
    'overlapping-subnets.yaml': 'Subnet narrow: spec.cidrBlock: 172.20.10.0/24 overlaps Subnet wide',
    'one-sided-peering.yaml':
      'Vpc vpcpeer-1: spec.vpcPeerings[0].remoteVpc: Vpc vpcpeer-2 does not list vpcpeer-1',
    'nad-without-subnet.yaml':
      'NetworkAttachmentDefinition default/orphan: spec.config.provider: no Subnet has provider',
    'shared-provider.yaml':
      'Subnet second: spec.provider: vswitch1.default.ovn is already the provider of Subnet first',
    'vlan-out-of-range.yaml': 'Vlan vlan5000: spec.id: 5000 is out of range 0..4094',
    'peering-with-default.yaml':
      'Vpc vpc-1: spec.vpcPeerings[0].remoteVpc: peering is only between custom VPCs',
  };
  for (const [file, message] of Object.entries(cases)) {
    it(`${file} → ${message}`, async () => {
      const r = await loadAndValidate(join(fixtures, file));
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]?.message.startsWith(message)).toBe(true);
      expect((r.errors[0] as ValidationError).source).toMatchObject({ file: join(fixtures, file) });
    });
  }

  it('a directory: reads nested .yml, skips hidden and non-manifest files, keeps the good beside the bad', async () => {
    const r = await loadAndValidate(join(fixtures, 'mixed'));
    expect(r.files.map((f) => f.slice(fixtures.length + 1))).toEqual([
      'mixed/good.yaml',
      'mixed/nested/bad.yml',
    ]);
    expect(r.errors.map((e) => e.message)).toEqual([
      'Subnet bad: spec.excludeIps[0]: 10.61.0.1 is not inside cidrBlock 10.60.0.0/24',
    ]);
    expect([...r.valid.subnets.keys()]).toEqual(['good']);
  });
});

describe('parsing', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpc-agent-loader-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a YAML syntax error names the file, the document index and the line; other documents still load', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(
      file,
      'apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata:\n  name: fine\n---\napiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata:\n  name: broken\nspec:\n  excludeIps: [10.0.0.2,\n',
    );
    const r = await loadManifests(dir);
    expect(r.resources.map((x) => x.meta.name)).toEqual(['fine']);
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0] as ManifestError;
    expect(e).toBeInstanceOf(ManifestError);
    expect(e.file).toBe(file);
    expect(e.document).toBe(1);
    expect(e.line).toBeGreaterThan(5);
    expect(e.message).toMatch(new RegExp(`^${file}, document 1, line \\d+: YAML: `));
  });

  it('document indexes count empty documents; a List is expanded', () => {
    const text = [
      '---',
      '# only a comment',
      '---',
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - {apiVersion: kubeovn.io/v1, kind: Vpc, metadata: {name: a}}',
      '  - {apiVersion: kubeovn.io/v1, kind: Vpc, metadata: {name: b}, spec: {bogus: 1}}',
    ].join('\n');
    const r = parseManifestText(text, 'list.yaml');
    expect(r.resources.map((x) => x.meta.name)).toEqual(['a']);
    expect(r.errors.map((e) => e.message)).toEqual(['Vpc b: spec.bogus: unknown field']);
    expect((r.errors[0] as ValidationError).source).toEqual({ file: 'list.yaml', document: 1 });
  });

  it('a document that is not a mapping is an error', () => {
    const r = parseManifestText('- a\n- b\n', 'seq.yaml');
    expect(r.errors[0]?.message).toMatch(/document is not a mapping/);
  });

  it('follows symlinks (as in a mounted ConfigMap) and reads a single file', async () => {
    await mkdir(join(dir, '..data'));
    await writeFile(
      join(dir, '..data', 'vpc.yaml'),
      'apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata: {name: linked}\n',
    );
    await symlink(join(dir, '..data', 'vpc.yaml'), join(dir, 'vpc.yaml'));
    const r = await loadManifests(dir);
    expect(r.resources.map((x) => x.meta.name)).toEqual(['linked']);
    const single = await loadManifests(join(dir, 'vpc.yaml'));
    expect(single.resources).toHaveLength(1);
  });

  it('a missing path is a manifest error', async () => {
    const r = await loadAndValidate(join(dir, 'nope'));
    expect(r.errors[0]).toBeInstanceOf(ManifestError);
    expect(r.errors[0]?.code).toBe('ERR_MANIFEST');
  });
});
