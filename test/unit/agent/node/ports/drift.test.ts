import { describe, expect, it } from 'vitest';
import { nbPortDrift, ovsPortDrift } from '../../../../../agent/node/ports/drift.js';
import { OWNER_KEY, RESOURCE_KEY, ROW_KEY } from '../../../../../agent/nb/desired.js';
import type { Row, RowChange } from '../../../../../ovsdb/index.js';

const NODE = 'vpc-agent/node/n1';
const row = (cols: Record<string, unknown>): Row => ({ _uuid: 'u1', ...cols }) as Row;
const lsp = (extra: Record<string, unknown> = {}) =>
  row({
    name: 'vm1.ns',
    addresses: ['0a:00:00:00:00:01 10.0.0.2'],
    port_security: ['0a:00:00:00:00:01 10.0.0.2'],
    external_ids: { [OWNER_KEY]: NODE },
    up: false,
    ...extra,
  });
const upd = (table: string, old: Row, nu: Row): RowChange => ({
  table,
  kind: 'update',
  uuid: 'u1',
  old,
  new: nu,
});

describe('nbPortDrift', () => {
  it('northd setting up is not drift; a column the node writes is', () => {
    expect(nbPortDrift(upd('Logical_Switch_Port', lsp(), lsp({ up: true })), NODE)).toEqual({ kind: 'none' });
    expect(
      nbPortDrift(upd('Logical_Switch_Port', lsp(), lsp({ port_security: ['0a:00:00:00:00:01'] })), NODE),
    ).toEqual({ kind: 'port', lsp: 'vm1.ns' });
  });

  it('insert and delete of our LSP are drift; another owner’s LSP is not', () => {
    expect(
      nbPortDrift({ table: 'Logical_Switch_Port', kind: 'delete', uuid: 'u1', old: lsp() }, NODE),
    ).toEqual({
      kind: 'port',
      lsp: 'vm1.ns',
    });
    const theirs = lsp({ external_ids: { [OWNER_KEY]: 'vpc-agent/node/n2' } });
    expect(
      nbPortDrift({ table: 'Logical_Switch_Port', kind: 'insert', uuid: 'u1', new: theirs }, NODE),
    ).toEqual({
      kind: 'none',
    });
  });

  it('a switch created or DHCP options changed: every port; a switch updated: none', () => {
    expect(nbPortDrift({ table: 'Logical_Switch', kind: 'insert', uuid: 's', new: row({}) }, NODE).kind).toBe(
      'all',
    );
    expect(nbPortDrift(upd('Logical_Switch', row({ ports: [] }), row({ ports: ['x'] })), NODE).kind).toBe(
      'none',
    );
    expect(nbPortDrift(upd('DHCP_Options', row({}), row({ options: {} })), NODE).kind).toBe('all');
  });
});

describe('ovsPortDrift', () => {
  const ours = { 'iface-id': 'vm1.ns', [OWNER_KEY]: 'vpc-agent', [ROW_KEY]: 'vm-port/h1' };
  const iface = (extra: Record<string, unknown> = {}) =>
    row({ name: 'h1', type: '', error: [], external_ids: { ...ours }, ...extra });

  it('ovn-controller adding ovn-installed is not drift; our key changing is', () => {
    const installed = iface({ external_ids: { ...ours, 'ovn-installed': 'true' } });
    expect(ovsPortDrift(upd('Interface', iface(), installed))).toEqual({ kind: 'none' });
    const moved = iface({ external_ids: { ...ours, 'vpc-agent.io/netns': 'other' } });
    expect(ovsPortDrift(upd('Interface', iface(), moved))).toEqual({ kind: 'port', lsp: 'vm1.ns' });
  });

  it('vswitchd reporting an error is drift (the port is re-added); our Interface deleted is drift', () => {
    expect(
      ovsPortDrift(upd('Interface', iface(), iface({ error: 'could not open network device h1' }))),
    ).toEqual({
      kind: 'port',
      lsp: 'vm1.ns',
    });
    expect(ovsPortDrift({ table: 'Interface', kind: 'delete', uuid: 'u1', old: iface() })).toEqual({
      kind: 'port',
      lsp: 'vm1.ns',
    });
  });

  it('our Port row maps to its LSP; other Ports and Interfaces are not ours', () => {
    const port = row({ name: 'h1', interfaces: ['i'], external_ids: { [RESOURCE_KEY]: 'Port/vm1.ns' } });
    expect(ovsPortDrift({ table: 'Port', kind: 'insert', uuid: 'p', new: port })).toEqual({
      kind: 'port',
      lsp: 'vm1.ns',
    });
    const tunnel = row({ name: 'ovn-abc-0', interfaces: ['t'], external_ids: {} });
    expect(ovsPortDrift({ table: 'Port', kind: 'insert', uuid: 't', new: tunnel }).kind).toBe('none');
    expect(
      ovsPortDrift({ table: 'Interface', kind: 'insert', uuid: 't', new: row({ name: 'x' }) }).kind,
    ).toBe('none');
  });
});
