/**
 * CNI errors as the plugin prints them (CNI spec §2 "Errors"): `{cniVersion, code, msg, details}`
 * on stdout and a non-zero exit. Codes 1-99 are the spec's; 100 and up are this plugin's.
 */

/** Well-known error codes (CNI spec §2), and this plugin's own (100+). */
export const CNI_CODES = {
  /** The configuration's cniVersion is not one this plugin speaks. */
  INCOMPATIBLE_VERSION: 1,
  /** A field of the configuration this plugin does not support. */
  UNSUPPORTED_FIELD: 2,
  /** The container (attachment) is unknown or does not exist. */
  UNKNOWN_CONTAINER: 3,
  /** A required environment variable is missing or malformed. */
  INVALID_ENV: 4,
  /** Reading stdin or talking to the agent failed. */
  IO_FAILURE: 5,
  /** The configuration is not valid JSON. */
  DECODE_FAILURE: 6,
  /** The configuration is JSON but wrong (a missing provider, a network that does not exist). */
  INVALID_CONFIG: 7,
  /** Transient: the agent is not up, not ready, or the port did not come up in time. */
  TRY_AGAIN_LATER: 11,
  /** STATUS: the plugin cannot serve ADDs now (the agent is unreachable or not loaded). */
  NOT_AVAILABLE: 50,
  /** The agent refused the request (an address already taken, a name clash). */
  REFUSED: 100,
  /** The agent failed on the node (OVS, netlink). */
  AGENT_FAILED: 101,
  /** CHECK: the attachment exists but is not complete. */
  CHECK_FAILED: 102,
} as const;

export class CniError extends Error {
  readonly code: number;
  readonly details: string | undefined;
  constructor(code: number, msg: string, details?: string) {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }
}

/** The error object the runtime reads on stdout. */
export function formatCniError(err: CniError, cniVersion: string): Record<string, unknown> {
  return {
    cniVersion,
    code: err.code,
    msg: err.message,
    ...(err.details ? { details: err.details } : {}),
  };
}
