/**
 * The sandbox's logger: the agent's pino logger (JSON lines on stderr — stdout is reserved
 * for the CLI's JSON output), child `{ module: 'sandbox' }`. Level from
 * `VPC_AGENT_LOG_LEVEL` (default `info`; tests may set `silent`).
 */
import { childLogger } from '../log.js';

export const log = childLogger('sandbox');
