/**
 * The agent's OVSDB clients (Northbound, Southbound, this node's Open_vSwitch), made in one
 * place so that each gets the same TLS material, each start says what it waits for and gives
 * up after `startTimeoutMs`, and a failed start can close every client opened so far — also
 * those a half-started subsystem made and never handed back.
 */
import { OvsdbClient, parseRemotes, type OvsdbClientOptions, type TlsOptions } from '../ovsdb/index.js';
import { assertTlsFor } from './config/tls.js';
import { formatDuration } from './config/values.js';
import { AgentError } from './errors.js';
import type { Logger } from './log.js';

export interface AgentClientsConfig {
  /** Given to every client (for its `ssl:` remotes). */
  tls?: TlsOptions;
  /** How long {@link AgentClients.ready} waits; 0 = no limit. */
  startTimeoutMs: number;
}

export interface AgentClients {
  /**
   * `OvsdbClient.create` with the agent's TLS material, not started.
   * @throws AgentError `ERR_CONFIG` for an `ssl:` remote without TLS material or with TLS files
   *   that are not there (it could never connect).
   */
  create(opts: OvsdbClientOptions): OvsdbClient;
  /**
   * Starts `client` and waits for its first complete sync, logging what it waits for.
   * @throws AgentError `ERR_START_TIMEOUT` after `startTimeoutMs`, with the last connect error.
   */
  ready(client: OvsdbClient): Promise<void>;
  /** Closes every client {@link create} made (idempotent). */
  closeAll(): Promise<void>;
}

/** Names for logs and errors. */
const DATABASE_NAMES: Record<string, string> = {
  OVN_Northbound: 'Northbound',
  OVN_Southbound: 'Southbound',
  Open_vSwitch: 'Open_vSwitch',
};

interface Opened {
  remotes: string;
  lastError: Error | undefined;
}

export function createAgentClients(deps: { log: Logger }, config: AgentClientsConfig): AgentClients {
  const opened = new Map<OvsdbClient, Opened>();
  return {
    create(opts) {
      const tls = opts.tls ?? config.tls;
      assertTlsFor(opts.database, opts.remotes, tls);
      const client = OvsdbClient.create({ ...opts, ...(tls ? { tls } : {}) });
      const state: Opened = {
        remotes: parseRemotes(opts.remotes)
          .map((r) => r.text)
          .join(','),
        lastError: undefined,
      };
      // A member refused for an error while vetting it: that error says more than the refusal.
      client.on(
        'connectFailed',
        ({ error }) => (state.lastError = error.cause instanceof Error ? error.cause : error),
      );
      opened.set(client, state);
      return client;
    },
    async ready(client) {
      const state = opened.get(client);
      const name = DATABASE_NAMES[client.database] ?? client.database;
      const where = state ? ` at ${state.remotes}` : '';
      deps.log.info({ database: client.database, remotes: state?.remotes }, `waiting for ${name}${where}`);
      const ms = config.startTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        if (ms <= 0) return;
        timer = setTimeout(() => {
          const last = state?.lastError ? ` (last error: ${state.lastError.message})` : '';
          reject(
            new AgentError(
              'ERR_START_TIMEOUT',
              `${name}${where} not connected and synced within ${formatDuration(ms)}${last}`,
              { cause: state?.lastError },
            ),
          );
        }, ms);
      });
      try {
        await Promise.race([client.start().then(() => client.ready()), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async closeAll() {
      await Promise.all([...opened.keys()].map((c) => c.close()));
    },
  };
}
