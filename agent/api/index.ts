/** `agent/api` — the local API on a unix socket (server + client). */
export * from './client.js';
export * from './server.js';
export * from './protocol.js';
