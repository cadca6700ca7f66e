/** createNodeMetrics' defaults: the OVS run directory from the Open_vSwitch remote. */
import { describe, expect, it } from 'vitest';
import { unixRemoteDir } from '../../../../agent/metrics/node.js';

describe('unixRemoteDir', () => {
  it('is the directory of the first unix: remote, undefined for tcp/ssl', () => {
    expect(unixRemoteDir('unix:/var/run/openvswitch/db.sock')).toBe('/var/run/openvswitch');
    expect(unixRemoteDir('unix:/tmp/sbx/nodes/node1/conf.sock,tcp:127.0.0.1:6640')).toBe(
      '/tmp/sbx/nodes/node1',
    );
    expect(unixRemoteDir('tcp:127.0.0.1:6640')).toBeUndefined();
    expect(unixRemoteDir('ssl:10.0.0.1:6640')).toBeUndefined();
  });
});
