/**
 * deploy/: every manifest is valid against the Kubernetes schemas (kubernetes-models), and the
 * manifests agree with each other, with the agent's CLI and with the Kubernetes source: ports
 * named in probes exist, the service account exists and is bound, config keys exist, every
 * mount has a volume, the RBAC rules and the CRDs cover every watched kind.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Command } from 'commander';
import type { ParsedRunFlags } from '../../../agent/config/flags.js';
import { envName } from '../../../agent/config/layers.js';
import { registerRunCommand } from '../../../agent/run-cli.js';
import { WATCHED_KINDS } from '../../../agent/sources/kubernetes/kinds.js';
import {
  byKind,
  configMapData,
  envOf,
  loadDeploy,
  podSpec,
  substitute,
  type Manifest,
  validate,
} from './manifests.js';

const docs = loadDeploy();
const daemonSet = byKind<DaemonSet>(docs, 'DaemonSet')[0]!;
const spec = podSpec(daemonSet);
const agent = spec.containers.find((c) => c.name === 'vpc-agent')!;
const installCni = spec.initContainers?.find((c) => c.name === 'install-cni');

describe('deploy/ manifests', () => {
  it('are every one valid against the Kubernetes schemas', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata?.name}`)).toEqual(
      expect.arrayContaining([
        'DaemonSet/vpc-agent',
        'ServiceAccount/vpc-agent',
        'ClusterRole/vpc-agent',
        'ClusterRoleBinding/vpc-agent',
        'ConfigMap/vpc-agent-config',
        'NetworkAttachmentDefinition/vswitch1',
      ]),
    );
    for (const doc of docs) expect(() => validate(doc), `${doc.file}: ${doc.kind}`).not.toThrow();
  });

  it('the validator rejects a wrong type (so the test above can fail)', () => {
    const broken = structuredClone(daemonSet.toJSON()) as Manifest;
    (
      broken as unknown as { spec: { template: { spec: { containers: { ports: unknown[] }[] } } } }
    ).spec.template.spec.containers[0]!.ports[0] = { containerPort: 'nine' };
    expect(() => validate({ ...broken, file: 'broken' })).toThrow(/containerPort must be integer/);
  });

  it('kustomization.yaml lists every manifest file of deploy/', () => {
    const files = new Set(docs.filter((d) => !d.file.startsWith('examples/')).map((d) => d.file));
    const kustomization = readFileSync(
      new URL('../../../deploy/kustomization.yaml', import.meta.url),
      'utf8',
    );
    const listed = [...kustomization.matchAll(/^\s+- (\S+\.yaml)$/gm)].map((m) => m[1]);
    expect(new Set(listed)).toEqual(files);
  });

  it('probes use ports the container declares; the metrics port is the one the agent listens on', () => {
    const ports = new Map((agent.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const probe of [agent.startupProbe, agent.livenessProbe, agent.readinessProbe]) {
      expect(probe?.httpGet).toBeDefined();
      expect(ports.has(String(probe!.httpGet!.port))).toBe(true);
    }
    expect(agent.livenessProbe!.httpGet!.path).toBe('/healthz');
    expect(agent.readinessProbe!.httpGet!.path).toBe('/readyz');
    const metricsPort = ports.get('metrics');
    expect(metricsPort).toBeGreaterThan(0);
    const listen = configMapData(docs, 'vpc-agent-config')['VPC_AGENT_LISTEN'];
    expect(listen?.endsWith(`:${metricsPort}`)).toBe(true);
    expect(daemonSet.spec!.template.metadata!.annotations!['prometheus.io/port']).toBe(String(metricsPort));
    // The image's HEALTHCHECK asks the same port.
    const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toContain(`VPC_AGENT_HEALTH_URL=http://127.0.0.1:${metricsPort}/healthz`);
  });

  it('the service account exists and is bound to the ClusterRole', () => {
    const ns = daemonSet.metadata!.namespace;
    const sa = byKind<ServiceAccount>(docs, 'ServiceAccount').find(
      (s) => s.metadata?.name === spec.serviceAccountName && s.metadata?.namespace === ns,
    );
    expect(sa).toBeDefined();
    const binding = byKind<ClusterRoleBinding>(docs, 'ClusterRoleBinding')[0]!;
    expect(binding.subjects).toContainEqual({
      kind: 'ServiceAccount',
      name: spec.serviceAccountName,
      namespace: ns,
    });
    expect(byKind<ClusterRole>(docs, 'ClusterRole').map((r) => r.metadata?.name)).toContain(
      binding.roleRef.name,
    );
  });

  it('every ConfigMap key the pod reads exists, and every $(VAR) in the args is defined', () => {
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref)
          expect(Object.keys(configMapData(docs, ref.name!)), `${c.name} env ${e.name}`).toContain(ref.key);
      }
      for (const e of c.envFrom ?? [])
        if (e.configMapRef) expect(() => configMapData(docs, e.configMapRef!.name!)).not.toThrow();
      const defined = new Set((c.env ?? []).map((e) => e.name));
      for (const arg of [...(c.command ?? []), ...(c.args ?? [])])
        for (const m of arg.matchAll(/\$\(([A-Z0-9_]+)\)/g))
          expect(defined, `${c.name}: ${arg}`).toContain(m[1]);
    }
  });

  it("the agent's args and environment (the ConfigMap) are settings `vpc-agent run` accepts", async () => {
    const env = envOf(agent, docs, { VPC_AGENT_NODE: 'node1' });
    const program = new Command().exitOverride();
    registerRunCommand(program, async () => {});
    const run = program.commands.find((c) => c.name() === 'run')!;
    // Every variable names a flag: a misspelt one would be ignored without a word.
    const known = new Set(run.options.map((o) => envName(o)));
    expect(Object.keys(env).filter((k) => k.startsWith('VPC_AGENT_') && !known.has(k))).toEqual([]);
    const args = (agent.args ?? []).map((a) => substitute(a, env));
    expect(args[0]).toBe('run');
    let parsed: ParsedRunFlags | undefined;
    const saved = { ...process.env };
    try {
      Object.assign(process.env, env);
      const p2 = new Command().exitOverride();
      registerRunCommand(p2, async (x) => {
        parsed = x;
      });
      await p2.parseAsync(['node', 'vpc-agent', ...args]);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(parsed?.kubernetes).toBeDefined();
    expect(parsed?.config.node).toBe('node1');
    expect(parsed?.config.nb).toBe(env['VPC_AGENT_NB']);
    expect(parsed?.config.listen).toBe(env['VPC_AGENT_LISTEN']);
  });

  it('every volumeMount has a volume, and every volume is mounted', () => {
    const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
    const mounted = new Set<string>();
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])])
      for (const m of c.volumeMounts ?? []) {
        expect(volumes, `${c.name} mounts ${m.name}`).toContain(m.name);
        mounted.add(m.name);
      }
    expect(mounted).toEqual(volumes);
  });

  it("mounts the node's OVS, OVN and netns directories; Bidirectional only where privileged", () => {
    const hostPathOf = (mountPath: string) => {
      const m = agent.volumeMounts!.find((v) => v.mountPath === mountPath);
      return spec.volumes!.find((v) => v.name === m?.name)?.hostPath?.path;
    };
    expect(hostPathOf('/run/openvswitch')).toBe('/run/openvswitch');
    expect(hostPathOf('/run/ovn')).toBe('/run/ovn');
    expect(hostPathOf('/run/netns')).toBe('/run/netns');
    expect(spec.hostNetwork).toBe(true);
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])])
      if (c.volumeMounts?.some((m) => m.mountPropagation === 'Bidirectional'))
        expect(
          c.securityContext?.privileged,
          `${c.name}: Kubernetes allows Bidirectional only when privileged`,
        ).toBe(true);
  });

  it('the init container installs the thin plugin as kube-ovn and vpc-agent-cni, the self-contained one beside them', () => {
    expect(installCni).toBeDefined();
    const script = [...(installCni!.command ?? []), ...(installCni!.args ?? [])].join('\n');
    expect(script).toContain('/opt/vpc-agent/dist/cni');
    // The Dockerfile checks that the native thin plugin the init container installs was built.
    const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toContain('test -x dist/cni/vpc-agent-cni-thin');
    for (const line of [
      'install vpc-agent-cni vpc-agent-cni-bin',
      'install vpc-agent-cni-thin kube-ovn',
      'install vpc-agent-cni-thin vpc-agent-cni',
    ])
      expect(script).toContain(line);
    const mount = installCni!.volumeMounts!.find((m) => script.includes(m.mountPath))!;
    expect(spec.volumes!.find((v) => v.name === mount.name)?.hostPath?.path).toBe('/opt/cni/bin');
  });

  it('RBAC grants list/watch of every watched kind, status writes of the kubeovn.io kinds, Pods, Nodes, Events', () => {
    const rules = byKind<ClusterRole>(docs, 'ClusterRole')[0]!.rules ?? [];
    const allows = (group: string, resource: string, verb: string) =>
      rules.some(
        (r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb),
      );
    for (const k of WATCHED_KINDS) {
      for (const verb of ['get', 'list', 'watch'])
        expect(allows(k.group, k.plural, verb), `${verb} ${k.plural}`).toBe(true);
      if (k.group === 'kubeovn.io')
        for (const verb of ['update', 'patch'])
          expect(allows(k.group, `${k.plural}/status`, verb), `${verb} ${k.plural}/status`).toBe(true);
      // Least privilege: the spec is the user's.
      for (const verb of ['create', 'update', 'patch', 'delete'])
        expect(allows(k.group, k.plural, verb)).toBe(false);
    }
    for (const r of ['pods', 'nodes']) expect(allows('', r, 'watch')).toBe(true);
    expect(allows('', 'events', 'create')).toBe(true);
    expect(rules.flatMap((r) => r.resources ?? [])).not.toContain('secrets');
    expect(rules.flatMap((r) => r.verbs)).not.toContain('*');
  });

  it('the CRDs define every watched kubeovn.io kind as the source reads it, with a status subresource', () => {
    const crds = byKind<CustomResourceDefinition>(docs, 'CustomResourceDefinition');
    const kubeovn = WATCHED_KINDS.filter((k) => k.group === 'kubeovn.io');
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(kubeovn.map((k) => k.kind).sort());
    for (const k of kubeovn) {
      const crd = crds.find((c) => c.spec.names.kind === k.kind)!;
      expect(crd.metadata?.name).toBe(`${k.plural}.${k.group}`);
      expect(crd.spec.group).toBe(k.group);
      expect(crd.spec.names.plural).toBe(k.plural);
      expect(crd.spec.scope).toBe(k.namespaced ? 'Namespaced' : 'Cluster');
      const version = crd.spec.versions.find((v) => v.name === k.version);
      expect(version?.served && version.storage).toBe(true);
      expect(version?.subresources?.status).toEqual({});
    }
  });

  it('the example NAD is the Kube-OVN form, and its provider is an example Subnet', () => {
    const nad = docs.find((d) => d.kind === 'NetworkAttachmentDefinition')!;
    const config = JSON.parse((nad as unknown as { spec: { config: string } }).spec.config) as Record<
      string,
      string
    >;
    expect(config['type']).toBe('kube-ovn');
    expect(config['server_socket']).toBe('/run/openvswitch/kube-ovn-daemon.sock');
    const subnets = docs.filter((d) => d.kind === 'Subnet') as unknown as { spec: { provider?: string } }[];
    expect(subnets.map((s) => s.spec.provider)).toContain(config['provider']);
  });
});
