/**
 * Port add metrics: a {@link PortService} decorator timing every `add` (request to ready, or to
 * the error) and counting failures by their stable `code` (`ERR_PORT_*`, agent/node/ports/errors.ts).
 * `del`, `list` and `check` pass through untouched.
 */
import { AgentError } from '../errors.js';
import type { PortService } from '../node/ports/index.js';
import type { AgentMetrics } from './registry.js';

/** `service` with its adds measured into `metrics`. */
export function instrumentPortService(service: PortService, metrics: AgentMetrics): PortService {
  return {
    async add(req) {
      const stop = metrics.portAddDuration.startTimer();
      try {
        const res = await service.add(req);
        stop({ result: 'ok' });
        return res;
      } catch (err) {
        stop({ result: 'error' });
        metrics.portAddFailures.inc({ code: err instanceof AgentError ? err.code : 'ERR_UNEXPECTED' });
        throw err;
      }
    },
    del: (req) => service.del(req),
    list: () => service.list(),
    check: (req) => service.check(req),
    ...(service.reapVmPorts ? { reapVmPorts: () => service.reapVmPorts!() } : {}),
  };
}
