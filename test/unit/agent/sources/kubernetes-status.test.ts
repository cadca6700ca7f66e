/**
 * The status model (pure): what each writer owns, the merge into the current status (foreign
 * conditions kept, timestamps kept while nothing changes, so a converged object yields no
 * patch), Kube-OVN's range text, and which NAT objects a node writes (those of the gateways it
 * runs only).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../../netlink/inet.js';
import { nextSnapshot, type Snapshot } from '../../../../agent/pipeline/snapshot.js';
import { decodeManifestText } from '../../../../agent/resources/loader.js';
import type { ObjectStatus } from '../../../../agent/reconcile/reconciler.js';
import {
  complement,
  rangeText,
  statusIntents,
  statusPatch,
  validationEvents,
  type StatusInputs,
  type StatusIntent,
} from '../../../../agent/sources/kubernetes/status-model.js';
import { eventName } from '../../../../agent/sources/kubernetes/status.js';

async function snapshotOf(file: string, extra: Record<string, unknown>[] = []): Promise<Snapshot> {
  const { docs } = decodeManifestText(await readFile(file, 'utf8'), file);
  const items = [...docs.map((d) => d.doc), ...extra].map((doc, i) => ({
    doc,
    source: { file, document: i },
  }));
  return nextSnapshot(undefined, { items, errors: [], complete: true, incomplete: [], broken: [] });
}

const NAT = path.resolve('examples/vpc-nat-gateway/nat-gateway.yaml');
const TWO = path.resolve('examples/vpc-two-subnets/vpc-1.yaml');

function inputs(s: Snapshot, over: Partial<StatusInputs> = {}): StatusInputs {
  return {
    node: 'node-a',
    writer: true,
    snapshot: s,
    nb: new Map<string, ObjectStatus>([
      ['Subnet/vswitch1-subnet', { state: 'ready' }],
      ['Vpc/vpc-1', { state: 'ready' }],
    ]),
    ipam: {
      stats: [
        {
          subnet: 'vswitch1-subnet',
          cidr: '172.20.10.0/24',
          size: 256n,
          allocatable: 244n,
          used: 2,
          available: 242n,
        },
      ],
      allocations: [
        { subnet: 'vswitch1-subnet', ip: '172.20.10.10' },
        { subnet: 'vswitch1-subnet', ip: '172.20.10.11' },
      ],
    },
    nat: undefined,
    ...over,
  };
}

const byRef = (list: StatusIntent[], kind: string, name: string) =>
  list.find((i) => i.ref.kind === kind && i.ref.name === name);

describe('status model', () => {
  it('ranges: the complement of the holes, as Kube-OVN writes them', () => {
    const cidr = parseCidr('10.0.0.0/29');
    const holes = [
      { first: cidr.first, last: cidr.first },
      { first: cidr.last, last: cidr.last },
      { first: cidr.first + 3n, last: cidr.first + 4n },
    ];
    const free = complement(cidr, holes);
    expect(rangeText(4, free)).toBe('10.0.0.1-10.0.0.2,10.0.0.5-10.0.0.6');
    expect(rangeText(4, complement(cidr, []))).toBe('10.0.0.0-10.0.0.7');
    expect(rangeText(4, complement(cidr, [{ first: 0n, last: cidr.last }]))).toBe('');
  });

  it('the writer: Subnet counts and ranges, Vpc fields, Ready and Validated', async () => {
    const s = await snapshotOf(TWO);
    const list = statusIntents(inputs(s));
    const sub = byRef(list, 'Subnet', 'vswitch1-subnet')!;
    expect(sub.fields).toEqual({
      v4availableIPs: 242,
      v4usingIPs: 2,
      v4usingIPrange: '172.20.10.10-172.20.10.11',
      v4availableIPrange: '172.20.10.12-172.20.10.254',
    });
    expect(sub.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Reconciled'],
      ['Validated', 'True', 'Valid'],
    ]);
    // Not reconciled yet (an agent that just took over): no word on Ready; no IPAM pool: no counts.
    const other = byRef(list, 'Subnet', 'vswitch2-subnet')!;
    expect(other.fields).toEqual({});
    expect(other.conditions.map((c) => c.type)).toEqual(['Validated']);
    expect(byRef(list, 'Vpc', 'vpc-1')!.fields).toEqual({
      standby: true,
      default: false,
      defaultLogicalSwitch: '',
      router: 'vpc-1',
      subnets: ['vswitch1-subnet', 'vswitch2-subnet'],
      vpcPeerings: [],
    });
    // NADs have no status subresource.
    expect(list.some((i) => i.ref.kind === 'NetworkAttachmentDefinition')).toBe(false);
    // Not the writer: nothing cluster-wide.
    expect(statusIntents(inputs(s, { writer: false }))).toEqual([]);
  });

  it('an invalid object: Validated=False naming the field, and an Event per field', async () => {
    const bad = {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 'broken' },
      spec: { vpc: 'vpc-1', cidrBlock: '172.20.30.0/24', gateway: '172.20.31.1', protocol: 'IPv4' },
    };
    const s = await snapshotOf(TWO, [bad]);
    const it = byRef(statusIntents(inputs(s)), 'Subnet', 'broken')!;
    expect(it.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'False', 'ValidationFailed'],
      ['Validated', 'False', 'ValidationFailed'],
    ]);
    expect(it.conditions[1]!.message).toMatch(/^Subnet broken: spec\.gateway: /);
    const evs = validationEvents(s);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ ref: { kind: 'Subnet', name: 'broken' }, field: 'spec.gateway' });
    // One name per object and message: the same error is the same Event.
    expect(eventName(evs[0]!, 'uid-1')).toBe(eventName(validationEvents(s)[0]!, 'uid-1'));
    expect(eventName(evs[0]!, 'uid-1')).not.toBe(eventName(evs[0]!, 'uid-2'));
    expect(eventName(evs[0]!, 'uid-1')).toMatch(/^broken\.[0-9a-f]{16}$/);
  });

  it('the patch: owned fields and conditions merged, foreign ones kept, nothing when converged', () => {
    const intent: StatusIntent = {
      ref: { kind: 'Subnet', name: 'a' },
      fields: { v4usingIPs: 3 },
      conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: '' }],
    };
    const foreign = { type: 'Audited', status: 'True', reason: 'X', message: '' };
    const first = statusPatch(intent, { conditions: [foreign], activateGateway: 'n1' }, 4, 'T1')!;
    expect(first).toEqual({
      v4usingIPs: 3,
      conditions: [
        foreign,
        {
          type: 'Ready',
          status: 'True',
          reason: 'Reconciled',
          message: '',
          observedGeneration: 4,
          lastUpdateTime: 'T1',
          lastTransitionTime: 'T1',
        },
      ],
    });
    const after = { ...first, activateGateway: 'n1' };
    expect(statusPatch(intent, after, 4, 'T2')).toBeUndefined();
    // A count change: the condition keeps its timestamps.
    const more = statusPatch({ ...intent, fields: { v4usingIPs: 4 } }, after, 4, 'T3')!;
    expect(more['conditions']).toEqual(first['conditions']);
    // A new message: lastUpdateTime moves, lastTransitionTime stays (same status).
    const deg = statusPatch(
      { ...intent, conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'm' }] },
      after,
      4,
      'T4',
    )!;
    expect((deg['conditions'] as Record<string, unknown>[])[1]).toMatchObject({
      lastUpdateTime: 'T4',
      lastTransitionTime: 'T1',
    });
    // Another status: both move.
    const down = statusPatch(
      { ...intent, conditions: [{ type: 'Ready', status: 'False', reason: 'Degraded', message: 'x' }] },
      after,
      4,
      'T5',
    )!;
    expect((down['conditions'] as Record<string, unknown>[])[1]).toMatchObject({
      lastUpdateTime: 'T5',
      lastTransitionTime: 'T5',
    });
  });

  it('a node writes the NAT objects of the gateways it runs only, with Kube-OVN fields', async () => {
    const s = await snapshotOf(NAT);
    const nat = new Map<string, ObjectStatus & { fields: Record<string, string | boolean> }>([
      [
        'VpcNatGateway/gw1',
        { state: 'ready', fields: { netns: 'vpc-nat-gw-gw1', node: 'node-a', lanIp: 'x', ready: true } },
      ],
      [
        'IptablesEIP/eip-gw1',
        {
          state: 'ready',
          fields: { ip: '10.115.55.200', mac: '02:00:00:00:00:01', nat: 'snat,dnat', ready: true },
        },
      ],
      ['IptablesSnatRule/snat-lan', { state: 'ready', fields: { v4ip: '10.115.55.200', ready: true } }],
      [
        'IptablesDnatRule/dnat-web',
        {
          state: 'degraded',
          message: 'NAT_X: spec.internalIp: bad',
          fields: { v4ip: '10.115.55.200', ready: false },
        },
      ],
    ]);
    const list = statusIntents(inputs(s, { writer: false, nat }));
    expect(list.map((i) => `${i.ref.kind}/${i.ref.name}`).sort()).toEqual([
      'IptablesDnatRule/dnat-web',
      'IptablesEIP/eip-gw1',
      'IptablesSnatRule/snat-lan',
      'VpcNatGateway/gw1',
    ]);
    expect(byRef(list, 'IptablesEIP', 'eip-gw1')!.fields).toEqual({
      ready: true,
      ip: '10.115.55.200',
      mac: '02:00:00:00:00:01',
      nat: 'snat,dnat',
    });
    const dnat = byRef(list, 'IptablesDnatRule', 'dnat-web')!;
    expect(dnat.fields).toEqual({ ready: false, v4ip: '10.115.55.200', natGwDp: 'gw1' });
    expect(dnat.conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'Degraded', message: 'NAT_X: spec.internalIp: bad' },
    ]);
    // The gateway not built here (no namespace: a problem only): nothing of it is written.
    const notRunning = new Map(
      [...nat].map(([k, v]) => [k, k.startsWith('VpcNatGateway/') ? { ...v, fields: {} } : v]),
    );
    expect(statusIntents(inputs(s, { writer: false, nat: notRunning }))).toEqual([]);
    // A gateway with an empty selector runs nowhere: the writer says so.
    const idle = await snapshotOf(NAT);
    idle.resources.natGateways.get('gw1')!.spec.selector = [];
    const gw = byRef(statusIntents(inputs(idle)), 'VpcNatGateway', 'gw1')!;
    expect(gw.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'NoNodeSelected' });
    // The writer running it too: one intent per object, its Validated beside the node's Ready.
    const both = byRef(statusIntents(inputs(s, { writer: true, nat })), 'IptablesEIP', 'eip-gw1')!;
    expect(both.conditions.map((c) => c.type).sort()).toEqual(['Ready', 'Validated']);
    expect(both.fields['ip']).toBe('10.115.55.200');
  });
});
