import { describe, expect, it } from 'vitest';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../../../../../agent/nb/desired.js';
import { planReconcile } from '../../../../../agent/nb/reconcile/plan.js';
import type { InsertOp, MutateOp, UpdateOp } from '../../../../../ovsdb/index.js';
import { acl, applyOps, desired, ls, lsp, newCache, rowsOf, seed } from './fake-nb.js';

const names = (cache: ReturnType<typeof newCache>, table: string) =>
  rowsOf(cache, table)
    .map((r) => r['name'] as string)
    .sort();

/** Plans and applies until converged; returns the first plan. */
async function converge(cache: ReturnType<typeof newCache>, state: ReturnType<typeof desired>, prune = true) {
  const plan = planReconcile(state, cache, { prune });
  await applyOps(cache, plan.ops);
  return plan;
}

describe('planReconcile', () => {
  it('inserts missing rows with uuid-name references between them, then sends nothing', async () => {
    const cache = newCache();
    const state = desired(
      ls('a', { ports: ['vm1', 'vm2'], acls: ['x'] }),
      lsp('a', 'vm1'),
      lsp('a', 'vm2'),
      acl('a', 'x', 1000),
    );
    const plan = planReconcile(state, cache);
    expect(plan.counts).toEqual({ insert: 4, update: 0, delete: 0, mutate: 0, wait: 0 });
    const sw = plan.ops.find((o) => o.op === 'insert' && o.table === 'Logical_Switch') as InsertOp;
    const portNames = plan.ops
      .filter((o): o is InsertOp => o.op === 'insert' && o.table === 'Logical_Switch_Port')
      .map((o) => o.uuidName);
    expect([...(sw.row as { ports: string[] }).ports].sort()).toEqual([...portNames].sort());
    expect((sw.row as { external_ids: Record<string, string> }).external_ids).toEqual({
      [OWNER_KEY]: 'vpc-agent',
      [ROW_KEY]: 'ls/a',
      [RESOURCE_KEY]: 'Subnet/a',
    });
    await applyOps(cache, plan.ops);
    expect(names(cache, 'Logical_Switch_Port')).toEqual(['a-vm1', 'a-vm2']);
    expect(rowsOf(cache, 'ACL')).toHaveLength(1);
    const again = planReconcile(state, cache);
    expect(again.ops).toEqual([]);
  });

  it('refers to existing rows by uuid and updates only changed columns', async () => {
    const cache = newCache();
    await converge(
      cache,
      desired(ls('a', { ports: ['vm1'] }), lsp('a', 'vm1', ['00:00:00:00:00:01 10.0.0.2'])),
    );
    const swUuid = rowsOf(cache, 'Logical_Switch')[0]!['_uuid'] as string;
    const p1 = rowsOf(cache, 'Logical_Switch_Port')[0]!['_uuid'] as string;
    const next = desired(
      ls('a', { ports: ['vm1', 'vm2'], other: { subnet: '10.0.0.0/24' } }),
      lsp('a', 'vm1', ['00:00:00:00:00:01 10.0.0.2']),
      lsp('a', 'vm2'),
    );
    const plan = planReconcile(next, cache);
    expect(plan.counts).toMatchObject({ insert: 1, update: 1, delete: 0, mutate: 0 });
    const upd = plan.ops.find((o) => o.op === 'update') as UpdateOp;
    expect(upd.table).toBe('Logical_Switch');
    expect(upd.where).toEqual([['_uuid', '==', swUuid]]);
    expect(Object.keys(upd.row).sort()).toEqual(['other_config', 'ports']);
    expect((upd.row as { ports: string[] }).ports).toContain(p1);
    // The ports update is guarded by a verify of the value it was computed from.
    expect(plan.ops[0]).toMatchObject({
      op: 'wait',
      table: 'Logical_Switch',
      columns: ['ports'],
      until: '==',
    });
    await applyOps(cache, plan.ops);
    expect(planReconcile(next, cache).ops).toEqual([]);
  });

  it('repairs drift in a listed column and a changed external_ids map, leaving other columns', async () => {
    const cache = newCache();
    const state = desired(ls('a', { ports: ['vm1'] }), lsp('a', 'vm1', ['00:00:00:00:00:01 10.0.0.2']));
    await converge(cache, state);
    const port = rowsOf(cache, 'Logical_Switch_Port')[0]!;
    await applyOps(cache, [
      {
        op: 'update',
        table: 'Logical_Switch_Port',
        where: [['_uuid', '==', port['_uuid'] as string]],
        row: {
          addresses: ['dynamic'],
          enabled: false,
          external_ids: { ...(port['external_ids'] as Record<string, string>), extra: '1' },
        },
      },
    ]);
    const plan = planReconcile(state, cache);
    expect(plan.ops).toHaveLength(1);
    expect((plan.ops[0] as UpdateOp).row).toEqual({
      addresses: ['00:00:00:00:00:01 10.0.0.2'],
      external_ids: port['external_ids'],
    });
  });

  it('re-creates an owned row deleted out of band', async () => {
    const cache = newCache();
    const state = desired(ls('a'), ls('b'));
    await converge(cache, state);
    const a = rowsOf(cache, 'Logical_Switch').find((r) => r['name'] === 'a')!;
    await applyOps(cache, [
      { op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', a['_uuid'] as string]] },
    ]);
    const plan = await converge(cache, state);
    expect(plan.counts.insert).toBe(1);
    expect(names(cache, 'Logical_Switch')).toEqual(['a', 'b']);
  });

  it('deletes root rows and drops non-root rows through their parent; foreign rows untouched', async () => {
    const cache = newCache();
    const foreignPort = await seed(cache, 'Logical_Switch_Port', { name: 'foreign-port' });
    await seed(cache, 'Logical_Switch', { name: 'foreign', ports: [foreignPort] });
    await converge(
      cache,
      desired(
        ls('a', { ports: ['vm1', 'vm2'], acls: ['x'] }),
        lsp('a', 'vm1'),
        lsp('a', 'vm2'),
        acl('a', 'x', 1),
        ls('b'),
      ),
    );
    // A foreign port added to our switch by someone else.
    const a = rowsOf(cache, 'Logical_Switch').find((r) => r['name'] === 'a')!;
    const intruder = await seed(cache, 'Logical_Switch_Port', { name: 'intruder' });
    await applyOps(cache, [
      {
        op: 'update',
        table: 'Logical_Switch',
        where: [['_uuid', '==', a['_uuid'] as string]],
        row: { ports: [...(a['ports'] as string[]), intruder] },
      },
    ]);
    // vm2 and the ACL are no longer desired; switch b is gone.
    const next = desired(ls('a', { ports: ['vm1'] }), lsp('a', 'vm1'));
    const plan = planReconcile(next, cache);
    expect(plan.counts).toMatchObject({ insert: 0, update: 1, delete: 1, mutate: 0 });
    const upd = plan.ops.find((o) => o.op === 'update') as UpdateOp;
    expect((upd.row as { ports: string[] }).ports).toContain(intruder);
    await applyOps(cache, plan.ops);
    expect(names(cache, 'Logical_Switch')).toEqual(['a', 'foreign']);
    expect(names(cache, 'Logical_Switch_Port')).toEqual(['a-vm1', 'foreign-port', 'intruder']);
    expect(rowsOf(cache, 'ACL')).toHaveLength(0);
    expect(planReconcile(next, cache).ops).toEqual([]);
  });

  it('unreferences an owned non-root row held by a foreign parent (mutate delete)', async () => {
    const cache = newCache();
    await converge(cache, desired(ls('a', { ports: ['vm1'] }), lsp('a', 'vm1')));
    const p = rowsOf(cache, 'Logical_Switch_Port')[0]!['_uuid'] as string;
    const foreign = await seed(cache, 'Logical_Switch', { name: 'foreign', ports: [p] });
    const plan = planReconcile(desired(), cache);
    expect(plan.counts).toMatchObject({ delete: 1, mutate: 1 });
    const m = plan.ops.find((o) => o.op === 'mutate') as MutateOp;
    expect(m).toMatchObject({ table: 'Logical_Switch', where: [['_uuid', '==', foreign]] });
    expect(m.mutations).toEqual([['ports', 'delete', [p]]]);
    await applyOps(cache, plan.ops);
    expect(names(cache, 'Logical_Switch')).toEqual(['foreign']);
    expect(rowsOf(cache, 'Logical_Switch_Port')).toHaveLength(0);
  });

  it('never deletes or updates rows of another owner or without an owner', async () => {
    const cache = newCache();
    await seed(cache, 'Logical_Switch', {
      name: 'theirs',
      external_ids: { [OWNER_KEY]: 'someone', [ROW_KEY]: 'ls/a' },
    });
    await seed(cache, 'Logical_Switch', { name: 'plain', external_ids: { [ROW_KEY]: 'ls/a' } });
    const plan = planReconcile(desired(ls('a')), cache);
    expect(plan.counts).toMatchObject({ insert: 1, update: 0, delete: 0, mutate: 0 });
    expect(planReconcile(desired(), cache).ops).toEqual([]);
  });

  it('does not prune before the desired state is complete, and keeps references then', async () => {
    const cache = newCache();
    await converge(cache, desired(ls('a', { ports: ['vm1'] }), lsp('a', 'vm1'), ls('b')));
    const partial = desired(ls('a'));
    const plan = planReconcile(partial, cache, { prune: false });
    expect(plan.ops).toEqual([]);
    expect(planReconcile(partial, cache, { prune: true }).counts).toMatchObject({ update: 1, delete: 1 });
  });

  it('prunes duplicates of one key, keeping one', async () => {
    const cache = newCache();
    const ids = { [OWNER_KEY]: 'vpc-agent', [ROW_KEY]: 'ls/a', [RESOURCE_KEY]: 'Subnet/a' };
    await seed(cache, 'Logical_Switch', { name: 'a', other_config: {}, external_ids: ids });
    await seed(cache, 'Logical_Switch', { name: 'a', other_config: {}, external_ids: ids });
    const plan = await converge(cache, desired(ls('a')));
    expect(plan.counts).toMatchObject({ insert: 0, update: 0, delete: 1 });
    expect(names(cache, 'Logical_Switch')).toEqual(['a']);
  });

  it('reports builder mistakes and unique-name clashes instead of failing the transaction', async () => {
    const cache = newCache();
    const taken = await seed(cache, 'Logical_Switch_Port', { name: 'a-taken' });
    await seed(cache, 'Logical_Switch', { name: 'foreign', ports: [taken] });
    const state = desired(
      ls('a', { ports: ['taken', 'vm1', 'missing'] }),
      lsp('a', 'taken'),
      lsp('a', 'vm1'),
      lsp('a', 'orphan'),
      { table: 'No_Such_Table', key: 'x', resource: 'Subnet/a', columns: {} },
    );
    const plan = planReconcile(state, cache);
    const codes = plan.problems.map((p) => `${p.code}:${p.key ?? p.table}`).sort();
    expect(codes).toEqual([
      'conflict:lsp/a/taken',
      'dangling-ref:ls/a',
      'dangling-ref:ls/a',
      'unknown-table:No_Such_Table',
      'unreferenced:lsp/a/orphan',
    ]);
    await applyOps(cache, plan.ops);
    expect(names(cache, 'Logical_Switch_Port')).toEqual(['a-taken', 'a-vm1']);
  });
});
