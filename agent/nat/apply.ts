/**
 * Carries out a gateway's steps (./observe.ts) in order, and removes a gateway. Every step is
 * idempotent (create-or-keep, replace, delete-if-there), so a step repeated after a failure or a
 * restart is harmless.
 */
import { execa } from 'execa';
import {
  applyNftScript,
  commandIn,
  createMacvlan,
  createNetns,
  deleteConntrackEntries,
  deleteNetns,
  deleteRoute,
  getLink,
  listConntrack,
  listNftTable,
  listNftTableText,
  NftError,
  replaceAddress,
  deleteAddress,
  replaceRoute,
  rtnl,
  setLinkDown,
  setLinkUp,
  setMac,
  writeSysctl,
} from '../../netlink/index.js';
import { AgentError } from '../errors.js';
import { conntrackVictims } from './conntrack-policy.js';
import { LAN_IFNAME, WAN_IFNAME, type GatewayDesired } from './desired.js';
import type { Applied, Step } from './observe.js';
import {
  buildIncremental,
  buildRuleset,
  deleteRulesetScript,
  parseEchoedHandles,
  type NatRules,
  type RenderedRule,
} from './ruleset.js';

/** How the legs are attached and EIPs announced (injected: tests and the agent differ). */
export interface NatAttachments {
  /** Puts the LAN leg, a link named `net1`, into `gw.netns` (an OVN port on the VPC subnet). */
  attachLan(gw: GatewayDesired): Promise<{ ifname: string }>;
  /** Puts the external leg, `net2`, into `gw.netns`. Default: {@link createMacvlanWan}(). */
  attachWan?(gw: GatewayDesired): Promise<{ ifname: string }>;
  /** Releases what `attachLan` holds outside the namespace (its port), when a gateway goes. */
  detachLan?(gw: { name: string; netns: string }): Promise<void>;
  /** Announces `ips` on net2. Default: {@link garp}. */
  announce?(netns: string, dev: string, ips: readonly string[]): Promise<void>;
}

/**
 * net2 as a macvlan (bridge mode) of the external network's `master` NIC, created straight into
 * the gateway namespace with the gateway's MAC. `hostNetns`: the namespace holding the NIC
 * (undefined: the agent's own, i.e. the node's).
 */
export function createMacvlanWan(
  opts: { hostNetns?: string } = {},
): (gw: GatewayDesired) => Promise<{ ifname: string }> {
  return async (gw) => {
    if (!gw.external.master) {
      throw new AgentError(
        'ERR_NAT_NO_MASTER',
        `VpcNatGateway ${gw.name}: external subnet ${gw.external.subnet} names no NIC (its NAD's "master")`,
      );
    }
    await createMacvlan(rtnl(opts.hostNetns), {
      name: WAN_IFNAME,
      parent: gw.external.master,
      netns: gw.netns,
      mac: gw.wanMac,
    });
    return { ifname: WAN_IFNAME };
  };
}

/**
 * Gratuitous ARP for each address, in both forms neighbours may heed: an ARP request and an ARP
 * reply whose sender and target are the address (RFC 5227 §3 "ARP Announcement"; iputils
 * `arping -U` and `-A`).
 */
export async function garp(netns: string, dev: string, ips: readonly string[]): Promise<void> {
  // arping waits out its one-second interval after the packet: run them side by side.
  const runs = ips.flatMap((ip) =>
    ['-U', '-A'].map(async (mode) => {
      const [cmd, argv] = commandIn(netns, 'arping', [mode, '-c', '1', '-w', '1', '-I', dev, ip]);
      // arping exits 1 when no reply came, which is normal for an announcement.
      const r = await execa(cmd, argv, { reject: false, stdin: 'ignore', timeout: 10_000 });
      if (r.exitCode !== 0 && r.exitCode !== 1)
        throw new AgentError(
          'ERR_NAT_GARP',
          `arping ${mode} ${ip} on ${dev} in ${netns}: ${r.stderr.trim()}`,
        );
    }),
  );
  await Promise.all(runs);
}

/** What the reconciler keeps per gateway between passes. */
export interface GatewayMemory {
  applied?: Applied;
  /** The rules of the last successful nft apply (the "before" of conntrack clean-up). */
  rules?: NatRules;
  /** Those rules as rendered, and each one's handle by counter name (incremental updates). */
  rendered?: RenderedRule[];
  handles?: Map<string, { chain: string; handle: number }>;
  /** How long the last nft transaction took until committed, and its form (metrics, bench). */
  lastNft?: { ms: number; form: 'incremental' | 'update' | 'replace' | 'none' };
}

async function ipLink(netns: string, args: string[]): Promise<void> {
  const [cmd, argv] = commandIn(netns, 'ip', ['link', ...args]);
  await execa(cmd, argv, { stdin: 'ignore' });
}

/**
 * Applies the nft table, then cleans conntrack. When the table is as the last apply left it
 * (`intact`), only the difference is sent (./ruleset.ts `buildIncremental`); otherwise the
 * counter-keeping update form, or the replace form when the table is absent or refuses it.
 */
async function applyNft(
  gw: GatewayDesired,
  table: string,
  mem: GatewayMemory,
  intact: boolean,
): Promise<string[]> {
  const echo = { echo: true, handle: true };
  const full = buildRuleset(gw.rules, { table });
  let handles: Map<string, { chain: string; handle: number }> | undefined;
  const t0 = performance.now();
  let form: 'incremental' | 'update' | 'replace' | 'none' = 'none';
  if (intact && mem.rendered && mem.handles) {
    const script = buildIncremental(
      mem.rendered,
      new Map([...mem.handles].map(([k, v]) => [k, v.handle])),
      gw.rules,
      table,
    );
    if (script === '') handles = mem.handles;
    else if (script !== undefined) {
      try {
        const added = parseEchoedHandles(await applyNftScript(gw.netns, script, echo));
        const next = new Set(full.rules.map((r) => r.counter));
        const flushed = /^flush chain \S+ \S+ postrouting$/m.test(script);
        handles = new Map(
          [...mem.handles].filter(([c, v]) => next.has(c) && !(flushed && v.chain === 'postrouting')),
        );
        for (const [c, v] of added) handles.set(c, v);
        form = 'incremental';
      } catch (err) {
        if (!(err instanceof NftError)) throw err;
      }
    }
  }
  if (!handles) {
    const existing = await listNftTable(gw.netns, 'ip', table);
    let out: string | undefined;
    if (existing) {
      const update = buildRuleset(gw.rules, { table, existingCounters: new Set(existing.counters.keys()) });
      try {
        out = await applyNftScript(gw.netns, update.script, echo);
        form = 'update';
      } catch (err) {
        // A table edited by hand (a chain with another hook) can refuse the update: replace it.
        if (!(err instanceof NftError)) throw err;
      }
    }
    if (out === undefined) {
      out = await applyNftScript(gw.netns, full.script, echo);
      form = 'replace';
    }
    handles = parseEchoedHandles(out);
  }
  mem.lastNft = { ms: performance.now() - t0, form };
  const local = new Set([gw.lan.ip, ...gw.eips.flatMap((e) => (e.ip ? [e.ip] : []))]);
  const change = conntrackVictims(await listConntrack(gw.netns), mem.rules, gw.rules, local);
  await deleteConntrackEntries(gw.netns, change.victims);
  mem.rules = gw.rules;
  mem.rendered = full.rules;
  mem.handles = handles;
  mem.applied = { digest: full.digest, text: (await listNftTableText(gw.netns, 'ip', table)) ?? '' };
  return change.reasons;
}

export interface StepContext {
  table: string;
  deps: NatAttachments;
  mem: GatewayMemory;
}

/** Runs `steps` for `gw` in order; returns a line per step done (for logs and `/debug`). */
export async function runSteps(
  gw: GatewayDesired,
  steps: readonly Step[],
  ctx: StepContext,
): Promise<string[]> {
  const done: string[] = [];
  const nl = () => rtnl(gw.netns);
  for (const s of steps) {
    switch (s.op) {
      case 'netns':
        await createNetns(gw.netns);
        ctx.mem.applied = undefined;
        break;
      case 'marker':
        await ipLink(gw.netns, ['set', 'dev', 'lo', 'alias', s.alias]);
        break;
      case 'forward':
        await writeSysctl(gw.netns, 'net.ipv4.ip_forward', 1);
        break;
      case 'attach-lan':
      case 'attach-wan': {
        const attach =
          s.op === 'attach-lan' ? ctx.deps.attachLan : (ctx.deps.attachWan ?? createMacvlanWan());
        const { ifname } = await attach(gw);
        const want = s.op === 'attach-lan' ? LAN_IFNAME : WAN_IFNAME;
        if (ifname !== want || !(await getLink(nl(), want)))
          throw new AgentError(
            'ERR_NAT_ATTACH',
            `${s.op} of ${gw.name} did not put ${want} into ${gw.netns}`,
          );
        break;
      }
      case 'mac': {
        const up = (await getLink(nl(), s.dev))?.up;
        if (up) await setLinkDown(nl(), s.dev);
        await setMac(nl(), s.dev, s.mac);
        if (up) await setLinkUp(nl(), s.dev);
        break;
      }
      case 'addr':
        await replaceAddress(nl(), s.dev, s.cidr);
        break;
      case 'addr-del':
        await deleteAddress(nl(), s.dev, s.cidr);
        break;
      case 'up':
        await setLinkUp(nl(), s.dev);
        break;
      case 'route':
        await replaceRoute(nl(), s.route);
        break;
      case 'route-del':
        await deleteRoute(nl(), s.route);
        break;
      case 'nft': {
        const reasons = await applyNft(gw, ctx.table, ctx.mem, s.intact === true);
        done.push(...reasons.map((r) => `conntrack: ${r}`));
        break;
      }
      case 'garp':
        await (ctx.deps.announce ?? garp)(gw.netns, WAN_IFNAME, s.ips);
        break;
    }
    done.push(s.op === 'garp' ? `garp ${s.ips.join(',')}` : s.op);
  }
  return done;
}

/** Removes a gateway: its port outside (detachLan), its table, then the namespace and all in it. */
export async function removeGateway(
  g: { name: string; netns: string },
  deps: NatAttachments,
  table: string,
): Promise<void> {
  await deps.detachLan?.(g);
  try {
    await applyNftScript(g.netns, deleteRulesetScript(table));
  } catch {
    /* the namespace may be gone already */
  }
  await deleteNetns(g.netns);
}
