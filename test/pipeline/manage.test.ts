// Listing and deleting videos against the real pipeline (Redis, producer, a slow worker, ffmpeg):
// a video cancelled mid-processing leaves nothing in Redis under its id — record, frames, result,
// chunks, BullMQ jobs, index entries — and the frame budget is back to what it was; the other
// video goes on and completes. Listing pages newest first without repeats while videos arrive;
// expired records leave the index at the next sweep.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  deleteVideo,
  getVideoStatus,
  heldFrames,
  listVideos,
  pruneVideoIndex,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-manage-'));
let pipeline: Pipeline;
let producer: ProducerHandle;
let worker: WorkerHandle;

/** Every key under the prefix that names the video (records, chunks, BullMQ jobs). */
async function keysOf(videoId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await pipeline.redis.scan(cursor, 'MATCH', `${prefix}*${videoId}*`, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

beforeAll(() => {
  // A small frame budget: the producer of the long video waits for room, so chunks are queued and
  // held when it is cancelled.
  pipeline = createPipeline({
    redisUrl: redisUrl(),
    prefix,
    config: loadConfig({}, { pipeline: { chunkFrames: 4, fps: 4, redisFrameBudgetBytes: 96 * 72 * 3 * 4 * 6 } })
      .pipeline,
  });
  producer = startProducer(pipeline);
  worker = startWorker(pipeline, {
    analyzer: new CostFreeAnalyzer({ batchDelayMs: 150, maxBatchSize: 4 }),
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

describe('deleting and listing videos', () => {
  it('cancels a video mid-processing: nothing left under its id, budget back, the other video completes', async () => {
    const long = generateTestVideo(path.join(dir, 'long.mp4'), { seconds: 60, width: 96, height: 72 });
    const short = generateTestVideo(path.join(dir, 'short.mp4'), { seconds: 2, width: 96, height: 72 });
    const before = await heldFrames(pipeline);
    const victim = await submitVideo(pipeline, { path: long });
    for (;;) {
      const status = await getVideoStatus(pipeline, victim.videoId);
      if (status!.progress.framesDone >= 8 && (await heldFrames(pipeline)).bytes > 0) break;
      await sleep(50);
    }
    const other = await submitVideo(pipeline, { path: short });
    expect((await keysOf(victim.videoId)).some((k) => k.includes(':chunk:'))).toBe(true);

    const outcome = await deleteVideo(pipeline, victim.videoId);
    expect(outcome).toMatchObject({ state: expect.stringMatching(/producing|processing/), uploadedFile: null });
    expect(await getVideoStatus(pipeline, victim.videoId)).toBeNull();
    // Its queued chunk jobs are gone at once, not left for a worker to find (only one a worker holds, or
    // one a producer was adding at that moment, finishes later).
    const queued = await pipeline.queues.frames.getJobs(['waiting', 'prioritized', 'delayed']);
    expect(queued.filter((j) => j.data.videoId === victim.videoId).length).toBeLessThanOrEqual(1);

    // A chunk being written or analysed at that moment is released by whoever finishes it.
    let left: string[] = [];
    for (let waited = 0; waited < 10_000; waited += 100) {
      left = await keysOf(victim.videoId);
      if (left.length === 0 && (await heldFrames(pipeline)).bytes === before.bytes) break;
      await sleep(100);
    }
    expect(left).toEqual([]);
    expect(await heldFrames(pipeline)).toEqual(before);
    // No job of it in any queue's lists either (members, not keys).
    for (const queue of [pipeline.queues.videos, pipeline.queues.frames, pipeline.queues.finalize]) {
      const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'failed']);
      expect(
        jobs.filter((j) => j.data.videoId === victim.videoId).map((j) => j.id),
        queue.name,
      ).toEqual([]);
    }
    expect(await pipeline.redis.zscore(pipeline.keys.videoIndex, victim.videoId)).toBeNull();

    const [done] = (await waitForVideos(pipeline, [other.videoId], { timeoutMs: 60_000, pollMs: 50 })).values();
    expect(done!.state).toBe('completed');
    expect(await deleteVideo(pipeline, victim.videoId)).toBeNull();
    expect(await deleteVideo(pipeline, other.videoId)).toMatchObject({ state: 'completed' });
    expect(await keysOf(other.videoId)).toEqual([]);
  }, 120_000);

  it('lists newest first in pages whose cursor survives new submissions; filters by state and owner; prunes expired entries', async () => {
    const clip = generateTestVideo(path.join(dir, 'clip.mp4'), { seconds: 1, width: 32, height: 24 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await submitVideo(pipeline, { path: clip, owner: i % 2 === 0 ? 'alice' : 'bob' })).videoId);
      // The index orders by submission time in ms: two submissions in one millisecond have no order to check.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const first = await listVideos(pipeline, { limit: 2 });
    expect(first.videos.map((v) => v.videoId)).toEqual([ids[4], ids[3]]);
    // New videos arrive between pages: the next page goes on where the first stopped.
    await submitVideo(pipeline, { path: clip, owner: 'alice' });
    const second = await listVideos(pipeline, { limit: 2, cursor: first.next! });
    expect(second.videos.map((v) => v.videoId)).toEqual([ids[2], ids[1]]);
    const alice = await listVideos(pipeline, { limit: 10, owner: 'alice' });
    expect(alice.videos.every((v) => v.owner === 'alice')).toBe(true);
    expect(alice.videos.map((v) => v.videoId)).toEqual(expect.arrayContaining([ids[4], ids[2], ids[0]]));
    await waitForVideos(pipeline, ids, { timeoutMs: 60_000, pollMs: 50 });
    expect((await listVideos(pipeline, { limit: 10, state: 'completed' })).videos.map((v) => v.videoId)).toEqual(
      expect.arrayContaining(ids),
    );

    // A record past its retention (its TTL) leaves the index at the next prune.
    await pipeline.redis.del(pipeline.keys.video(ids[0]!));
    expect(await pruneVideoIndex(pipeline)).toBeGreaterThanOrEqual(1);
    expect(await pipeline.redis.zscore(pipeline.keys.videoIndex, ids[0]!)).toBeNull();
    expect(await pipeline.redis.zscore(pipeline.keys.videoIndex, ids[1]!)).not.toBeNull();
  }, 120_000);
});
