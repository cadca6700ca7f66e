/**
 * A real Prometheus server for e2e tests: the Debian `prometheus` binary as a private process on
 * 127.0.0.1 (a free port), with a temporary config and TSDB directory, scraping the given
 * targets every second; stopped by its PID. Its HTTP API (`/api/v1/query`, `/api/v1/metadata`)
 * is what the tests assert through.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, stopPid, waitUntil } from '../../agent/sandbox/process.js';

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  /** An instant query; the result vector's samples (labels and value). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** `/api/v1/metadata`: metric name → types reported by the targets. */
  metadata(): Promise<Record<string, { type: string; help: string }[]>>;
  /** Its log (stderr), for failure messages. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

interface ApiReply<T> {
  status: string;
  data: T;
  error?: string;
}

async function api<T>(base: string, pathAndQuery: string): Promise<T> {
  const res = await fetch(`${base}${pathAndQuery}`);
  const body = (await res.json()) as ApiReply<T>;
  if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? res.status}`);
  return body.data;
}

/** Starts Prometheus in `dir` scraping `targets` (`host:port`, path `/metrics`) as job `vpc-agent`. */
export async function startPrometheus(opts: { dir: string; targets: string[] }): Promise<PrometheusServer> {
  await mkdir(path.join(opts.dir, 'data'), { recursive: true });
  const config = path.join(opts.dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: vpc-agent',
      '    static_configs:',
      `      - targets: [${opts.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const logPath = path.join(opts.dir, 'prometheus.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', logFd, logFd], detached: false },
  );
  closeSync(logFd);
  if (child.pid === undefined) throw new Error('prometheus did not start');
  const pid = child.pid;
  child.unref();
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFile(logPath, 'utf8').catch(() => '');
  try {
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, {
      what: `prometheus ready on ${url}`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } catch (err) {
    await stopPid(pid);
    throw new Error(`prometheus did not become ready: ${await log()}`, { cause: err });
  }
  return {
    url,
    pid,
    async query(expr) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        url,
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    metadata: () => api(url, '/api/v1/metadata'),
    log,
    stop: () => stopPid(pid),
  };
}
