/**
 * The package entry `ovsdb/index.ts` exposes the public API in one import.
 */
import { describe, expect, it } from 'vitest';
import * as ovsdb from '../../../../ovsdb/index.js';

describe('ovsdb public entry', () => {
  it('re-exports client, builders, errors, schema/notation, models, cache, monitor, rpc and unixctl', () => {
    for (const name of [
      'OvsdbClient',
      'OvsdbTryAgainError',
      'OvsdbClientError',
      'LockHandle',
      'judgeMember',
      'insert',
      'verify',
      'assertLock',
      'ops',
      'transact',
      'OvsdbTransactionError',
      'OvsdbValidationError',
      'OvsdbError',
      'parseSchema',
      'encodeDatum',
      'decodeDatum',
      'DatabaseCache',
      'Monitor',
      'RpcConnection',
      'ReconnectingSession',
      'unixctl',
      'unixctlBatch',
    ] as const) {
      expect(ovsdb[name], name).toBeDefined();
    }
    expect(ovsdb.nb.schema().name).toBe('OVN_Northbound');
    expect(ovsdb.server.schema().name).toBe('_Server');
    expect(new ovsdb.OvsdbTryAgainError('disconnected', 'x').code).toBe('OVSDB_TRY_AGAIN');
  });
});
