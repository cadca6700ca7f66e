/**
 * The issue-4 benchmark topology as Kube-OVN manifests: V VPCs × S subnets each (a /24 per
 * subnet, every other subnet `private` with the next subnet in `allowSubnets`), one kube-ovn
 * NetworkAttachmentDefinition per subnet, and P VM ports per subnet (names only — addresses come
 * from IPAM in the agent process, as in the product).
 *
 * Written as one multi-document YAML file per VPC, so the agent reads it through the same
 * loader, validation and watcher it uses for a user's directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';

export interface NbTopologySize {
  vpcs: number;
  subnetsPerVpc: number;
  portsPerSubnet: number;
}

/** 1,000 subnets in 100 VPCs with 10,000 ports. */
export const FULL_TOPOLOGY: NbTopologySize = { vpcs: 100, subnetsPerVpc: 10, portsPerSubnet: 10 };
/** `--quick`: a tenth of it. */
export const QUICK_TOPOLOGY: NbTopologySize = { vpcs: 10, subnetsPerVpc: 10, portsPerSubnet: 10 };

/** A VM port the agent allocates through IPAM: `name` is also the IPAM owner. */
export interface BenchPort {
  subnet: string;
  name: string;
}

const subnetName = (v: number, s: number) => `s${v}-${s}`;

/** Second and third octets of subnet `s` of VPC `v` (up to 256·256 subnets, all inside 10/8). */
function octets(v: number, s: number, perVpc: number): [number, number] {
  const n = v * perVpc + s;
  return [Math.floor(n / 256), n % 256];
}

function vpcDocs(v: number, size: NbTopologySize): object[] {
  const vpc = `vpc${v}`;
  const docs: object[] = [{ apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: vpc }, spec: {} }];
  for (let s = 0; s < size.subnetsPerVpc; s++) {
    const name = subnetName(v, s);
    const [a, b] = octets(v, s, size.subnetsPerVpc);
    const [na, nb] = octets(v, (s + 1) % size.subnetsPerVpc, size.subnetsPerVpc);
    docs.push(
      {
        apiVersion: 'kubeovn.io/v1',
        kind: 'Subnet',
        metadata: { name },
        spec: {
          cidrBlock: `10.${a}.${b}.0/24`,
          vpc,
          provider: `${name}.default.ovn`,
          private: s % 2 === 0,
          allowSubnets: [`10.${na}.${nb}.0/24`],
        },
      },
      {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name, namespace: 'default' },
        spec: {
          config: JSON.stringify({
            cniVersion: '0.3.1',
            type: 'kube-ovn',
            server_socket: '/run/openvswitch/kube-ovn-daemon.sock',
            provider: `${name}.default.ovn`,
          }),
        },
      },
    );
  }
  return docs;
}

/** Writes the manifests into `dir` (one file per VPC); returns the number of documents. */
export async function writeTopology(dir: string, size: NbTopologySize): Promise<number> {
  await mkdir(dir, { recursive: true });
  let n = 0;
  for (let v = 0; v < size.vpcs; v++) {
    const docs = vpcDocs(v, size);
    n += docs.length;
    await writeFile(path.join(dir, `vpc${v}.yaml`), docs.map((d) => stringify(d)).join('---\n'));
  }
  return n;
}

/** The VM ports of the topology, in a fixed order. */
export function topologyPorts(size: NbTopologySize): BenchPort[] {
  const out: BenchPort[] = [];
  for (let v = 0; v < size.vpcs; v++) {
    for (let s = 0; s < size.subnetsPerVpc; s++) {
      const subnet = subnetName(v, s);
      for (let p = 0; p < size.portsPerSubnet; p++) out.push({ subnet, name: `${subnet}.vm${p}` });
    }
  }
  return out;
}

/** Desired NB rows the topology builds (docs/northbound.md "Rows per resource"). */
export function expectedRows(size: NbTopologySize): Record<string, number> {
  const subnets = size.vpcs * size.subnetsPerVpc;
  const privates = size.vpcs * Math.ceil(size.subnetsPerVpc / 2);
  return {
    Logical_Router: size.vpcs, // the undeclared ovn-cluster has no subnets here: no router
    Logical_Switch: subnets,
    Logical_Router_Port: subnets,
    Logical_Switch_Port: subnets * (1 + size.portsPerSubnet),
    DHCP_Options: subnets,
    ACL: privates * 5,
  };
}
