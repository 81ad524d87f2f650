import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, getVideoStatus, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Fairness across videos: chunks are served by their position in their own video (the n-th
// chunk of every video before the (n+1)-th of any), so a short video submitted while a long one
// is being analysed is not queued behind all of the long one's chunks. One slow worker (100 ms a
// batch), real producer, Redis and ffmpeg.

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-fairness-'));
let pipeline: Pipeline;
let producer: ProducerHandle;
let worker: WorkerHandle;

beforeAll(() => {
  pipeline = createPipeline({
    redisUrl: redisUrl(),
    prefix,
    config: loadConfig({}, { pipeline: { chunkFrames: 4, fps: 4 } }).pipeline,
  });
  producer = startProducer(pipeline);
  worker = startWorker(pipeline, {
    analyzer: new CostFreeAnalyzer({ batchDelayMs: 100, maxBatchSize: 4 }),
    concurrency: 1,
  });
});

afterAll(async () => {
  await producer?.close();
  await worker?.close();
  await pipeline?.close();
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('fairness', () => {
  it('a 3 s video submitted while a long one is being analysed completes first, close to its solo time', async () => {
    const short = generateTestVideo(path.join(dir, 'short.mp4'), { seconds: 3, width: 96, height: 72 });
    const long = generateTestVideo(path.join(dir, 'long.mp4'), { seconds: 90, width: 96, height: 72 });

    let t0 = Date.now();
    const solo = await submitVideo(pipeline, { path: short });
    await waitForVideos(pipeline, [solo.videoId], { timeoutMs: 60_000, pollMs: 50 });
    const soloMs = Date.now() - t0;

    const longVideo = await submitVideo(pipeline, { path: long });
    // The long video is under way: every one of its 90 chunks is queued ahead of the short one's.
    for (;;) {
      const status = await getVideoStatus(pipeline, longVideo.videoId);
      if (status!.state === 'processing' && status!.progress.framesDone > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t0 = Date.now();
    const shortVideo = await submitVideo(pipeline, { path: short });
    await waitForVideos(pipeline, [shortVideo.videoId], { timeoutMs: 60_000, pollMs: 50 });
    const mixedMs = Date.now() - t0;
    const longAtThatTime = (await getVideoStatus(pipeline, longVideo.videoId))!;
    console.log(
      `[fairness] 3 s video alone: ${soloMs} ms; beside a 90 s video: ${mixedMs} ms (the long one at ${longAtThatTime.progress.framesDone}/360 frames)`,
    );
    expect(longAtThatTime.state).not.toBe('completed');
    expect(longAtThatTime.progress.framesDone).toBeLessThan(360 / 2);

    await waitForVideos(pipeline, [longVideo.videoId], { timeoutMs: 120_000 });
    await expectExactAccounting(pipeline, [
      { videoId: solo.videoId, frames: 12 },
      { videoId: shortVideo.videoId, frames: 12 },
      { videoId: longVideo.videoId, frames: 360 },
    ]);
  });
});
