/**
 * `vpc-agent port add|del|list`: the local API's client on the command line (the CNI ADD/DEL
 * path by hand). Prints the agent's JSON answer; on error prints `{"error": {...}}` to stderr
 * and exits 1.
 */
import type { Command } from 'commander';
import { apiCall, ApiClientError, DEFAULT_API_SOCKET } from './api/index.js';

interface CommonFlags {
  apiSocket: string;
}

async function callAndPrint(method: string, body: unknown, flags: CommonFlags): Promise<void> {
  try {
    const out = await apiCall<unknown>(method, '/v1/ports', body, { socket: flags.apiSocket });
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } catch (err) {
    const error =
      err instanceof ApiClientError
        ? {
            status: err.status,
            code: err.code,
            message: err.message,
            ...(err.field ? { field: err.field } : {}),
          }
        : { code: 'ERR_CLIENT', message: err instanceof Error ? err.message : String(err) };
    process.stderr.write(JSON.stringify({ error }, null, 2) + '\n');
    process.exitCode = 1;
  }
}

export function registerPortCommands(program: Command): void {
  const port = program
    .command('port')
    .description('Workload (VM) ports on this node, through the local agent');
  port
    .command('add')
    .description('Attach a network namespace to a network: IP, LSP, veth, OVS port; waits until bound')
    .requiredOption('--network <ns/nad>', 'NetworkAttachmentDefinition <namespace>/<name>')
    .requiredOption('--netns <name>', 'network namespace (under /run/netns) that gets the interface')
    .option('--name <lsp>', 'logical switch port name (default <netns>.<namespace>.<provider>)')
    .option('--ip <address>', 'static address (refused with the IPAM reason if not available)')
    .option('--mac <mac>', 'static MAC')
    .option('--ifname <name>', 'interface name in the namespace (default eth0, then net1, net2, …)')
    .option('--dhcp', 'no address/route: the guest runs a DHCP client (OVN answers)')
    .option('--no-default-route', 'do not add the default route via the subnet gateway')
    .option('--api-socket <path>', 'agent API socket', DEFAULT_API_SOCKET)
    .action(
      async (f: {
        network: string;
        netns: string;
        name?: string;
        ip?: string;
        mac?: string;
        ifname?: string;
        dhcp?: boolean;
        defaultRoute: boolean;
        apiSocket: string;
      }) => {
        const body = {
          network: f.network,
          netns: f.netns,
          ...(f.name ? { name: f.name } : {}),
          ...(f.ip ? { ip: f.ip } : {}),
          ...(f.mac ? { mac: f.mac } : {}),
          ...(f.ifname ? { ifname: f.ifname } : {}),
          ...(f.dhcp ? { dhcp: true } : {}),
          // Only sent when switched off: the agent's default depends on the namespace's other ports.
          ...(f.defaultRoute === false ? { defaultRoute: false } : {}),
        };
        await callAndPrint('POST', body, f);
      },
    );
  port
    .command('del')
    .description("Detach a namespace's port(s): frees IP, LSP, OVS port and veth (idempotent)")
    .requiredOption('--netns <name>', 'network namespace')
    .option('--network <ns/nad>', 'only this network (default: every port of the namespace)')
    .option('--api-socket <path>', 'agent API socket', DEFAULT_API_SOCKET)
    .action(async (f: { netns: string; network?: string; apiSocket: string }) => {
      await callAndPrint('DELETE', { netns: f.netns, ...(f.network ? { network: f.network } : {}) }, f);
    });
  port
    .command('list')
    .description("This node's workload ports")
    .option('--api-socket <path>', 'agent API socket', DEFAULT_API_SOCKET)
    .action(async (f: CommonFlags) => {
      await callAndPrint('GET', undefined, f);
    });
}
