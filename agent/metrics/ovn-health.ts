/**
 * OVN health metrics (docs/metrics.md "OVN health"), read at scrape time through one shared
 * {@link createSampler} — a refresh at most once per `minIntervalMs` however many scrapes
 * arrive, concurrent scrapes sharing the refresh in flight:
 * - every NB and SB member: up, RAFT role, term, leader, majority contact, commit and apply
 *   backlog (./ovn-cluster.ts: `cluster/status` over the member's control socket, else its
 *   `_Server` row);
 * - ovn-controller of this node: up (its control socket answers) and its Southbound session
 *   (`connection-status`);
 * - ovn-northd, where its control socket is given or found by pidfile (it runs on the central
 *   nodes only): up, active (`status`) and its NB/SB sessions;
 * - from the Southbound (./ovn-sb.ts): logical flows and chassis (one counting transaction on a
 *   short connection), this chassis' bindings (the agent's SB cache) and this node's ports bound
 *   elsewhere or not at all.
 * Every source is read in parallel and never fails the others: one that cannot be read counts
 * `vpc_agent_collector_errors_total{collector="ovn"}` and its series are left out (an
 * unreachable daemon is `…_up 0`, not an absent series).
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { MemberSample } from './ovn-cluster.js';
import {
  OVN_HEALTH_INTERVAL_MS,
  readOvnHealth,
  type OvnHealthConfig,
  type OvnHealthSample,
  type OvnReadDeps,
} from './ovn-read.js';
import { collectorMetrics, createSampler, type Sampler } from './sampler.js';

export {
  OVN_HEALTH_INTERVAL_MS,
  ovnHealthConfig,
  ovnMembers,
  readOvnHealth,
  type OvnHealthConfig,
  type OvnHealthFlags,
  type OvnHealthSample,
} from './ovn-read.js';

export interface OvnHealthDeps extends OvnReadDeps {
  registry: Registry;
  log?: Logger;
}

export interface OvnHealthCollector {
  sample(): Promise<OvnHealthSample>;
  readonly sampler: Sampler<OvnHealthSample>;
}

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** Registers the OVN health metrics on `deps.registry`; see docs/metrics.md "OVN health". */
export function createOvnHealthCollector(
  deps: OvnHealthDeps,
  config: OvnHealthConfig = {},
): OvnHealthCollector {
  const shared = collectorMetrics(deps.registry);
  const registers = [deps.registry];
  let lastErrors = '';
  let lastInconsistent = '';
  const sampler = createSampler(
    async () => {
      const s = await readOvnHealth(config, deps);
      shared.refreshSeconds.set({ collector: 'ovn' }, s.seconds);
      shared.errors.inc({ collector: 'ovn' }, s.errors.length);
      const now = s.errors.map((e) => `${e.source}: ${e.message}`).join('; ');
      if (now !== lastErrors && now)
        deps.log?.warn({ errors: s.errors }, 'OVN health metrics: sources failed');
      lastErrors = now;
      // Which ports, named once per change: the gauge says how many, the log says which.
      const ports = s.bindings?.ports ?? [];
      const key = ports.map((p) => `${p.name}=${p.reason}`).join(',');
      if (s.bindings && key !== lastInconsistent) {
        if (ports.length > 0)
          deps.log?.warn(
            { ports, ...s.bindings.inconsistent },
            'ports of this node are not bound on this chassis',
          );
        else if (lastInconsistent) deps.log?.info('every port of this node is bound on this chassis again');
        lastInconsistent = key;
      }
      return s;
    },
    { minIntervalMs: config.minIntervalMs ?? OVN_HEALTH_INTERVAL_MS },
  );
  shared.track(sampler);
  shared.errors.inc({ collector: 'ovn' }, 0);

  /** A gauge whose series `fill` sets from the current sample at each scrape. */
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (s: OvnHealthSample, set: (labels: Labels<L>, v: number) => void) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await sampler.get();
        this.reset();
        // prom-client's reset() gives a gauge without labels a 0 sample; an unknown value
        // (a daemon this host does not run) must be absent instead, so start empty.
        if (labelNames.length === 0) (this as unknown as { hashMap: object }).hashMap = {};
        fill(s, (labels, v) => this.set(labels, v));
      },
    });
  const member = (m: MemberSample) => ({ database: m.database, member: m.member });
  const perMember =
    (pick: (m: MemberSample) => number | boolean | undefined) =>
    (s: OvnHealthSample, set: (l: Labels<'database' | 'member'>, v: number) => void) => {
      for (const m of s.members) {
        const v = pick(m);
        if (v !== undefined) set(member(m), Number(v));
      }
    };
  const DB = ['database', 'member'] as const;

  gauge(
    'vpc_agent_ovn_db_member_up',
    'Whether an NB/SB database member answered (1) or not (0), by database and member',
    DB,
    perMember((m) => m.up),
  );
  gauge(
    'vpc_agent_ovn_cluster_role',
    'RAFT role of a database member (1 for its role: leader, follower, candidate; standalone for a database that is not clustered), by database and member',
    ['database', 'member', 'role'],
    (s, set) => {
      for (const m of s.members) {
        const role = m.model === 'standalone' ? 'standalone' : m.role;
        if (role) set({ ...member(m), role }, 1);
      }
    },
  );
  gauge(
    'vpc_agent_ovn_cluster_leader',
    'Whether a clustered database member is the leader, by database and member',
    DB,
    perMember((m) => m.leader),
  );
  gauge(
    'vpc_agent_ovn_cluster_connected',
    'Whether a clustered database member is in the cluster and in contact with a majority, by database and member',
    DB,
    perMember((m) => m.connected),
  );
  gauge(
    'vpc_agent_ovn_cluster_term',
    'RAFT term of a clustered database member (control socket only), by database and member',
    DB,
    perMember((m) => m.term),
  );
  gauge(
    'vpc_agent_ovn_cluster_uncommitted_entries',
    'Log entries a member appended but a majority has not committed yet (control socket only), by database and member',
    DB,
    perMember((m) => m.uncommitted),
  );
  gauge(
    'vpc_agent_ovn_cluster_unapplied_entries',
    'Log entries committed but not yet applied to a member’s database (control socket only), by database and member',
    DB,
    perMember((m) => m.unapplied),
  );
  gauge(
    'vpc_agent_ovn_cluster_log_index',
    'Last log index of a clustered database member, by database and member',
    DB,
    perMember((m) => m.index),
  );

  gauge(
    'vpc_agent_ovn_controller_up',
    'Whether this node’s ovn-controller answers on its control socket',
    [],
    (s, set) => {
      if (s.controller) set({}, s.controller.up ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_controller_sb_connected',
    'Whether this node’s ovn-controller is connected to the Southbound',
    [],
    (s, set) => {
      if (s.controller?.sbConnected !== undefined) set({}, s.controller.sbConnected ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_northd_up',
    'Whether ovn-northd on this host answers on its control socket',
    [],
    (s, set) => {
      if (s.northd) set({}, s.northd.up ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_northd_active',
    'Whether ovn-northd on this host is the active instance (0: standby or paused)',
    [],
    (s, set) => {
      if (s.northd?.state) set({}, s.northd.state === 'active' ? 1 : 0);
    },
  );
  gauge(
    'vpc_agent_ovn_northd_db_connected',
    'Whether ovn-northd on this host is connected to a database, by database',
    ['database'],
    (s, set) => {
      if (s.northd?.nbConnected !== undefined)
        set({ database: 'OVN_Northbound' }, s.northd.nbConnected ? 1 : 0);
      if (s.northd?.sbConnected !== undefined)
        set({ database: 'OVN_Southbound' }, s.northd.sbConnected ? 1 : 0);
    },
  );
  gauge('vpc_agent_ovn_logical_flows', 'Logical flows in the Southbound', [], (s, set) => {
    if (s.sb) set({}, s.sb.logicalFlows);
  });
  gauge('vpc_agent_ovn_chassis', 'Chassis registered in the Southbound', [], (s, set) => {
    if (s.sb) set({}, s.sb.chassis);
  });
  gauge(
    'vpc_agent_ovn_port_bindings',
    'Port bindings on this chassis, by state (up: ovn-controller installed the port’s flows)',
    ['state'],
    (s, set) => {
      if (!s.bindings) return;
      set({ state: 'up' }, s.bindings.here.up);
      set({ state: 'down' }, s.bindings.here.down);
    },
  );
  gauge(
    'vpc_agent_ovn_inconsistent_port_bindings',
    'Ports of this node not bound on this chassis, by reason (other_chassis, unbound, no_binding)',
    ['reason'],
    (s, set) => {
      if (!s.bindings) return;
      for (const [reason, n] of Object.entries(s.bindings.inconsistent)) set({ reason }, n);
    },
  );

  return { sample: () => sampler.get(), sampler };
}
