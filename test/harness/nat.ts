/**
 * Traffic for NAT gateway tests, all inside test namespaces: a "VM" namespace on the VPC side
 * and an "external host" namespace on 203.0.113.0/24, servers and long-lived TCP sessions run
 * as child processes inside them (`ip netns exec … node -e`), and small clients (curl, ping).
 * Every process started here is recorded and stopped by PID with {@link stopAll}.
 */
import { execa, type ResultPromise } from 'execa';
import { stopPid, waitUntil } from '../../agent/sandbox/process.js';
import {
  createVeth,
  deleteLink,
  replaceAddress,
  replaceRoute,
  rtnl,
  setLinkUp,
} from '../../netlink/index.js';

/** The external segment (RFC 5737 TEST-NET-3) and its "router"/host. */
export const EXT_CIDR = '203.0.113.0/24';
export const EXT_HOST = '203.0.113.1';

const started = new Set<number>();

/** Stops every process this module started (by PID). */
export async function stopAll(): Promise<void> {
  for (const pid of [...started]) {
    await stopPid(pid, 1_000);
    started.delete(pid);
  }
}

/**
 * `nsenter --net` rather than `ip netns exec`: the latter gives the process its own copy of the
 * mount table, bind mounts of /run/netns included, and a namespace deleted while such a process
 * runs stays alive (with its links) until the process exits.
 */
function spawnIn(netns: string, script: string) {
  const child = execa('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', script], {
    reject: false,
    buffer: true,
    stdin: 'ignore',
  });
  if (child.pid !== undefined) started.add(child.pid);
  void child.then(() => child.pid !== undefined && started.delete(child.pid));
  return child;
}

/** Resolves when `child` printed `line` (its stdout so far is returned). */
async function waitForLine(child: ResultPromise, line: string, what: string): Promise<void> {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(() => out.split('\n').includes(line), { what, timeoutMs: 10_000 });
}

export interface Server {
  pid: number;
  stop(): Promise<void>;
}

/** An HTTP server in `netns` answering `<label> <client address>`. */
export async function startHttpServer(netns: string, port: number, label: string): Promise<Server> {
  const child = spawnIn(
    netns,
    `require('http').createServer((q,r)=>r.end(${JSON.stringify(label)}+' '+q.socket.remoteAddress))` +
      `.listen(${port},'0.0.0.0',()=>console.log('listening'))`,
  );
  await waitForLine(child, 'listening', `http server in ${netns}:${port}`);
  return { pid: child.pid!, stop: () => stopPid(child.pid!, 1_000) };
}

/** A TCP echo server in `netns`. */
export async function startEchoServer(netns: string, port: number): Promise<Server> {
  const child = spawnIn(
    netns,
    `require('net').createServer(s=>{s.on('error',()=>{});s.pipe(s)})` +
      `.listen(${port},'0.0.0.0',()=>console.log('listening'))`,
  );
  await waitForLine(child, 'listening', `echo server in ${netns}:${port}`);
  return { pid: child.pid!, stop: () => stopPid(child.pid!, 1_000) };
}

export interface Session {
  /** Bytes echoed back so far. */
  echoed(): number;
  /** Resolves with how it ended: `closed`, `error <code>`. */
  ended: Promise<string>;
  stop(): Promise<void>;
}

/** A TCP session from `netns` to `host:port` that sends a byte every 100 ms and counts echoes. */
export async function startSession(netns: string, host: string, port: number): Promise<Session> {
  const child = spawnIn(
    netns,
    `const s=require('net').connect(${port},${JSON.stringify(host)});let n=0;` +
      `s.on('connect',()=>setInterval(()=>s.write('x'),100));` +
      `s.on('data',d=>{n+=d.length;console.log('echo '+n)});` +
      `s.on('error',e=>{console.log('end error '+e.code);process.exit(3)});` +
      `s.on('close',()=>{console.log('end closed');process.exit(2)});`,
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const echoed = () => {
    const m = [...out.matchAll(/^echo (\d+)$/gm)].at(-1);
    return m ? Number(m[1]) : 0;
  };
  await waitUntil(() => echoed() > 0, { what: `session ${netns} -> ${host}:${port}`, timeoutMs: 10_000 });
  const ended = child.then(() => /^end (.*)$/m.exec(out)?.[1] ?? 'exited');
  return { echoed, ended, stop: () => stopPid(child.pid!, 1_000) };
}

/** `curl` from `netns`: the body, or undefined when it failed. */
export async function httpGet(
  netns: string,
  url: string,
  opts: { from?: string; timeoutS?: number } = {},
): Promise<string | undefined> {
  const args = ['-s', '--max-time', String(opts.timeoutS ?? 3)];
  if (opts.from) args.push('--interface', opts.from);
  const r = await execa('ip', ['netns', 'exec', netns, 'curl', ...args, url], { reject: false });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** One ping from `netns` (optionally from source address `from`): true when answered. */
export async function pingFrom(netns: string, ip: string, from?: string): Promise<boolean> {
  const args = ['-c', '1', '-W', '1', '-q', ...(from ? ['-I', from] : []), ip];
  const r = await execa('ip', ['netns', 'exec', netns, 'ping', ...args], { reject: false });
  return r.exitCode === 0;
}

/** Connects `ns`'s `eth0` to `peerNs`'s `peerName` with a fresh veth, addresses `cidrs` on eth0, up. */
export async function plugVeth(opts: {
  ns: string;
  cidrs: string[];
  peerNs: string;
  peerName: string;
  defaultVia?: string;
}): Promise<void> {
  const nl = rtnl(opts.ns);
  // An eth0 left from an earlier attachment (its peer in a namespace being torn down) goes first.
  await deleteLink(nl, 'eth0');
  await createVeth(nl, { name: 'eth0', peer: { name: opts.peerName, netns: opts.peerNs } });
  for (const c of opts.cidrs) await replaceAddress(nl, 'eth0', c);
  await setLinkUp(nl, 'eth0');
  if (opts.defaultVia) await replaceRoute(nl, { dst: 'default', via: opts.defaultVia });
}

export interface ArpSeen {
  /** 1 request, 2 reply. */
  op: number;
  senderMac: string;
  senderIp: string;
  targetIp: string;
}

/** Records the ARP packets seen on `dev` in `netns` (an AF_PACKET socket, in a python child). */
export async function captureArp(
  netns: string,
  dev: string,
): Promise<{ seen(): ArpSeen[]; stop(): Promise<void> }> {
  const script = [
    'import socket',
    's=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(0x0806))',
    `s.bind((${JSON.stringify(dev)},0))`,
    "print('ready',flush=True)",
    'while True:',
    '  p=s.recv(128)',
    "  print('arp',int.from_bytes(p[20:22],'big'),p[22:28].hex(':'),socket.inet_ntoa(p[28:32]),socket.inet_ntoa(p[38:42]),flush=True)",
  ].join('\n');
  const child = execa('nsenter', [`--net=/run/netns/${netns}`, 'python3', '-c', script], {
    reject: false,
    stdin: 'ignore',
  });
  if (child.pid !== undefined) started.add(child.pid);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(() => out.includes('ready'), { what: `ARP capture on ${netns}/${dev}`, timeoutMs: 10_000 });
  return {
    seen: () =>
      [...out.matchAll(/^arp (\d+) (\S+) (\S+) (\S+)$/gm)].map((m) => ({
        op: Number(m[1]),
        senderMac: m[2]!,
        senderIp: m[3]!,
        targetIp: m[4]!,
      })),
    stop: () => stopPid(child.pid!, 1_000),
  };
}
