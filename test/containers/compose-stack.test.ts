import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { repoRoot } from '../helpers/cli-processes.ts';
import { freePort } from '../helpers/own-redis.ts';
import { sharedPath } from '../helpers/shared.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { containerHealth, driveHealthChecks, podman, podmanEnv, PodmanService, runOk } from './podman.ts';

// The deployment as its users meet it, on Podman through its Docker-compatible socket: the local
// stand-ins for the base images, `podman build` of Dockerfile from a clean copy of the repository,
// the README's compose commands (docker-compose 1.29) bringing the stack up healthy, an upload
// completing, `--scale worker=3` found by Prometheus in its container, a worker killed mid-video,
// an alert reaching a webhook through Alertmanager, Dockerfile.gpu as far as it builds here.
// The test's own override only publishes Redis (for the accounting) and gives Prometheus and
// Alertmanager their shipped configuration with shorter intervals and the test's receiver.

const PROJECT = 'ferstack';
const token = 'a'.repeat(48);
let dir: string;
let service: PodmanService | undefined;
let health: { stop(): void } | undefined;
let receiver: Server | undefined;
let pipeline: Pipeline | undefined;
const alerts: Array<{ status: string; labels: Record<string, string> }> = [];
const ports = { api: 0, prometheus: 0, alertmanager: 0, redis: 0, receiver: 0 };
const timings: Record<string, number> = {};

const composeFiles = [
  '-f',
  'docker-compose.yml',
  '-f',
  'deploy/podman/docker-compose.podman.yml',
  '-f',
  'test-override.yml',
];
const compose = (args: readonly string[], timeoutMs = 600_000) =>
  runOk('docker-compose', ['-p', PROJECT, ...composeFiles, ...args], {
    cwd: dir,
    env: { ...podmanEnv, DOCKER_HOST: service!.dockerHost },
    timeoutMs,
  });
const api = (route: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${ports.api}${route}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
};

async function upload(file: string): Promise<string> {
  const form = new FormData();
  form.set('file', new Blob([readFileSync(file)]), path.basename(file));
  form.set('fps', '5');
  const response = await api('/v1/videos', { method: 'POST', body: form });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}
type Status = { state: string; progress: { framesTotal: number | null; framesDone: number; framesFailed: number } };
const status = async (id: string) => (await (await api(`/v1/videos/${id}`)).json()) as Status;
const completed = (id: string, timeoutMs = 240_000) =>
  until(
    `video ${id} to complete`,
    async () => ((await status(id)).state === 'completed' ? status(id) : undefined),
    timeoutMs,
  );

/** The repository's tracked files (and new ones not ignored) in a fresh directory: a clean build context. */
function cleanCopy(to: string): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot })
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    try {
      copyFileSync(path.join(repoRoot, file), path.join(to, file));
    } catch {
      // A file deleted in the working tree but still in the index.
    }
  }
}

/** The shipped Prometheus and Alertmanager configuration with test intervals and the test's receiver. */
function derivedMonitoring(): void {
  const prometheusDir = path.join(dir, 'test-monitoring/prometheus');
  const alertmanagerDir = path.join(dir, 'test-monitoring/alertmanager');
  mkdirSync(prometheusDir, { recursive: true });
  mkdirSync(alertmanagerDir, { recursive: true });
  const shipped = (file: string) => readFileSync(path.join(dir, 'deploy', file), 'utf8');
  writeFileSync(
    path.join(prometheusDir, 'prometheus.yml'),
    shipped('prometheus/prometheus.yml').replace(
      /(scrape_interval|evaluation_interval|refresh_interval|scrape_timeout): \d+s/g,
      '$1: 2s',
    ),
  );
  writeFileSync(
    path.join(prometheusDir, 'rules.yml'),
    shipped('prometheus/rules.yml').replace(/for: \d+m/g, 'for: 5s'),
  );
  writeFileSync(
    path.join(alertmanagerDir, 'alertmanager.yml'),
    shipped('alertmanager/alertmanager.yml')
      .replace(/group_wait: \d+s/, 'group_wait: 1s')
      .replace('http://alert-receiver:9095/alerts', `http://host.containers.internal:${ports.receiver}/alerts`),
  );
  for (const d of [path.join(dir, 'test-monitoring'), prometheusDir, alertmanagerDir]) chmodSync(d, 0o755);
  writeFileSync(
    path.join(dir, 'test-override.yml'),
    [
      'services:',
      '  redis:',
      `    ports: ['127.0.0.1:${ports.redis}:6379']`,
      '  prometheus:',
      `    volumes: ['${prometheusDir}:/etc/prometheus:ro']`,
      '  alertmanager:',
      `    volumes: ['${alertmanagerDir}:/etc/alertmanager:ro']`,
      '',
    ].join('\n'),
  );
}

describeWithTools('the compose stack on Podman', ['podman (as root)', 'docker-compose', 'ffmpeg'], () => {
  beforeAll(async () => {
    for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (d: Buffer) => (body += d.toString()));
      request.on('end', () => {
        for (const alert of (JSON.parse(body) as { alerts: typeof alerts }).alerts) alerts.push(alert);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(ports.receiver, '0.0.0.0', resolve));
    dir = mkdtempSync(path.join(os.tmpdir(), 'fer-stack-'));
    cleanCopy(dir);
    derivedMonitoring();
    writeFileSync(
      path.join(dir, '.env'),
      [
        `FER_API_TOKENS=alice:${token}`,
        `FER_API_HOST_PORT=${ports.api}`,
        `PROMETHEUS_HOST_PORT=${ports.prometheus}`,
        `ALERTMANAGER_HOST_PORT=${ports.alertmanager}`,
        '',
      ].join('\n'),
    );
    // A 30 s talking face (the shared fixture looped) for throughput and the kill.
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-stream_loop',
      '9',
      '-i',
      sharedPath('fixtures/video/grid_bbaf2n.mp4'),
      '-c',
      'copy',
      '-y',
      path.join(dir, 'talk30.mp4'),
    ]);
    service = await PodmanService.start();
    health = driveHealthChecks(PROJECT);
  }, 900_000);

  afterAll(async () => {
    if (service && dir)
      await compose(['down', '-v', '--remove-orphans'], 180_000).catch((e: unknown) => console.warn(String(e)));
    health?.stop();
    await pipeline?.close();
    await service?.stop();
    receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log('[containers] timings (s):', JSON.stringify(timings));
  }, 300_000);

  it('base images are made locally; Dockerfile builds from a clean copy and runs as non-root', async () => {
    let t = Date.now();
    await runOk(path.join(dir, 'deploy/podman/base-images.sh'), [], { timeoutMs: 600_000 });
    timings.baseImages = (Date.now() - t) / 1000;
    t = Date.now();
    await podman(['build', '-t', 'fer-stream:cpu', '-f', path.join(dir, 'Dockerfile'), dir], 900_000);
    timings.build = (Date.now() - t) / 1000;
    const [user, size] = (
      await podman(['image', 'inspect', '--format', '{{.Config.User}} {{.Size}}', 'fer-stream:cpu'])
    )
      .trim()
      .split(' ');
    expect(user).toBe('node');
    expect((await podman(['run', '--rm', '--entrypoint', 'id', 'fer-stream:cpu', '-u'])).trim()).toBe('1000');
    expect((await podman(['run', '--rm', 'fer-stream:cpu', '--version'])).trim()).toMatch(/^fer-stream \d+\.\d+\.\d+/);
    console.log(
      `[containers] fer-stream:cpu is ${(Number(size) / 1e6).toFixed(0)} MB, runs as ${user}; base images ${timings.baseImages} s, build ${timings.build} s`,
    );
  }, 1_500_000);

  it("the README's compose command brings the stack up healthy, and an uploaded video completes with its results", async () => {
    const t = Date.now();
    await compose(['up', '-d', '--build']);
    const services = ['redis', 'api', 'producer', 'worker'];
    await until(
      'every health check to pass',
      async () => {
        const states = await containerHealth(PROJECT);
        return services.every((s) => states.get(`${PROJECT}_${s}_1`) === 'healthy') ? states : undefined;
      },
      240_000,
    ).catch(async (error: unknown) => {
      // What a red CI run needs to say why: each container's state and its last log lines.
      for (const [name, state] of await containerHealth(PROJECT))
        console.warn(`[containers] ${name}: ${state}\n${await podman(['logs', '--tail', '15', name]).catch(String)}`);
      throw error;
    });
    timings.upHealthy = (Date.now() - t) / 1000;
    expect(((await (await api('/readyz')).json()) as { status?: string }).status ?? 'ready').toBe('ready');

    const id = await upload(sharedPath('fixtures/video/grid_bbaf2n.mp4'));
    const done = await completed(id);
    expect(done.progress.framesFailed).toBe(0);
    const result = (await (await api(`/v1/videos/${id}/results`)).json()) as {
      frames: unknown[];
      dominant: { label: string } | null;
      persons: unknown[];
    };
    expect(result.frames.length).toBe(done.progress.framesTotal);
    // The fixture's speaker is found, and has an expression.
    expect(result.persons.length).toBeGreaterThanOrEqual(1);
    expect(typeof result.dominant?.label).toBe('string');
    expect((await (await api(`/v1/videos/${id}/results?format=csv`)).text()).split('\n').length).toBeGreaterThan(2);
  }, 600_000);

  it('--scale worker=3: Prometheus in its container finds three worker targets by DNS, all up; frames/s with 1 and 3 workers', async () => {
    let t = Date.now();
    const one = await completed(await upload(path.join(dir, 'talk30.mp4')));
    const seconds1 = (Date.now() - t) / 1000;
    await compose(['up', '-d', '--scale', 'worker=3']);
    const targets = await until(
      'three worker targets up',
      async () => {
        const response = (await (
          await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets?state=active`)
        ).json()) as {
          data: {
            activeTargets: Array<{ labels: { job: string }; health: string; discoveredLabels: Record<string, string> }>;
          };
        };
        const workers = response.data.activeTargets.filter((target) => target.labels.job === 'worker');
        return workers.length === 3 && workers.every((w) => w.health === 'up') ? workers : undefined;
      },
      180_000,
    );
    expect(new Set(targets.map((w) => w.discoveredLabels.__address__)).size).toBe(3);
    t = Date.now();
    const three = await completed(await upload(path.join(dir, 'talk30.mp4')));
    const seconds3 = (Date.now() - t) / 1000;
    timings.framesPerSecond1 = Number((one.progress.framesTotal! / seconds1).toFixed(1));
    timings.framesPerSecond3 = Number((three.progress.framesTotal! / seconds3).toFixed(1));
    console.log(
      `[containers] ${one.progress.framesTotal} frames: 1 worker ${timings.framesPerSecond1} frames/s, 3 workers ${timings.framesPerSecond3} frames/s (upload to completed, ${os.cpus().length} cores)`,
    );
  }, 600_000);

  it('a worker container killed mid-video (SIGKILL): the video completes with exact accounting, and the restart policy brings the worker back', async () => {
    pipeline = createPipeline({
      redisUrl: `redis://127.0.0.1:${ports.redis}`,
      prefix: 'fer',
      config: loadConfig({}).pipeline,
    });
    const id = await upload(path.join(dir, 'talk30.mp4'));
    await until(
      'frames being analysed',
      async () => ((await status(id)).progress.framesDone >= 10 ? true : undefined),
      120_000,
    );
    const victim = `${PROJECT}_worker_1`;
    const restartsBefore = Number((await podman(['inspect', '--format', '{{.RestartCount}}', victim])).trim());
    // Killed the way a crash or the kernel's OOM killer does (SIGKILL to its process from outside):
    // `podman kill`, like `docker kill`, counts as stopped by the user, and restart policies leave
    // such a container down.
    const pid = (await podman(['inspect', '--format', '{{.State.Pid}}', victim])).trim();
    process.kill(Number(pid), 'SIGKILL');
    const done = await completed(id);
    expect(await expectExactAccounting(pipeline, [{ videoId: id, frames: done.progress.framesTotal! }])).toEqual({
      analysed: done.progress.framesTotal,
      failed: 0,
    });
    await until(
      'the killed worker to run again',
      async () => {
        const [running, restarts] = (
          await podman(['inspect', '--format', '{{.State.Running}} {{.RestartCount}}', victim])
        )
          .trim()
          .split(' ');
        return running === 'true' && Number(restarts) > restartsBefore ? true : undefined;
      },
      120_000,
    );
  }, 600_000);

  it('every worker stopped with a video waiting: FerStreamNoWorkerUp fires and Alertmanager delivers it to the webhook', async () => {
    await compose(['stop', 'worker']);
    await upload(path.join(dir, 'talk30.mp4'));
    const alert = await until(
      'FerStreamNoWorkerUp at the receiver',
      async () => alerts.find((a) => a.labels.alertname === 'FerStreamNoWorkerUp' && a.status === 'firing'),
      180_000,
    );
    expect(alert.labels.severity).toBeDefined();
  }, 300_000);

  it('Dockerfile.gpu builds up to its CUDA base; the GPU override puts workers on the CUDA image with a GPU each', async () => {
    await podman(['build', '--target', 'check', '-f', path.join(dir, 'Dockerfile.gpu'), dir], 900_000);
    const config = await runOk(
      'docker-compose',
      ['-f', 'docker-compose.yml', '-f', 'docker-compose.gpu.yml', 'config'],
      { cwd: dir },
    );
    expect(config).toMatch(/worker:[\s\S]*image: fer-stream:gpu/);
    expect(config).toMatch(/driver: nvidia/);
  }, 900_000);
});
