import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, redisMemory, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { CliProcesses, logLines, type CliChild } from '../helpers/cli-processes.ts';
import { describeWithRedisServer, OwnRedis } from '../helpers/redis-server.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Producers killed and Redis itself going away: a producer kill -9ed twice on one video, Redis
// crashing (kill -9, AOF on) and restarting while a producer writes chunks, Redis down when the
// services start, and the API while Redis is down. Each test has its own redis-server on a free
// port, real producer/worker/API processes and real ffmpeg, and ends with the exact accounting.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-faults-redis-'));
const prefix = 'fer-faults';
let redis: OwnRedis | undefined;
let pipeline: Pipeline | undefined;
let processes: CliProcesses;

// 96x72 rgb24 = 20,736 bytes a frame, 4 frames a chunk: a budget of two chunks keeps the producer
// writing (and waiting) for most of the run.
const FRAME_BYTES = 96 * 72 * 3;

function env(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: url,
    FER_REDIS_PREFIX: prefix,
    FER_METRICS_ENABLED: '0',
    CI: 'true',
    LOG_LEVEL: 'info',
    FER_CHUNK_FRAMES: '4',
    FER_REDIS_FRAME_BUDGET_BYTES: String(FRAME_BYTES * 4 * 2),
    FER_LOCK_DURATION_MS: '2000',
    FER_STALLED_INTERVAL_MS: '1000',
    FER_FRAME_LEASE_SECONDS: '2',
    FER_RECOVERY_INTERVAL_MS: '1000',
    ...extra,
  };
}

function openTestPipeline(url: string): Pipeline {
  pipeline = createPipeline({
    redisUrl: url,
    prefix,
    config: loadConfig({}, { pipeline: { chunkFrames: 4 } }).pipeline,
  });
  return pipeline;
}

const framesProduced = async (p: Pipeline, videoId: string) =>
  Number((await p.redis.hget(p.keys.video(videoId), 'framesProduced')) ?? 0);
const noStackDumps = (child: CliChild) => {
  expect(child.output).not.toMatch(/Unhandled error event/);
  expect(child.output).not.toMatch(/\n\s+at [\w.<>]+ \(/);
};

beforeAll(() => {
  generateTestVideo(path.join(dir, 'ten.mp4'), { seconds: 10, width: 96, height: 72 });
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && processes)
    console.error(`[faults] process output of the failed test: ${processes.dump(context.task.name)}`);
  await processes?.stopAll();
  await pipeline?.close().catch(() => undefined);
  pipeline = undefined;
  await redis?.stop();
  redis = undefined;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Its own Redis, a worker and a producer process, three 40-frame videos: returns once the first is mid-way. */
async function threeVideosUnderWay(): Promise<{
  own: OwnRedis;
  p: Pipeline;
  worker: CliChild;
  producer: CliChild;
  ids: string[];
}> {
  const own = (redis = await OwnRedis.start());
  const p = openTestPipeline(own.url);
  processes = new CliProcesses(100);
  const e = env(own.url);
  const worker = processes.start('worker', ['worker', '--analyzer', 'cost-free', '--batch-delay-ms', '100'], e);
  const producer = processes.start('producer', ['producer'], e);
  const up = (child: CliChild, msg: string) => async () =>
    logLines(child).some((l) => l.msg === msg) ? true : undefined;
  await processes.until('the worker to start', up(worker, 'worker started'), 60_000);
  await processes.until('the producer to start', up(producer, 'producer started'), 60_000);
  const ids = await Promise.all(
    [0, 1, 2].map(async () => (await submitVideo(p, { path: path.join(dir, 'ten.mp4'), options: { fps: 4 } })).videoId),
  );
  await processes.until(
    'the producer to be mid-video',
    async () => ((await framesProduced(p, ids[0]!)) >= 8 ? true : undefined),
    60_000,
  );
  return { own, p, worker, producer, ids };
}

describeWithRedisServer('producers killed, Redis restarted', () => {
  it('a producer kill -9ed twice on one video: the next one resumes it, no frame lost or counted twice, the budget back to 0', async () => {
    redis = await OwnRedis.start();
    const p = openTestPipeline(redis.url);
    processes = new CliProcesses(100);
    const e = env(redis.url);
    processes.start('worker', ['worker', '--analyzer', 'cost-free', '--batch-delay-ms', '250'], e);
    const { videoId } = await submitVideo(p, { path: path.join(dir, 'ten.mp4'), options: { fps: 4 } });

    const first = processes.start('producer-1', ['producer'], e);
    await processes.until(
      'producer 1 to write 8 frames',
      async () => ((await framesProduced(p, videoId)) >= 8 ? true : undefined),
      60_000,
    );
    await processes.kill(first);
    const reached = await framesProduced(p, videoId);
    const second = processes.start('producer-2', ['producer'], e);
    await processes.until(
      'producer 2 to resume the video',
      async () => ((await framesProduced(p, videoId)) > reached ? true : undefined),
      60_000,
    );
    await processes.kill(second);
    processes.start('producer-3', ['producer'], e);

    await waitForVideos(p, [videoId], { timeoutMs: 90_000 });
    expect(await expectExactAccounting(p, [{ videoId, frames: 40 }])).toEqual({ analysed: 40, failed: 0 });
  });

  it('Redis crashes (kill -9) and restarts while a producer writes chunks: no video fails, every frame analysed once', async () => {
    const { own, p, worker, producer, ids } = await threeVideosUnderWay();
    await own.crash();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await own.up();

    await waitForVideos(p, ids, { timeoutMs: 90_000 });
    const totals = await expectExactAccounting(
      p,
      ids.map((videoId) => ({ videoId, frames: 40 })),
    );
    expect(totals).toEqual({ analysed: 120, failed: 0 });
    // One line for the outage and one for its end, no stack dump per reconnect attempt.
    for (const child of [worker, producer]) {
      expect(logLines(child).filter((l) => l.msg === 'Redis connection lost; reconnecting').length).toBe(1);
      expect(logLines(child).some((l) => l.msg === 'Redis connection restored')).toBe(true);
      noStackDumps(child);
    }
  }, 180_000);

  it('Redis fills up (maxmemory reached) while a producer writes chunks and workers store results: they wait, no video fails, every frame analysed once', async () => {
    const { p, worker, producer, ids } = await threeVideosUnderWay();
    // Full: maxmemory under what it holds, so every write is refused (noeviction) for 4 s.
    const [{ usedBytes }] = await redisMemory(p);
    await p.redis.config('SET', 'maxmemory', String(usedBytes! - 256 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await p.redis.config('SET', 'maxmemory', '0');

    await waitForVideos(p, ids, { timeoutMs: 90_000 });
    const totals = await expectExactAccounting(
      p,
      ids.map((videoId) => ({ videoId, frames: 40 })),
    );
    expect(totals).toEqual({ analysed: 120, failed: 0 });
    // Redis did refuse them, and said so once per reason (not once per BullMQ retry: hundreds a second).
    const refusals = [worker, producer].flatMap((child) => logLines(child).filter((l) => l.msg === 'queue error'));
    expect(
      refusals.some((l) => /^OOM command not allowed/.test(String(l.reason)) && /maxmemory/.test(String(l.hint))),
    ).toBe(true);
    for (const child of [worker, producer]) {
      expect(logLines(child).filter((l) => l.msg === 'queue error').length).toBeLessThanOrEqual(8);
      noStackDumps(child);
    }
  }, 180_000);

  it('Redis down at start: services wait with one line per attempt, one-shot commands say so in one line within 3 s (exit 4); the API answers 503 within 2 s while Redis is down and never runs what it refused', async () => {
    redis = await OwnRedis.reserve();
    processes = new CliProcesses(100);
    const e = env(redis.url, { FER_INPUT_DIR: dir });
    // Before the services start (their start-up would load the CPUs): the CLI's own start-up
    // (loading the command) measured in the same run, then the same command meeting no Redis.
    let t0 = Date.now();
    const help = processes.start('status-help', ['status', '--help'], e);
    expect(await help.exit).toBe(0);
    help.stopped = true;
    const startupMs = Date.now() - t0;
    t0 = Date.now();
    const status = processes.start('status', ['status', 'some-video-id'], e);
    status.stopped = true;
    expect(await status.exit).toBe(4);
    const unreachableMs = Date.now() - t0 - startupMs;
    console.log(
      `[faults] 'status' with Redis down: exit 4 after ${unreachableMs} ms beyond the CLI's ${startupMs} ms start-up`,
    );
    expect(unreachableMs).toBeLessThan(3000);
    const lines = status.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Redis unreachable at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);

    const worker = processes.start('worker', ['worker', '--analyzer', 'cost-free'], e);
    const producer = processes.start('producer', ['producer'], e);
    const api = processes.start('api', ['api', '--port', '0', '--host', '127.0.0.1'], e);
    for (const child of [worker, producer, api]) {
      await processes.until(
        `${child.name} to report waiting for Redis`,
        async () =>
          logLines(child).filter((l) => /not reachable yet; waiting \(attempt \d+/.test(String(l.msg))).length >= 2
            ? true
            : undefined,
        30_000,
      );
    }
    await redis.up();
    const url = await processes.until(
      'the API to listen',
      async () => logLines(api).find((l) => l.msg === 'API listening')?.url as string | undefined,
      60_000,
    );
    const p = openTestPipeline(redis.url);
    const { videoId } = await submitVideo(p, { path: path.join(dir, 'ten.mp4'), options: { fps: 4, maxFrames: 8 } });
    await waitForVideos(p, [videoId], { timeoutMs: 60_000 });
    await expectExactAccounting(p, [{ videoId, frames: 8 }]);
    for (const child of [worker, producer, api]) noStackDumps(child);

    // Redis goes away under a running API.
    await redis.crash();
    const timed = async (request: () => Promise<Response>) => {
      const t0 = Date.now();
      const response = await request();
      return {
        status: response.status,
        ms: Date.now() - t0,
        body: (await response.json()) as { error?: { code: string } },
      };
    };
    const statusWhileDown = await timed(() => fetch(`${url}/v1/videos/${videoId}`));
    const submitWhileDown = await timed(() =>
      fetch(`${url}/v1/videos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'ten.mp4' }),
      }),
    );
    const readyWhileDown = await timed(() => fetch(`${url}/readyz`));
    for (const r of [statusWhileDown, submitWhileDown, readyWhileDown]) {
      expect(r.status).toBe(503);
      expect(r.body.error?.code).toBe('unavailable');
      expect(r.ms).toBeLessThan(2000);
    }
    await redis.up();
    await processes.until(
      'the API to be ready again',
      async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // The refused submission never became a video.
    expect(await p.redis.zrange(p.keys.videoIndex, '0', '-1')).toEqual([videoId]);
    const ok = await fetch(`${url}/v1/videos/${videoId}`);
    expect(ok.status).toBe(200);

    // Redis hangs (connected, answering nothing): 503 within 2 s, and when Redis wakes up the
    // commands still in the API's socket must not turn into a video nobody was told about.
    redis.pause();
    const submitWhileHung = await timed(() =>
      fetch(`${url}/v1/videos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'ten.mp4' }),
      }),
    );
    expect(submitWhileHung.status).toBe(503);
    expect(submitWhileHung.ms).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    redis.resume();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await p.redis.zrange(p.keys.videoIndex, '0', '-1')).toEqual([videoId]);
    expect(
      await p.queues.videos.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'),
    ).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0, prioritized: 0 });
  });
});
