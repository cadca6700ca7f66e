/**
 * The sandbox's logger: pino JSON lines on stderr (stdout is reserved for the CLI's JSON
 * output). Level from `VPC_AGENT_LOG_LEVEL` (default `info`; tests may set `silent`).
 */
import { pino } from 'pino';

const root = pino(
  { level: process.env['VPC_AGENT_LOG_LEVEL'] ?? 'info', base: { pid: process.pid } },
  pino.destination(2),
);

/** Child logger `{ module: 'sandbox' }`. */
export const log = root.child({ module: 'sandbox' });
