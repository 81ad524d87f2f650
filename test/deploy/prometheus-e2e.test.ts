import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { volumeFreeBytes } from '../../src/api/upload-space.ts';
import { loadConfig } from '../../src/config/index.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/model-dir.ts';
import { checkDashboard, describeFailures, type QueryCheck } from '../../src/metrics/dashboard-check.ts';
import { createPipeline, getVideoStatus, type Pipeline } from '../../src/pipeline/index.ts';
import { renderMarkdownTable, renderPanelsPng } from '../helpers/dashboard-render.ts';
import { freePort, startPrometheus, type TestPrometheus } from '../helpers/prometheus.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';
import { bin, CliProcesses, logLines, repoRoot, type CliChild } from '../helpers/cli-processes.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

// The shipped Grafana dashboard against a real Prometheus (the Debian binary) scraping a real
// pipeline: a producer process and two worker processes (which also aggregate), plus the API,
// started through the CLI on one Redis, two videos submitted with `fer-stream submit`. Then every PromQL expression of
// the dashboard must return finite data, a typo'd panel must be reported, and the metric values
// must agree with what the pipeline did. FER_DASHBOARD_RENDER_DIR=docs writes the rendering of the
// panels' results (docs/dashboard-test-run.{md,png}); otherwise it goes to a temporary directory.

const run = promisify(execFile);
const { prefix, cleanup } = testPrefix(import.meta.url);
const SCRAPE_SECONDS = 1;
const FPS = 4;
/** Video lengths in seconds; at FPS frames/s these sample 12 and 8 frames. */
const VIDEOS = [3, 2];

const processes = new CliProcesses(200);
const { children } = processes;
let tmp: string;
let prometheus: TestPrometheus | undefined;
let pipeline: Pipeline;
let start: number;
let end: number;
let workerPorts: number[] = [];
let basePort: number;
let apiPort: number;
let otherPorts: Record<string, number> = {};
let checks: QueryCheck[] = [];
let videoIds: string[] = [];
const dashboard = JSON.parse(
  await readFile(path.join(repoRoot, 'deploy/grafana/dashboards/fer-stream.json'), 'utf8'),
) as { panels: object[] };

const startChild = processes.start.bind(processes);
const until = processes.until.bind(processes);

/** The metrics port a process logged (`metrics on http://…:PORT/metrics`). */
function metricsPort(child: CliChild): Promise<number> {
  return until(
    `${child.name}'s metrics port`,
    async () => logLines(child).find((l) => typeof l.metricsPort === 'number')?.metricsPort as number | undefined,
    60_000,
  );
}

async function scalar(promql: string): Promise<number> {
  const rows = await prometheus!.query(promql);
  if (rows.length !== 1) throw new Error(`${promql}: expected one series, got ${JSON.stringify(rows)}`);
  return Number(rows[0]!.value[1]);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-prometheus-e2e-'));
  const modelDir = path.join(tmp, 'models', 'vit-tiny');
  await buildSyntheticVitModelDir({ outDir: modelDir, preset: 'tiny', seed: 11 });
  const videoFiles = VIDEOS.map((seconds, i) => generateTestVideo(path.join(tmp, `clip-${i}.mp4`), { seconds }));

  // Both workers are given the same metrics port: the second moves to the next free one.
  basePort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl(),
    FER_REDIS_PREFIX: prefix,
    FER_MODELS_DIR: path.join(tmp, 'models'),
    FER_METRICS_HOST: '127.0.0.1',
    FER_EXECUTION_PROVIDERS: 'cpu',
    FER_INTRA_OP_THREADS: '1',
    FER_CHUNK_FRAMES: '2',
    FER_MAX_BATCH_SIZE: '4',
    // Every frame through the classifier: the batch metrics are checked against the sampled frames.
    FER_REUSE_MAX_FRAMES: '0',
    FER_MAX_DELAY_MS: '20',
    CI: 'true',
  };
  const producer = startChild('producer', ['producer'], { ...env, FER_METRICS_PORT: '0', LOG_LEVEL: 'info' });
  const api = startChild('api', ['api', '--port', '0', '--host', '127.0.0.1'], {
    ...env,
    FER_METRICS_PORT: '0',
    FER_UPLOAD_DIR: path.join(tmp, 'uploads'),
    LOG_LEVEL: 'info',
  });
  const workerEnv = { ...env, FER_METRICS_PORT: String(basePort), FER_METRICS_PORT_ATTEMPTS: '10', LOG_LEVEL: 'debug' };
  const workers = [
    startChild('worker-1', ['worker', '--model', modelDir, '--no-detect'], workerEnv),
    startChild('worker-2', ['worker', '--model', modelDir, '--no-detect'], workerEnv),
  ];
  const producerPort = await metricsPort(producer);
  apiPort = await metricsPort(api);
  otherPorts = { producer: producerPort, api: apiPort };
  workerPorts = await Promise.all(workers.map(metricsPort));
  await Promise.all(
    workers.map((w) =>
      until(
        `${w.name} to start`,
        async () => (logLines(w).some((l) => l.msg === 'worker started') ? true : undefined),
        60_000,
      ),
    ),
  );

  start = Math.floor(Date.now() / 1000);
  prometheus = await startPrometheus({
    scrapeIntervalSeconds: SCRAPE_SECONDS,
    ruleFiles: [path.join(repoRoot, 'deploy/prometheus/rules.yml')],
    jobs: [
      { job: 'api', targets: [`127.0.0.1:${apiPort}`] },
      { job: 'producer', targets: [`127.0.0.1:${producerPort}`] },
      { job: 'worker', targets: workerPorts.map((p) => `127.0.0.1:${p}`) },
    ],
  });
  await prometheus.waitForScrapes(2);

  const { stdout } = await run(process.execPath, [bin, 'submit', '--fps', String(FPS), '--json', ...videoFiles], {
    cwd: repoRoot,
    env: { ...env, LOG_LEVEL: 'warn' },
  });
  videoIds = (JSON.parse(stdout) as Array<{ id: string }>).map((o) => o.id);
  expect(videoIds).toHaveLength(VIDEOS.length);

  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: loadConfig(env).pipeline });
  await until(
    'both videos to complete',
    async () => {
      const states = await Promise.all(videoIds.map((id) => getVideoStatus(pipeline, id)));
      if (states.some((s) => s?.state === 'failed')) throw new Error(`a video failed: ${JSON.stringify(states)}`);
      return states.every((s) => s?.state === 'completed') ? true : undefined;
    },
    120_000,
  );
  // Prometheus has the final values once it scraped after completion; a few more scrapes give the
  // rate() windows at the end of the range their samples.
  await until(
    'Prometheus to see both videos completed',
    async () => ((await scalar('sum(ferstream_videos_completed_total)')) === VIDEOS.length ? true : undefined),
    30_000,
  );
  await sleep(5 * SCRAPE_SECONDS * 1000);
  end = Math.floor(Date.now() / 1000);

  checks = await checkDashboard(dashboard, {
    prometheusUrl: prometheus.url,
    start,
    end,
    stepSeconds: SCRAPE_SECONDS,
    // Grafana: $__rate_interval = max($__interval + scrape interval, 4 × scrape interval).
    variables: { rateInterval: `${5 * SCRAPE_SECONDS}s`, interval: `${SCRAPE_SECONDS}s`, range: `${end - start}s` },
  });
  const renderDir = process.env.FER_DASHBOARD_RENDER_DIR
    ? path.resolve(repoRoot, process.env.FER_DASHBOARD_RENDER_DIR)
    : path.join(tmp, 'render');
  await mkdir(renderDir, { recursive: true });
  await writeRendering(renderDir);
}, 240_000);

afterAll(async () => {
  const codes = await processes.stopAll();
  await prometheus?.stop();
  await pipeline?.close();
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
  expect(codes).toEqual(Object.fromEntries(children.map((c) => [c.name, 0])));
});

async function writeRendering(dir: string): Promise<void> {
  const frames = VIDEOS.reduce((n, s) => n + s * FPS, 0);
  const title = `fer-stream dashboard over the test run: producer + 2 workers + API, ${VIDEOS.length} videos, ${frames} frames, tiny synthetic ViT, scrape ${SCRAPE_SECONDS} s`;
  await writeFile(path.join(dir, 'dashboard-test-run.png'), await renderPanelsPng(checks, { title, start, end }));
  const markdown = [
    '# fer-stream dashboard over a test run',
    '',
    'Generated by `FER_DASHBOARD_RENDER_DIR=docs npx vitest run test/deploy/prometheus-e2e.test.ts`: a real',
    'Prometheus (1 s scrapes) over a producer process, two worker processes and the API (tiny synthetic ViT,',
    `CPU, batches of at most 4) analysing ${VIDEOS.length} generated videos (${VIDEOS.join(' s and ')} s at ${FPS} frames/s = ${frames} frames).`,
    `Every query of \`deploy/grafana/dashboards/fer-stream.json\` evaluated over the ${end - start} s run`,
    '(`$__rate_interval` = 5 s, `$__range` = the run, `$instance` = all). Range queries show the last',
    'value and, in brackets, the largest over the run; instant queries the value at the end.',
    'Latency values are dominated by process start-up and the tiny model, not representative of',
    'production.',
    '',
    '![panels](dashboard-test-run.png)',
    '',
    renderMarkdownTable(checks),
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'dashboard-test-run.md'), markdown);
}

describeWithTools(
  'the shipped dashboard against a real Prometheus scraping a real pipeline',
  ['prometheus', 'ffmpeg'],
  () => {
    it('evaluates every PromQL expression of the dashboard: each returns finite data, none errors', () => {
      expect(checks.length).toBeGreaterThanOrEqual(30);
      expect(describeFailures(checks)).toEqual([]);
    });

    it('reports a panel with a typo in a metric name (the checker would fail this test)', async () => {
      const broken = structuredClone(dashboard);
      broken.panels.push({
        type: 'timeseries',
        title: 'Typo panel',
        datasource: { type: 'prometheus', uid: 'ferstream-prometheus' },
        targets: [{ refId: 'A', expr: 'sum(rate(ferstream_frames_procesed_total[$__rate_interval]))' }],
      });
      const brokenChecks = await checkDashboard(broken, {
        prometheusUrl: prometheus!.url,
        start,
        end,
        stepSeconds: SCRAPE_SECONDS,
        variables: { rateInterval: '5s', interval: '1s', range: `${end - start}s` },
      });
      expect(describeFailures(brokenChecks)).toEqual([
        'panel "Typo panel" A: empty: sum(rate(ferstream_frames_procesed_total[5s]))',
      ]);
    });

    it('metric values agree with what the pipeline did', async () => {
      const statuses = await Promise.all(videoIds.map((id) => getVideoStatus(pipeline, id)));
      const sampled = statuses.reduce((n, s) => n + s!.progress.framesTotal!, 0);
      expect(sampled).toBe(VIDEOS.reduce((n, s) => n + s * FPS, 0));

      // Frames processed (summed over both workers) = frames sampled; none failed.
      expect(await scalar('sum(ferstream_frames_processed_total)')).toBe(sampled);
      expect(await scalar('sum(ferstream_frames_failed_total)')).toBe(0);
      // Whole-frame mode: one "face" (the frame) per frame.
      expect(await scalar('sum(ferstream_faces_detected_total)')).toBe(sampled);
      // Videos: completed = submitted (the producer counts submissions, workers completions).
      expect(await scalar('sum(ferstream_videos_submitted_total)')).toBe(VIDEOS.length);
      expect(await scalar('sum(ferstream_videos_completed_total)')).toBe(VIDEOS.length);
      expect(await scalar('sum(ferstream_video_frames_sum)')).toBe(sampled);
      expect(await scalar('sum(ferstream_frame_latency_seconds_count)')).toBe(sampled);

      // Inference runs: every worker logs each batch at debug level (`inference batch`).
      const batches = children
        .filter((c) => c.name.startsWith('worker'))
        .flatMap((c) => logLines(c).filter((l) => l.msg === 'inference batch'));
      expect(batches.length).toBeGreaterThan(0);
      expect(await scalar('sum(ferstream_inference_batch_size_count)')).toBe(batches.length);
      expect(await scalar('sum(ferstream_inference_duration_seconds_count)')).toBe(batches.length);
      // …and the images in those batches are the sampled frames, each classified once.
      const images = batches.reduce((n, b) => n + (b.batch as { size: number }).size, 0);
      expect(images).toBe(sampled);
      expect(await scalar('sum(ferstream_inference_batch_size_sum)')).toBe(sampled);
      expect(
        await scalar('sum(ferstream_inference_batch_size_count) - sum(ferstream_inference_batch_size_bucket{le="4"})'),
      ).toBe(0);

      // Nothing is left in Redis or in the queues.
      expect(await scalar('sum(ferstream_redis_held_frames)')).toBe(0);
      expect(await scalar('max(ferstream_queue_jobs{queue="frames", state="waiting"})')).toBe(0);

      // What runs where: both workers report the model and the provider they got.
      const info = await prometheus!.query('ferstream_build_info{job="worker"}');
      expect(info.map((r) => [r.metric.role, r.metric.model, r.metric.provider])).toEqual([
        ['worker', expect.any(String), 'cpu'],
        ['worker', expect.any(String), 'cpu'],
      ]);
      // The shipped recording rules evaluate on this data too.
      expect(await scalar('ferstream:workers_up:sum')).toBe(2);
    });

    it('two workers on one host serve /metrics on different ports; both are scraped and reachable', async () => {
      expect(workerPorts).toHaveLength(2);
      expect(new Set(workerPorts).size).toBe(2);
      for (const port of workerPorts) expect(port - basePort).toBeGreaterThanOrEqual(0);
      for (const port of workerPorts) expect(port - basePort).toBeLessThan(10);
      const up = await prometheus!.query('up{job="worker"}');
      expect(up.map((r) => r.value[1])).toEqual(['1', '1']);

      let processedOverWorkers = 0;
      for (const port of workerPorts) {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(response.status).toBe(200);
        const text = await response.text();
        const processed = Number(/^ferstream_frames_processed_total (\d+)$/m.exec(text)?.[1]);
        expect(processed).toBeGreaterThanOrEqual(0);
        processedOverWorkers += processed;
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      }
      expect(processedOverWorkers).toBe(VIDEOS.reduce((n, s) => n + s * FPS, 0));
      // The per-worker throughput panel sees both instances.
      const perWorker = checks.find((c) => c.query.source.startsWith('panel "Frames per second per worker"'))!;
      expect(perWorker.series.map((s) => s.metric.instance).sort()).toEqual(
        workerPorts.map((p) => `127.0.0.1:${p}`).sort(),
      );
    });

    it('every long-running process (API, producer, workers) serves /metrics and /healthz and is scraped', async () => {
      const up = await prometheus!.query('up');
      expect(Object.fromEntries(up.map((r) => [`${r.metric.job} ${r.metric.instance}`, r.value[1]]))).toEqual(
        Object.fromEntries([
          [`api 127.0.0.1:${otherPorts.api}`, '1'],
          [`producer 127.0.0.1:${otherPorts.producer}`, '1'],
          ...workerPorts.map((p) => [`worker 127.0.0.1:${p}`, '1']),
        ]),
      );
      for (const port of [otherPorts.api!, otherPorts.producer!, ...workerPorts]) {
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(health.status).toBe(200);
        expect(((await health.json()) as { status: string }).status).toBe('ok');
      }
      const roles = await prometheus!.query('ferstream_build_info');
      expect(roles.map((r) => `${r.metric.job}:${r.metric.role}`).sort()).toEqual([
        'api:api',
        'producer:producer',
        'worker:worker',
        'worker:worker',
      ]);
      // The API exports its upload volume's free space (statfs, at scrape time) and the floor it keeps.
      const [free] = await prometheus!.query('ferstream_upload_volume_free_bytes');
      expect(free!.metric.job).toBe('api');
      expect(Math.abs(Number(free!.value[1]) - (await volumeFreeBytes(path.join(tmp, 'uploads'))))).toBeLessThan(
        1024 ** 3,
      );
      // … and how full Redis is (INFO memory at scrape time), against its maxmemory.
      const used = await prometheus!.query('ferstream_redis_used_memory_bytes');
      expect(used.map((r) => `${r.metric.job}:${r.metric.node}`)).toEqual(['api:primary']);
      expect(Number(used[0]!.value[1])).toBeGreaterThan(1e5);
      const max = await prometheus!.query('ferstream_redis_maxmemory_bytes');
      expect(max.map((r) => r.value[1])).toEqual([/maxmemory:(\d+)/.exec(await pipeline.redis.info('memory'))![1]]);
      const floor = await prometheus!.query('ferstream_upload_volume_min_free_bytes');
      expect(floor.map((r) => `${r.metric.job}:${r.value[1]}`)).toEqual([`api:${512 * 1024 ** 2}`]);
    });

    it('the shipped rules load and evaluate without errors', async () => {
      const body = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as {
        data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
      };
      const rules = body.data.groups.flatMap((g) => g.rules);
      expect(rules.length).toBeGreaterThanOrEqual(10);
      expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual(
        [],
      );
    });
  },
);
