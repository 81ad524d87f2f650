import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

// A real Prometheus server for tests: the Debian binary (`prometheus` on PATH, or PROMETHEUS_BIN),
// on a free loopback port, with a temporary storage directory and a generated configuration.

export interface ScrapeJob {
  job: string;
  /** host:port of each /metrics endpoint. */
  targets: string[];
}

export interface TestPrometheus {
  readonly url: string;
  readonly configFile: string;
  /** Resolves once Prometheus has scraped every target successfully at least `scrapes` times (by `up` samples). */
  waitForScrapes(scrapes?: number, timeoutMs?: number): Promise<void>;
  query(promql: string, time?: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export const prometheusBinary = process.env.PROMETHEUS_BIN ?? 'prometheus';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPrometheus(options: {
  jobs: ScrapeJob[];
  scrapeIntervalSeconds?: number;
  ruleFiles?: string[];
  alertmanagers?: string[];
}): Promise<TestPrometheus> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-prometheus-'));
  const interval = options.scrapeIntervalSeconds ?? 1;
  const configFile = path.join(dir, 'prometheus.yml');
  // JSON is YAML: no YAML library needed to write the configuration.
  const config = {
    global: { scrape_interval: `${interval}s`, scrape_timeout: `${interval}s`, evaluation_interval: `${interval}s` },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.jobs.map((j) => ({ job_name: j.job, static_configs: [{ targets: j.targets }] })),
    ...(options.alertmanagers
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }] } }
      : {}),
  };
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      // Tests query right after the last scrape: no lookback surprises from stale markers.
      '--query.lookback-delta=1m',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (error) => {
    stderr += `\n${error.message}`;
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const query: TestPrometheus['query'] = async (promql, time) => {
    const params = new URLSearchParams({ query: promql });
    if (time !== undefined) params.set('time', String(time));
    const body = (await (await fetch(`${url}/api/v1/query?${params}`)).json()) as {
      status: string;
      error?: string;
      data: { result: never };
    };
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    return body.data.result;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const targetCount = options.jobs.reduce((n, j) => n + j.targets.length, 0);
  return {
    url,
    configFile,
    query,
    stop,
    async waitForScrapes(scrapes = 2, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const rows = await query(`count_over_time(up[10m]) and up == 1`);
        if (rows.length >= targetCount && rows.every((r) => Number(r.value[1]) >= scrapes)) return;
        if (Date.now() > until) {
          const targets = await (await fetch(`${url}/api/v1/targets`)).text();
          throw new Error(
            `prometheus did not scrape all ${targetCount} targets ${scrapes} times within ${timeoutMs} ms: ${targets.slice(0, 2000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}
