import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  doneFrameIndexes,
  getVideoResult,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { CliProcesses, logLines, type CliChild } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Workers killed as an operator (or the kernel) would: kill -9 with chunks in flight, the same
// chunk's workers killed twice in a row, SIGTERM and a second SIGTERM. Real worker processes
// (the CLI, cost-free analyzer slowed per batch so that chunks are in flight when the kill
// comes), the real producer, real Redis and ffmpeg; every test ends with the exact accounting.

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-faults-workers-'));
let pipeline: Pipeline;
let producer: ProducerHandle;
let processes: CliProcesses;

/** Worker process environment: JSON logs with the per-chunk debug line, no metrics port. */
function workerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: redisUrl(),
    FER_REDIS_PREFIX: prefix,
    FER_METRICS_ENABLED: '0',
    CI: 'true',
    LOG_LEVEL: 'debug',
    FER_MAX_BATCH_SIZE: '4',
    ...extra,
  };
}

function startWorker(name: string, batchDelayMs: number, env: NodeJS.ProcessEnv, concurrency = 1): CliChild {
  return processes.start(
    name,
    [
      'worker',
      '--analyzer',
      'cost-free',
      '--batch-delay-ms',
      String(batchDelayMs),
      '--concurrency',
      String(concurrency),
    ],
    env,
  );
}

/** Chunk job ids a worker process has started, in order (its 'chunk started' debug lines). */
function startedJobs(child: CliChild): string[] {
  return logLines(child)
    .filter((l) => l.msg === 'chunk started')
    .map((l) => String(l.jobId));
}

beforeAll(async () => {
  const config = loadConfig({}, { pipeline: { chunkFrames: 4 } });
  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
  producer = startProducer(pipeline);
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && processes)
    console.error(`[faults] process output of the failed test: ${processes.dump(context.task.name)}`);
  await processes?.stopAll();
});

afterAll(async () => {
  await producer?.close();
  await pipeline?.close();
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('workers killed mid-chunk', () => {
  it('kill -9 with chunks in flight: another worker runs them again within about 20 s (default lock and stall settings), nothing lost or counted twice', async () => {
    processes = new CliProcesses(100);
    const env = workerEnv();
    const a = startWorker('worker-a', 1500, env);
    const b = startWorker('worker-b', 300, env);
    // As in production, the surviving worker is already running when the other one dies.
    const started = (child: CliChild) => async () =>
      logLines(child).some((l) => l.msg === 'worker started') ? true : undefined;
    await processes.until(
      'both workers to start',
      async () => ((await started(a)()) && (await started(b)()) ? true : undefined),
      60_000,
    );
    // 8 s at 4 frames/s: 32 frames in 8 chunks of 4, each chunk 1.5 s of "inference".
    const file = generateTestVideo(path.join(dir, 'kill9.mp4'), { seconds: 8, width: 96, height: 72 });
    const { videoId } = await submitVideo(pipeline, { path: file, options: { fps: 4 } });

    // Kill worker A while it holds a chunk it has not finished.
    const orphan = await processes.until('worker A to start a chunk', async () => startedJobs(a)[0], 60_000);
    await processes.kill(a);
    const killedAt = Date.now();
    const firstIndex = Number(orphan.split('-').pop()) * 4;
    await processes.until(
      "the killed worker's chunk to be analysed by worker B",
      async () => {
        // The per-frame hash is dropped once the video completes: completed means analysed too.
        if ((await pipeline.redis.hget(pipeline.keys.video(videoId), 'state')) === 'completed') return true;
        const done = await doneFrameIndexes(pipeline, videoId);
        return [0, 1, 2, 3].every((i) => done.has(firstIndex + i)) ? true : undefined;
      },
      60_000,
    );
    const recoveryMs = Date.now() - killedAt;
    console.log(
      `[faults] recovery after kill -9 of a worker: ${(recoveryMs / 1000).toFixed(1)} s until its chunk was analysed again (lock 10 s, stall check 5 s)`,
    );
    // Worst case with the defaults: the lock, last renewed up to 5 s before the kill, expires ≤ 10 s
    // after it; the next stall check comes ≤ 5 s later; the job moved back to wait reaches worker B
    // when its blocking wait for jobs wakes (≤ 5 s); B analyses it in 0.3 s. ≈20.3 s, and the
    // typical run is ≈15 s: the bound is that worst case plus polling slack (20 s flaked at 20.009 s).
    expect(recoveryMs).toBeLessThan(22_000);
    expect(startedJobs(b)).toContain(orphan);

    await waitForVideos(pipeline, [videoId], { timeoutMs: 60_000 });
    const totals = await expectExactAccounting(pipeline, [{ videoId, frames: 32 }]);
    expect(totals).toEqual({ analysed: 32, failed: 0 });
  });

  it('a chunk whose workers are killed twice in a row fails for good: its frames are recorded as failed with the reason and the video completes', async () => {
    processes = new CliProcesses(100);
    // Short locks so the test is quick; one restart allowed, the second stall fails the job.
    const env = workerEnv({
      FER_LOCK_DURATION_MS: '2000',
      FER_STALLED_INTERVAL_MS: '1000',
      FER_MAX_STALLED_COUNT: '1',
    });
    const file = generateTestVideo(path.join(dir, 'twice.mp4'), { seconds: 1, width: 96, height: 72 });
    const { videoId } = await submitVideo(pipeline, { path: file, options: { fps: 4 } });
    const chunk = `${videoId}-0`;

    const a = startWorker('worker-a', 600_000, env);
    await processes.until(
      'worker A to take the chunk',
      async () => (startedJobs(a).includes(chunk) ? true : undefined),
      60_000,
    );
    await processes.kill(a);
    const b = startWorker('worker-b', 600_000, env);
    await processes.until(
      'worker B to take the same chunk after the stall check',
      async () => (startedJobs(b).includes(chunk) ? true : undefined),
      60_000,
    );
    await processes.kill(b);
    startWorker('worker-c', 0, env);

    await waitForVideos(pipeline, [videoId], { timeoutMs: 60_000 });
    const totals = await expectExactAccounting(pipeline, [{ videoId, frames: 4 }]);
    expect(totals).toEqual({ analysed: 0, failed: 4 });
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    for (const frame of result.frames)
      expect(frame.error).toMatch(/stopped \(killed or unresponsive\) more than FER_MAX_STALLED_COUNT=1 times/);
  });

  it('SIGTERM finishes the chunks in flight and takes no new one; a second SIGTERM, or FER_STOP_TIMEOUT_MS running out, stops at once and its chunks are redone elsewhere', async () => {
    processes = new CliProcesses(100);
    const env = workerEnv({ FER_LOCK_DURATION_MS: '2000', FER_STALLED_INTERVAL_MS: '1000' });
    const file = generateTestVideo(path.join(dir, 'sigterm.mp4'), { seconds: 6, width: 96, height: 72 });
    const { videoId } = await submitVideo(pipeline, { path: file, options: { fps: 4 } });

    // Graceful: the chunks A holds at SIGTERM are finished by A, and A exits 0.
    const a = startWorker('worker-a', 1500, env, 2);
    await processes.until('worker A to start a chunk', async () => startedJobs(a)[0], 60_000);
    const heldAtSignal = startedJobs(a);
    expect(await processes.kill(a, 'SIGTERM')).toBe(0);
    const done = await doneFrameIndexes(pipeline, videoId);
    for (const jobId of startedJobs(a)) {
      const first = Number(jobId.split('-').pop()) * 4;
      for (let i = 0; i < 4; i++)
        expect(done.has(first + i), `frame ${first + i} of ${jobId}, finished by A before it exited`).toBe(true);
    }
    // No chunk taken after the signal: no "chunk started" line after A's "stopping" line (one process,
    // one log stream, in order). Counting lines read when the signal was sent raced a second chunk
    // started just before it whose line had not arrived yet.
    const lines = logLines(a);
    const stopping = lines.findIndex((l) => /^stopping: finishing jobs in flight/.test(String(l.msg)));
    expect(stopping).toBeGreaterThan(-1);
    expect(
      lines
        .slice(stopping)
        .filter((l) => l.msg === 'chunk started')
        .map((l) => l.jobId),
    ).toEqual([]);
    expect(startedJobs(a)).toEqual(expect.arrayContaining(heldAtSignal));

    // Forced: B gets two signals while its chunks take 60 s, and is gone within seconds.
    const b = startWorker('worker-b', 60_000, env, 2);
    await processes.until('worker B to start a chunk', async () => startedJobs(b)[0], 60_000);
    const signalled = Date.now();
    await processes.kill(b, 'SIGTERM', false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await processes.kill(b, 'SIGTERM')).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(8000);
    expect(b.output).toMatch(/stopping now/);

    // The deadline: one SIGTERM, chunks that would take 60 s, FER_STOP_TIMEOUT_MS=1500 — C stops at
    // once when it runs out (what Kubernetes' grace period relies on), its chunks redone elsewhere.
    const c = startWorker('worker-c', 60_000, { ...env, FER_STOP_TIMEOUT_MS: '1500' }, 2);
    await processes.until('worker C to start a chunk', async () => startedJobs(c)[0], 60_000);
    const deadlineSignalled = Date.now();
    expect(await processes.kill(c, 'SIGTERM')).toBe(0);
    expect(Date.now() - deadlineSignalled).toBeLessThan(1500 + 6000);
    expect(c.output).toMatch(/stopping now/);

    startWorker('worker-d', 0, env, 2);
    await waitForVideos(pipeline, [videoId], { timeoutMs: 60_000 });
    const totals = await expectExactAccounting(pipeline, [{ videoId, frames: 24 }]);
    expect(totals).toEqual({ analysed: 24, failed: 0 });
  });
});
