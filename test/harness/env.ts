/**
 * Test defaults applied before any sandbox module is loaded (import this first):
 * sandbox logs at `warn` unless VPC_AGENT_LOG_LEVEL says otherwise.
 */
process.env['VPC_AGENT_LOG_LEVEL'] ??= 'warn';
