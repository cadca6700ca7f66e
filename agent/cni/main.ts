/**
 * The CNI plugin's executable: installed as `/opt/cni/bin/kube-ovn` (so Kube-OVN's
 * NetworkAttachmentDefinitions work unchanged) and as `/opt/cni/bin/vpc-agent-cni`. Reads the
 * configuration from stdin and CNI_* from the environment, asks the agent over its socket
 * (./plugin.ts), prints the result or the CNI error, exits 0 or 1.
 *
 * Start-up is what a runtime pays per NIC: this file imports only ./plugin.ts and the local API
 * client (node:http), and `npm run build` bundles it into one file (dist/cni/).
 */
import { readFileSync } from 'node:fs';
import { apiCall } from '../api/client.js';
import { runPlugin } from './plugin.js';

function readStdin(): string {
  // VERSION may come with nothing on stdin; a closed or absent stdin reads as empty.
  if (process.env['CNI_COMMAND'] === 'VERSION' && process.stdin.isTTY) return '';
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

// No top-level await: the bundle is CommonJS (one file node runs without a package.json).
void runPlugin(process.env, readStdin(), (socket, method, path, body) =>
  apiCall(method, path, body, { socket }),
).then((out) => {
  if (out.stdout) process.stdout.write(out.stdout + '\n');
  // The runtime parses the error object on stdout and logs stderr.
  if (out.exitCode !== 0) process.stderr.write(`vpc-agent-cni: ${out.stdout}\n`);
  process.exitCode = out.exitCode;
});
