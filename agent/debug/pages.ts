/**
 * The agent's `/debug/<page>` pages: `state`, `errors` and `trace`, each JSON by default and
 * readable text with `?format=text` (served by the HTTP server in agent/metrics/server.ts).
 */
import type { DatabaseCache, TlsOptions } from '../../ovsdb/index.js';
import type { DebugPage } from '../metrics/index.js';
import { debugErrors, debugState, type DebugSources } from './state.js';
import { stateText } from './text.js';
import { parseTraceQuery, runTrace, TraceRequestError } from './trace.js';

export interface TraceDeps {
  nb: DatabaseCache;
  /** Southbound remotes; undefined: the agent runs without `--sb`, and trace says so. */
  sb: string | readonly string[] | undefined;
  tls?: TlsOptions | undefined;
}

export function debugPages(sources: () => DebugSources, trace: TraceDeps): Record<string, DebugPage> {
  return {
    state: () => {
      const body = debugState(sources());
      return { body, text: () => stateText(body) };
    },
    errors: () => ({ body: debugErrors(sources()) }),
    trace: async (query) => {
      let req;
      try {
        req = parseTraceQuery(query);
      } catch (err) {
        if (err instanceof TraceRequestError)
          return { code: 400, body: { error: err.message, param: err.param } };
        throw err;
      }
      if (trace.sb === undefined)
        return { code: 503, body: { error: 'trace needs the Southbound database (--sb)' } };
      const sb = typeof trace.sb === 'string' ? trace.sb : trace.sb.join(',');
      try {
        const r = await runTrace({ nb: trace.nb, sb, tls: trace.tls }, req);
        return { body: r, text: () => `${r.datapath}: ${r.microflow}\n\n${r.output}\n` };
      } catch (err) {
        if (err instanceof TraceRequestError)
          return { code: 400, body: { error: err.message, param: err.param } };
        return { code: 502, body: { error: err instanceof Error ? err.message : String(err) } };
      }
    },
  };
}
