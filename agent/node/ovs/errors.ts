/** Errors of the node's Open_vSwitch programming (codes are stable; see agent/errors.ts). */
import { AgentError } from '../../errors.js';

export type NodeOvsErrorCode = 'OVS_NOT_INITIALIZED' | 'OVS_APPLY_FAILED' | 'UPLINK_MOVE_FAILED';

export class NodeOvsError extends AgentError {
  declare readonly code: NodeOvsErrorCode;
  constructor(code: NodeOvsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
