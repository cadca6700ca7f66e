import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerValidateCommand, runValidate } from '../../../../agent/resources/cli.js';

const root = new URL('../../../../', import.meta.url).pathname;
const sink = () => {
  let text = '';
  return { write: (s: string) => (text += s), text: () => text };
};

describe('vpc-agent validate', () => {
  it('exits 0 with a summary for the examples', async () => {
    const out = sink();
    expect(await runValidate(join(root, 'examples'), {}, out)).toBe(0);
    expect(out.text()).toMatch(
      /^7 file\(s\); valid: 5 Vpc, 10 Subnet, 10 NetworkAttachmentDefinition, 1 ProviderNetwork, 1 Vlan, 1 VpcNatGateway, 1 IptablesEIP, 1 IptablesSnatRule, 1 IptablesDnatRule; 0 error\(s\)\n$/,
    );
  });

  it('prints each error with kind/name/field and source, and exits 1', async () => {
    const out = sink();
    const file = join(root, 'test/fixtures/manifests/mixed');
    expect(await runValidate(file, {}, out)).toBe(1);
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toBe(
      `error: Subnet bad: spec.excludeIps[0]: 10.61.0.1 is not inside cidrBlock 10.60.0.0/24 [${file}/nested/bad.yml, document 0]`,
    );
    expect(lines[1]).toMatch(/valid: 1 Subnet; 1 error\(s\)/);
  });

  it('--json gives a machine-readable report', async () => {
    const out = sink();
    await runValidate(join(root, 'test/fixtures/manifests/gateway-outside.yaml'), { json: true }, out);
    const report = JSON.parse(out.text());
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([
      expect.objectContaining({
        code: 'ERR_VALIDATION',
        kind: 'Subnet',
        name: 'vswitch1',
        field: 'spec.gateway',
      }),
    ]);
  });

  it('registers on a commander program and sets the exit code', async () => {
    const program = new Command().exitOverride();
    registerValidateCommand(program);
    const before = process.exitCode;
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await program.parseAsync([
        'node',
        'vpc-agent',
        'validate',
        '-f',
        join(root, 'test/fixtures/manifests/unknown-kind.yaml'),
      ]);
      expect(process.exitCode).toBe(1);
    } finally {
      process.stdout.write = write;
      process.exitCode = before;
    }
  });
});
