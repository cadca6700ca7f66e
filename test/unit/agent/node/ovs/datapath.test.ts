import { describe, expect, it } from 'vitest';
import { disableTxChecksumFor, USERSPACE_DATAPATH } from '../../../../../agent/node/ovs/datapath.js';

describe('TX checksum offload by datapath type', () => {
  it('is turned off for the userspace datapath only', () => {
    expect(USERSPACE_DATAPATH).toBe('netdev');
    expect(disableTxChecksumFor('netdev')).toBe(true);
    // The kernel datapath: `system`, or the column left empty (its default).
    expect(disableTxChecksumFor('system')).toBe(false);
    expect(disableTxChecksumFor('')).toBe(false);
    expect(disableTxChecksumFor('NETDEV')).toBe(false);
  });
});
