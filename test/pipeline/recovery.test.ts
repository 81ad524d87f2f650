import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  getVideoResult,
  getVideoStatus,
  heldFrames,
  markVideoProduced,
  recordFrameResults,
  reserveChunk,
  sweepOnce,
  updateVideo,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { Worker } from 'bullmq';
import type { VideoResult } from '../../src/results/index.ts';
import { finalizeVideo } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

// The recovery sweep on its own: states that only a crash in the wrong place (or a bug) leaves
// behind, made directly in Redis, and resolved by one sweep — a reservation whose chunk was never
// written, a chunk job that failed for good without its frames recorded, a split video whose
// remaining frames have no job, a queued video whose producer job is gone.

const { prefix, cleanup } = testPrefix(import.meta.url);
let pipeline: Pipeline;

beforeAll(() => {
  const config = loadConfig({}, { pipeline: { frameLeaseSeconds: 1, videoStallSeconds: 1, videoRequeues: 1 } });
  // No worker or producer: the test calls the sweep itself and then aggregates what it enqueued.
  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
});

afterAll(async () => {
  await pipeline?.close();
  await cleanup();
});

/** The sweep asked for the video's aggregation: run it as the finalize worker would. */
async function aggregated(videoId: string): Promise<VideoResult> {
  expect(await pipeline.queues.finalize.getJobState(videoId)).toBe('waiting');
  await finalizeVideo(pipeline, videoId);
  return (await getVideoResult<VideoResult>(pipeline, videoId))!;
}

const PROBE = {
  durationSeconds: 10,
  codedWidth: 96,
  codedHeight: 72,
  width: 96,
  height: 72,
  rotation: 0,
  frameRate: 25,
  videoCodec: 'h264',
  audioCodec: null,
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
  fileBytes: 1000,
  startTime: 0,
  frameWidth: 96,
  frameHeight: 72,
};

/** A video record as the producer leaves it after splitting `frames` frames into `chunks` jobs. */
async function splitVideo(name: string, frames: number, chunks: number): Promise<string> {
  const { submitVideo } = await import('../../src/pipeline/index.ts');
  const { videoId } = await submitVideo(pipeline, { path: `/nonexistent/${name}.mp4`, options: { fps: 2 } });
  await pipeline.queues.videos.remove(videoId);
  await updateVideo(pipeline, videoId, { state: 'producing', probe: JSON.stringify(PROBE) });
  await markVideoProduced(pipeline, videoId, frames, chunks);
  return videoId;
}

const sweepUntilIdle = async () => {
  // One sweep at a time across processes (a lock for most of an interval): wait it out between sweeps.
  await pipeline.redis.del(pipeline.keys.recoveryLock);
  return sweepOnce(pipeline);
};

describe('state changes of finished videos', () => {
  it('a producer run that lost its lock cannot move a finished video back: updateVideo refuses', async () => {
    const videoId = await splitVideo('finished', 2, 1);
    await recordFrameResults(
      pipeline,
      videoId,
      [0, 1].map((index) => ({ index, timestamp: index / 2, faces: [] })),
      { releaseChunk: pipeline.keys.chunk(videoId, 0) },
    );
    await finalizeVideo(pipeline, videoId);
    expect((await getVideoStatus(pipeline, videoId))!.state).toBe('completed');
    expect(await updateVideo(pipeline, videoId, { state: 'probing' })).toBe(false);
    expect(await updateVideo(pipeline, videoId, { framesProduced: 2 })).toBe(false);
    expect((await getVideoStatus(pipeline, videoId))!.state).toBe('completed');
    expect(await updateVideo(pipeline, 'no-such-video', { state: 'probing' })).toBe(false);
    expect(await pipeline.redis.exists(pipeline.keys.video('no-such-video'))).toBe(0);
  });
});

describe('recovery sweep', () => {
  it('gives back a reservation whose chunk was never written once its lease is over', async () => {
    const key = pipeline.keys.chunk('lost-producer', 0);
    await reserveChunk(pipeline, key, 1000, 4);
    expect((await sweepUntilIdle())!.leasesReleased).toBe(0);
    expect(await heldFrames(pipeline)).toEqual({ bytes: 1000, frames: 4 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sweepUntilIdle())!.leasesReleased).toBe(1);
    expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
  });

  it('a chunk job found failed for good: its missing frames are recorded with the reason, the chunk released, the video completes', async () => {
    const videoId = await splitVideo('failed-job', 4, 1);
    const chunkKey = pipeline.keys.chunk(videoId, 0);
    await reserveChunk(pipeline, chunkKey, 4 * 96 * 72 * 3, 4);
    await pipeline.redis.set(chunkKey, Buffer.alloc(4 * 96 * 72 * 3), 'EX', 60);
    // Frame 0 was analysed before the crash; the job then failed (as a stall limit would fail it).
    await recordFrameResults(pipeline, videoId, [{ index: 0, timestamp: 0, faces: [] }], {});
    const data = {
      videoId,
      chunkKey,
      firstIndex: 0,
      width: 96,
      height: 72,
      timestamps: [0, 0.5, 1, 1.5],
      producedAt: Date.now(),
    };
    await pipeline.queues.frames.add('chunk', data, { jobId: `${videoId}-0`, attempts: 1, removeOnFail: 1000 });
    // Fails it the way BullMQ fails a job stalled too often, in a process that then records nothing.
    const failing = new Worker(
      'frames',
      async () => Promise.reject(new Error('job stalled more than allowable limit')),
      { ...pipeline.workerOptions(), autorun: true },
    );
    await new Promise<void>((resolve) => failing.once('failed', () => resolve()));
    await failing.close();
    expect(await pipeline.queues.frames.getFailedCount()).toBe(1);

    expect((await sweepUntilIdle())!.chunksResolved).toBe(1);
    const result = await aggregated(videoId);
    expect(result.counts).toMatchObject({ sampled: 4, analysed: 1, failed: 3 });
    expect(result.frames[1]!.error).toMatch(
      /stopped \(killed or unresponsive\) more than FER_MAX_STALLED_COUNT=2 times/,
    );
    expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
    expect(await pipeline.redis.exists(chunkKey)).toBe(0);
    expect(await pipeline.queues.frames.getFailedCount()).toBe(0);
  });

  it('a split video without progress and with no job left: its lost frames are recorded as failed and it completes', async () => {
    const videoId = await splitVideo('lost-jobs', 6, 2);
    await recordFrameResults(
      pipeline,
      videoId,
      [0, 1, 2].map((index) => ({ index, timestamp: index / 2, faces: [] })),
      { releaseChunk: pipeline.keys.chunk(videoId, 0) },
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sweepUntilIdle())!.videosResolved).toBe(1);
    const result = await aggregated(videoId);
    expect(result.counts).toMatchObject({ sampled: 6, analysed: 3, failed: 3 });
    expect(result.frames.map((f) => f.timestamp)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(result.frames[5]!.error).toMatch(/frame lost: no job was left to analyse it/);
  });

  it('a queued video whose producer job is gone is requeued, and failed with video_stalled when that does not help', async () => {
    const { submitVideo } = await import('../../src/pipeline/index.ts');
    const { videoId } = await submitVideo(pipeline, { path: '/nonexistent/queued.mp4' });
    await pipeline.queues.videos.remove(videoId);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sweepUntilIdle())!.videosRequeued).toBe(1);
    expect(await pipeline.queues.videos.getJobState(videoId)).toBe('waiting');
    // No producer runs in this test: the requeued job is never taken, and the next time it is gone again.
    await pipeline.queues.videos.remove(videoId);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sweepUntilIdle())!.videosResolved).toBe(1);
    const status = (await getVideoStatus(pipeline, videoId))!;
    expect(status.state).toBe('failed');
    expect(status.error).toEqual({
      code: 'video_stalled',
      message: 'no producer finished splitting this video into frames (requeued 1 times, FER_VIDEO_REQUEUES)',
    });
  });
});
