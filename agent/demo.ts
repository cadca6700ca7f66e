/**
 * `vpc-agent demo`: the README's first command. Brings up the local OVN sandbox (the
 * embedded default), puts two VMs on two subnets of one VPC router — the seeds' vpc-1
 * topology, 172.20.10.0/24 and 172.20.20.0/24 — and shows them pinging each other
 * through OVN, then tears everything down (unless `--keep`).
 *
 * Until the Northbound reconciler exists, the logical topology is created here with
 * `ovn-nbctl`; later the agent itself will program it from examples/ manifests.
 */
import type { Command } from 'commander';
import { createSandbox, DEFAULT_STATE_DIR, type Sandbox } from './sandbox/sandbox.js';

interface DemoOptions {
  stateDir: string;
  keep: boolean;
}

const SUBNETS = [
  { ls: 'vswitch1', cidr: '172.20.10.0/24', gw: '172.20.10.1', lrpMac: '00:00:00:14:0a:01' },
  { ls: 'vswitch2', cidr: '172.20.20.0/24', gw: '172.20.20.1', lrpMac: '00:00:00:14:14:01' },
] as const;
const VMS = [
  { name: 'vm1', ls: 'vswitch1', mac: '00:00:00:14:0a:0a', ip: '172.20.10.10', gw: '172.20.10.1' },
  { name: 'vm2', ls: 'vswitch2', mac: '00:00:00:14:14:0a', ip: '172.20.20.10', gw: '172.20.20.1' },
] as const;

const say = (line: string) => process.stdout.write(line + '\n');

async function buildTopology(sb: Sandbox): Promise<void> {
  const args: string[] = ['lr-add', 'vpc-1'];
  for (const s of SUBNETS) {
    const prefix = s.cidr.split('/')[1];
    const lrp = `vpc-1-${s.ls}`;
    args.push('--', 'lrp-add', 'vpc-1', lrp, s.lrpMac, `${s.gw}/${prefix}`);
    args.push('--', 'ls-add', s.ls);
    args.push('--', 'lsp-add', s.ls, `${s.ls}-vpc-1`, '--', 'lsp-set-type', `${s.ls}-vpc-1`, 'router');
    args.push('--', 'lsp-set-addresses', `${s.ls}-vpc-1`, 'router');
    args.push('--', 'lsp-set-options', `${s.ls}-vpc-1`, `router-port=${lrp}`);
  }
  for (const vm of VMS) {
    args.push('--', 'lsp-add', vm.ls, vm.name, '--', 'lsp-set-addresses', vm.name, `${vm.mac} ${vm.ip}`);
  }
  await sb.nbctl('--wait=hv', ...args);
}

async function ping(sb: Sandbox, from: string, to: string): Promise<string | undefined> {
  // The first packet may race the flows of a just-bound port; retry briefly.
  for (let i = 0; i < 20; i++) {
    const r = await sb.exec(from, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', to], { reject: false });
    if (r.exitCode === 0)
      return r.stdout
        .split('\n')
        .filter((l) => /packets|rtt/.test(l))
        .join('\n    ');
  }
  return undefined;
}

/** Runs the demo; resolves to true when every ping went through. */
export async function runDemo(opts: DemoOptions): Promise<boolean> {
  const t0 = performance.now();
  say(`Starting the local OVN sandbox in ${opts.stateDir} ...`);
  const sb = await createSandbox({ stateDir: opts.stateDir, nodes: 1 });
  let ok = false;
  try {
    const up = ((performance.now() - t0) / 1000).toFixed(2);
    say(`  up in ${up} s:`);
    for (const p of sb.state.processes) say(`    ${p.name.padEnd(28)} pid ${p.pid}`);
    say(`  Northbound: ${sb.state.nb?.db}`);
    say(`  Southbound: ${sb.state.sb?.db}`);
    for (const n of sb.state.nodes) say(`  ${n.name}: network namespace ${n.netns}, OVS ${n.ovsRemote}`);

    say('\nVPC vpc-1 with subnets vswitch1 172.20.10.0/24 and vswitch2 172.20.20.0/24 (ovn-nbctl) ...');
    await buildTopology(sb);
    for (const vm of VMS) {
      const subnet = SUBNETS.find((s) => s.ls === vm.ls)!;
      await sb.addVm({
        name: vm.name,
        mac: vm.mac,
        cidr: `${vm.ip}/${subnet.cidr.split('/')[1]}`,
        gateway: vm.gw,
      });
      say(`  ${vm.name}: ${vm.ip} on ${vm.ls}, a network namespace on ${sb.node().name}'s br-int`);
    }

    say('\nPings through OVN (inside the VM namespaces):');
    const results = await Promise.all([ping(sb, 'vm1', '172.20.20.10'), ping(sb, 'vm2', '172.20.10.10')]);
    results.forEach((r, i) => {
      const [a, b] = i === 0 ? ['vm1', 'vm2'] : ['vm2', 'vm1'];
      say(`  ${a} -> ${b}: ${r ? 'ok\n    ' + r : 'FAILED'}`);
    });
    ok = results.every((r) => r !== undefined);
  } finally {
    if (opts.keep) {
      say(`\nKept running. Stop it with: npx tsx agent/cli.ts sandbox down --state-dir ${opts.stateDir}`);
    } else {
      await sb.destroy();
      say('\nSandbox stopped and removed (processes stopped by PID, namespaces deleted).');
    }
  }
  say(ok ? '\nDemo OK.' : '\nDemo FAILED.');
  return ok;
}

/** Registers `vpc-agent demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start the local OVN sandbox, show two VMs on a VPC pinging through it, tear it down')
    .option('--state-dir <dir>', 'sandbox state directory', `${DEFAULT_STATE_DIR}/demo`)
    .option('--keep', 'leave the sandbox running', false)
    .action(async (opts: DemoOptions) => {
      if (!(await runDemo(opts))) process.exitCode = 1;
    });
}
