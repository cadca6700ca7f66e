/**
 * The `ports` benchmark's network: one VPC (logical router) with two /16 subnets. For our agent
 * it is a manifest directory (Vpc, two Subnets, a kube-ovn NAD per subnet) and the agent builds
 * the NB rows; for the shell agent the bench creates the equivalent router, switches and router
 * ports with `ovn-nbctl` before anything is timed (ovn-nb(5): Logical_Router, Logical_Switch,
 * Logical_Router_Port, Logical_Switch_Port type `router`).
 *
 * Ports alternate between the subnets; each pings its own subnet's gateway (the router port's
 * address, answered by OVN's logical router on this chassis).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PortSpec } from './measure.js';

export interface BenchSubnet {
  name: string;
  /** NAD `<namespace>/<name>`. */
  network: string;
  provider: string;
  /** First two octets, e.g. `10.210`: the subnet is `<prefix>.0.0/16`. */
  prefix: string;
  gateway: string;
}

export const VPC = 'bench-vpc';
/** The MTU our agent gives overlay ports (DEFAULT_BUILD_OPTIONS.overlayMtu); the shell uses the same. */
export const PORT_MTU = 1400;

export const SUBNETS: readonly BenchSubnet[] = [0, 1].map((i) => ({
  name: `bench-subnet-${i}`,
  network: `default/bench-net-${i}`,
  provider: `bench-net-${i}.default.ovn`,
  prefix: `10.${210 + i}`,
  gateway: `10.${210 + i}.0.1`,
}));

/** Port specs `first .. first+count-1`; namespaces are `<sandbox id>-p<index>` (destroy finds them). */
export function portSpecs(sandboxId: string, first: number, count: number): PortSpec[] {
  return Array.from({ length: count }, (_, k) => {
    const index = first + k;
    const subnet = index % SUBNETS.length;
    return { index, netns: `${sandboxId}-p${index}`, subnet, gateway: SUBNETS[subnet]!.gateway };
  });
}

/** The manifest directory our agent watches. */
export async function writeManifests(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const docs = [
    `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata:\n  name: ${VPC}\nspec: {}\n`,
    ...SUBNETS.flatMap((s) => [
      [
        'apiVersion: kubeovn.io/v1',
        'kind: Subnet',
        'metadata:',
        `  name: ${s.name}`,
        'spec:',
        '  protocol: IPv4',
        `  vpc: ${VPC}`,
        `  cidrBlock: ${s.prefix}.0.0/16`,
        `  gateway: ${s.gateway}`,
        `  provider: ${s.provider}`,
        '',
      ].join('\n'),
      [
        'apiVersion: k8s.cni.cncf.io/v1',
        'kind: NetworkAttachmentDefinition',
        'metadata:',
        `  name: ${s.network.split('/')[1]}`,
        `  namespace: ${s.network.split('/')[0]}`,
        'spec:',
        `  config: '{"cniVersion":"0.3.1","type":"kube-ovn","provider":"${s.provider}"}'`,
        '',
      ].join('\n'),
    ]),
  ];
  await writeFile(path.join(dir, 'bench.yaml'), docs.join('---\n'));
}

/** Router port MAC of subnet `i` (locally administered). */
const routerMac = (i: number) => `0a:58:0a:ff:00:${(i + 1).toString(16).padStart(2, '0')}`;

/**
 * `ovn-nbctl` argument lists (one invocation, `--` separated) creating the shell side's router,
 * switches and router port pairs: the state our agent derives from the manifests above.
 */
export function shellTopologyArgs(): string[] {
  const args: string[] = ['lr-add', VPC];
  SUBNETS.forEach((s, i) => {
    const lrp = `${VPC}-${s.name}`;
    const lsp = `${s.name}-${VPC}`;
    args.push(
      ...['--', 'ls-add', s.name],
      ...['--', 'set', 'Logical_Switch', s.name, `other_config:subnet=${s.prefix}.0.0/16`],
      ...['--', 'lrp-add', VPC, lrp, routerMac(i), `${s.gateway}/16`],
      ...['--', 'lsp-add', s.name, lsp],
      ...['--', 'lsp-set-type', lsp, 'router'],
      ...['--', 'lsp-set-addresses', lsp, 'router'],
      ...['--', 'lsp-set-options', lsp, `router-port=${lrp}`],
    );
  });
  return args;
}

/**
 * The shell agent's address for port `index` (no IPAM: the script picks it): host part
 * index + 10 in its subnet, MAC `0a:58` + the IPv4 octets (Kube-OVN's scheme).
 */
export function shellAddress(spec: PortSpec): { ip: string; mac: string; cidr: string } {
  const s = SUBNETS[spec.subnet]!;
  const host = spec.index + 10;
  const ip = `${s.prefix}.${host >> 8}.${host & 255}`;
  const mac = `0a:58:${ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join(':')}`;
  return { ip, mac, cidr: `${ip}/16` };
}
