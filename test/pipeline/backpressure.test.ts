import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  getVideoStatus,
  heldFrames,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { generateTestVideo } from '../helpers/videos.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

// Bounded memory: a 10-minute video at 5 fps (3,000 frames) against a deliberately slow worker.
// The producer (its own process) must never hold more frame bytes in Redis than the budget —
// checked on the held-bytes counter AND on the actual sizes of the chunk values — and its RSS
// must stay flat while it waits for the worker.

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-backpressure-'));
const FRAME_BYTES = 160 * 120 * 3;
const CHUNK_FRAMES = 8;
// Room for two and a half chunks: the producer must wait for the worker almost all the time.
const BUDGET = Math.floor(2.5 * CHUNK_FRAMES * FRAME_BYTES);

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

describe('producer backpressure under a Redis frame budget', () => {
  let pipeline: Pipeline;
  let worker: WorkerHandle;

  beforeAll(() => {
    const config = loadConfig({}, { pipeline: { chunkFrames: CHUNK_FRAMES, redisFrameBudgetBytes: BUDGET } });
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    // Slow: one chunk at a time, 8 ms per batch of at most 8 frames.
    worker = startWorker(pipeline, {
      analyzer: new CostFreeAnalyzer({ maxBatchSize: 8, maxDelayMs: 1, batchDelayMs: 8 }),
      concurrency: 1,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await pipeline?.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 10-minute video never holds more than the budget in Redis, and the producer RSS stays flat', async () => {
    const file = generateTestVideo(path.join(dir, 'ten-minutes.mp4'), {
      seconds: 600,
      width: 160,
      height: 120,
      rate: 5,
    });
    const producer = spawn(process.execPath, [path.join(repo, 'bin/fer-stream.js'), 'producer'], {
      cwd: repo,
      env: {
        ...process.env,
        REDIS_URL: redisUrl(),
        FER_REDIS_PREFIX: prefix,
        FER_METRICS_ENABLED: '0',
        FER_CHUNK_FRAMES: String(CHUNK_FRAMES),
        FER_REDIS_FRAME_BUDGET_BYTES: String(BUDGET),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => producer.once('exit', resolve));
    try {
      const { videoId } = await submitVideo(pipeline, { path: file, options: { fps: 5 } });
      let maxCounter = 0;
      let maxActual = 0;
      const rss: Array<{ done: number; rss: number }> = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const held = await heldFrames(pipeline);
          maxCounter = Math.max(maxCounter, held.bytes);
          let actual = 0;
          for (const key of await pipeline.redis.keys(`${prefix}:chunk:*`)) actual += await pipeline.redis.strlen(key);
          maxActual = Math.max(maxActual, actual);
          const status = await getVideoStatus(pipeline, videoId);
          if (producer.exitCode === null)
            rss.push({ done: status?.progress.framesDone ?? 0, rss: rssBytes(producer.pid!) });
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();
      const [status] = [...(await waitForVideos(pipeline, [videoId], { timeoutMs: 240_000, pollMs: 200 })).values()];
      sampling = false;
      await sampler;

      expect(status!.state).toBe('completed');
      expect(status!.progress).toMatchObject({ framesTotal: 3000, framesDone: 3000, framesFailed: 0 });
      expect(maxCounter).toBeLessThanOrEqual(BUDGET);
      expect(maxActual).toBeLessThanOrEqual(BUDGET);
      // Backpressure engaged: the producer filled the budget (more than one chunk held at times).
      expect(maxCounter).toBeGreaterThan(CHUNK_FRAMES * FRAME_BYTES);
      expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });

      // RSS after warm-up (first 10% of frames) vs the highest later on: growth well under what
      // a leak of the frames would cost (3,000 × 57.6 KB = 173 MB went through). Garbage collection
      // is lazy, so some growth is normal; 32 MiB is a loose bound.
      const warm = rss.find((s) => s.done >= 300);
      expect(warm, 'producer RSS samples after warm-up').toBeDefined();
      const later = rss.filter((s) => s.done >= 300);
      const peak = Math.max(...later.map((s) => s.rss));
      const at = (frames: number) => ((later.find((s) => s.done >= frames)?.rss ?? 0) / 2 ** 20).toFixed(1);
      console.info(
        `producer RSS MiB at 300/750/1500/2250/2900 frames: ${[300, 750, 1500, 2250, 2900].map(at).join(' / ')}`,
      );
      console.info(
        `producer RSS: ${(warm!.rss / 2 ** 20).toFixed(1)} MiB after warm-up, peak ${(peak / 2 ** 20).toFixed(1)} MiB; max held ${maxCounter} B (counter) / ${maxActual} B (values), budget ${BUDGET} B`,
      );
      expect(peak - warm!.rss).toBeLessThan(32 * 2 ** 20);
    } finally {
      producer.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
