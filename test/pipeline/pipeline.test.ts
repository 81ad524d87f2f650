import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { FrameAnalysis, FrameAnalyzer, RgbImage } from '../../src/core/types.ts';
import {
  createPipeline,
  getVideoResult,
  getVideoStatus,
  heldFrames,
  recordFrameResults,
  submitVideo,
  updateVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { CostFreeAnalyzer, frameOrigin, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { generateAudioOnly, generateTestVideo } from '../helpers/videos.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-pipeline-'));

/** Cost-free analysis, except frames listed in `failing` (by video name and index) always fail. */
class FailingAnalyzer implements FrameAnalyzer {
  private readonly inner = new CostFreeAnalyzer();
  readonly info = this.inner.info;
  calls = 0;
  constructor(private readonly failing: (videoId: string, index: number) => boolean) {}
  analyze(frame: RgbImage): Promise<FrameAnalysis> {
    this.calls += 1;
    const origin = frameOrigin(frame);
    if (origin && this.failing(origin.videoId, origin.index))
      return Promise.reject(new Error(`boom at frame ${origin.index}`));
    return this.inner.analyze(frame);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('pipeline: producer → Redis → worker → aggregation (cost-free analyzer)', () => {
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;
  const failingVideos = new Set<string>();
  const analyzer = new FailingAnalyzer((videoId, index) => failingVideos.has(videoId) && (index === 3 || index === 7));

  beforeAll(() => {
    const config = loadConfig({}, { pipeline: { chunkFrames: 4, frameAttempts: 2, retryBackoffMs: 10, fps: 5 } });
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    producer = startProducer(pipeline);
    worker = startWorker(pipeline, { analyzer, concurrency: 4 });
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    await pipeline?.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes good videos with exact frame counts and fails bad input with specific messages, independently', async () => {
    const good = [1, 2.4, 3].map((seconds, i) => generateTestVideo(path.join(dir, `good${i}.mp4`), { seconds }));
    const zero = path.join(dir, 'zero.mp4');
    writeFileSync(zero, '');
    const text = path.join(dir, 'notes.mp4');
    writeFileSync(text, 'this is not a video at all\n'.repeat(50));
    const audio = generateAudioOnly(path.join(dir, 'tone.m4a'));

    const ids = {
      good0: (await submitVideo(pipeline, { path: good[0]! })).videoId,
      zero: (await submitVideo(pipeline, { path: zero })).videoId,
      good1: (await submitVideo(pipeline, { path: good[1]! })).videoId,
      text: (await submitVideo(pipeline, { path: text })).videoId,
      audio: (await submitVideo(pipeline, { path: audio })).videoId,
      missing: (await submitVideo(pipeline, { path: path.join(dir, 'nope.mp4') })).videoId,
      good2: (await submitVideo(pipeline, { path: good[2]!, options: { fps: 2 } })).videoId,
    };
    const statuses = await waitForVideos(pipeline, Object.values(ids), { timeoutMs: 60_000, pollMs: 50 });
    const state = (id: string) => statuses.get(id)!;

    expect(state(ids.zero).state).toBe('failed');
    expect(state(ids.zero).error).toEqual({
      code: 'empty_file',
      message: expect.stringContaining('is empty (0 bytes)'),
    });
    expect(state(ids.text).error).toEqual({
      code: 'invalid_video',
      message: expect.stringContaining('not a readable video file'),
    });
    expect(state(ids.audio).error).toEqual({
      code: 'no_video_stream',
      message: expect.stringMatching(/no video stream \(found: audio\/aac\)/),
    });
    expect(state(ids.missing).error?.code).toBe('video_not_found');

    const expected: Array<[string, number, number]> = [
      [ids.good0, 5, 0.2],
      [ids.good1, 12, 0.2],
      [ids.good2, 6, 0.5],
    ];
    for (const [id, frames, step] of expected) {
      expect(state(id).state).toBe('completed');
      expect(state(id).progress).toMatchObject({ framesTotal: frames, framesDone: frames, framesFailed: 0 });
      const result = (await getVideoResult<VideoResult>(pipeline, id))!;
      expect(result.counts).toMatchObject({ sampled: frames, analysed: frames, failed: 0 });
      expect(result.frames.map((f) => f.timestamp)).toEqual(
        Array.from({ length: frames }, (_, i) => Math.round(i * step * 1e6) / 1e6),
      );
      for (const f of result.frames) expect(f.probabilities!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(result.model.name).toBe('cost-free');
    }
    // Every chunk was released once its results were stored.
    expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
    const chunkKeys = await pipeline.redis.keys(`${prefix}:chunk:*`);
    expect(chunkKeys).toEqual([]);
  });

  it('a frame that keeps failing is retried, then recorded as failed, and the video still completes', async () => {
    const file = generateTestVideo(path.join(dir, 'flaky.mp4'), { seconds: 2 });
    // Register the id as failing before any frame can be analysed: submit, then mark.
    const { videoId } = await submitVideo(pipeline, { path: file, options: { fps: 5 } });
    failingVideos.add(videoId);
    const before = analyzer.calls;
    const [status] = [...(await waitForVideos(pipeline, [videoId], { timeoutMs: 60_000, pollMs: 50 })).values()];
    expect(status!.state).toBe('completed');
    expect(status!.progress).toMatchObject({ framesTotal: 10, framesDone: 10, framesFailed: 2 });
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    expect(result.counts).toMatchObject({ sampled: 10, analysed: 8, failed: 2 });
    expect(result.frames.filter((f) => f.error !== undefined).map((f) => [f.index, f.error])).toEqual([
      [3, 'boom at frame 3'],
      [7, 'boom at frame 7'],
    ]);
    // Both chunks with a failing frame ran twice (frameAttempts 2): 10 frames + 2 chunks × 4 again.
    expect(analyzer.calls - before).toBe(18);
  });

  it('a frame result stored twice is counted once', async () => {
    // A record no producer knows about (not enqueued), all of whose 3 frames are enqueued.
    const videoId = 'hand-made-video';
    await pipeline.redis.hset(pipeline.keys.video(videoId), {
      videoId,
      state: 'queued',
      options: '{}',
      submittedAt: new Date().toISOString(),
    });
    await updateVideo(pipeline, videoId, { state: 'processing', framesTotal: 3 });
    const frame = (index: number) => ({ index, timestamp: index / 2, faces: [] });
    const chunkKey = `${prefix}:chunk:${videoId}:0`;
    const first = await recordFrameResults(pipeline, videoId, [frame(0), frame(1)], { releaseChunk: chunkKey });
    const again = await recordFrameResults(pipeline, videoId, [frame(0), frame(1)], { releaseChunk: chunkKey });
    expect(first).toEqual({ framesDone: 2, complete: false, videoExists: true });
    expect(again).toEqual({ framesDone: 2, complete: false, videoExists: true });
    const last = await recordFrameResults(pipeline, videoId, [frame(2)], { releaseChunk: chunkKey });
    expect(last.complete).toBe(true);
    expect((await getVideoStatus(pipeline, videoId))!.progress.framesDone).toBe(3);
  });
});
