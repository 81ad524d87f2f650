import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { PipelineObserver } from '../../src/core/observer.ts';
import type { Classification, FrameAnalysis, FrameAnalyzer, RgbImage } from '../../src/core/types.ts';
import type { ImageClassifier, ImageInput } from '../../src/inference/types.ts';
import {
  createPipeline,
  getVideoStatus,
  heldFrames,
  reconcileHeld,
  reserveChunk,
  updateVideo,
  writeChunk,
  type FrameJobData,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { CostFreeAnalyzer, processFrameChunk, startWorker, WholeFrameAnalyzer } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);

/** A video record as submitVideo writes it, minus the queue (no producer runs in this file). */
async function handMadeVideo(pipeline: Pipeline, videoId: string, framesTotal: number): Promise<void> {
  await pipeline.redis.hset(pipeline.keys.video(videoId), {
    videoId,
    state: 'processing',
    options: JSON.stringify({ fps: 2 }),
    submittedAt: new Date().toISOString(),
    framesTotal,
  });
}

async function putChunk(
  pipeline: Pipeline,
  videoId: string,
  sequence: number,
  frames: number,
  size = 4,
): Promise<FrameJobData> {
  const chunkKey = pipeline.keys.chunk(videoId, sequence);
  const bytes = frames * size * size * 3;
  expect((await reserveChunk(pipeline, chunkKey, bytes, frames)).reserved).toBe(true);
  await writeChunk(pipeline, chunkKey, Buffer.alloc(bytes, 100));
  return {
    videoId,
    chunkKey,
    firstIndex: sequence * frames,
    width: size,
    height: size,
    timestamps: Array.from({ length: frames }, (_, i) => (sequence * frames + i) / 2),
    producedAt: Date.now(),
  };
}

describe('worker', () => {
  let pipeline: Pipeline;

  beforeAll(() => {
    pipeline = createPipeline({
      redisUrl: redisUrl(),
      prefix,
      config: loadConfig({}, { pipeline: { redisFrameBudgetBytes: 10_000, chunkTtlSeconds: 60 } }).pipeline,
    });
  });

  afterAll(async () => {
    await pipeline.close();
    await cleanup();
  });

  it('whole-frame adapter: one face per frame, box = the frame, no detector score', async () => {
    const seen: ImageInput[] = [];
    const classifier: ImageClassifier = {
      name: 'fake',
      labels: ['a', 'b'],
      executionProvider: 'cpu',
      classify: async (image: ImageInput): Promise<Classification> => {
        seen.push(image);
        return { probabilities: [0.25, 0.75], label: 'b', labelIndex: 1 };
      },
      close: async () => undefined,
    };
    const analyzer = new WholeFrameAnalyzer(classifier);
    const frame: RgbImage = { data: new Uint8Array(6 * 4 * 3), width: 6, height: 4 };
    expect(await analyzer.analyze(frame)).toEqual({
      faces: [
        {
          probabilities: [0.25, 0.75],
          label: 'b',
          labelIndex: 1,
          box: { x: 0, y: 0, width: 6, height: 4 },
          detectorScore: null,
        },
      ],
    });
    expect(seen[0]).toBe(frame);
    expect(analyzer.info).toMatchObject({ name: 'fake', labels: ['a', 'b'], detector: null });
  });

  it("whole-frame adapter with reuse: an unchanged frame reuses the classification its run's end confirms, and not one it disproves", async () => {
    // Uniform frames all look the same to the gate; the classifier says "dark" or "light" by their grey.
    let calls = 0;
    const classifier: ImageClassifier = {
      name: 'grey',
      labels: ['dark', 'light'],
      executionProvider: 'cpu',
      classify: async (image: ImageInput): Promise<Classification> => {
        calls++;
        const light = (image as RgbImage).data[0]! >= 128;
        return { probabilities: light ? [0, 1] : [1, 0], label: light ? 'light' : 'dark', labelIndex: light ? 1 : 0 };
      },
      close: async () => undefined,
    };
    const analyzer = new WholeFrameAnalyzer(classifier, { maxReuse: 8, threshold: 0.01, minIou: 0.5 });
    const grey = (v: number): RgbImage => ({ data: new Uint8Array(8 * 8 * 3).fill(v), width: 8, height: 8 });
    const faces = async (frames: RgbImage[]) =>
      (await analyzer.analyzeSequence(frames)).map((o) => (o.status === 'fulfilled' ? o.value.faces[0]! : null));

    const same = await faces([grey(100), grey(100), grey(100)]);
    // The run is open when the sequence ends, so its last frame is classified and confirms the one between.
    expect(same.map((f) => f?.reused === true)).toEqual([false, true, false]);
    expect(calls).toBe(2);

    calls = 0;
    const turned = await faces([grey(100), grey(100), grey(100), grey(200), grey(200)]);
    // The last frame says "light", not the run's "dark": the run is bisected. Its middle frame (2)
    // says "dark", so frame 1 (between two darks) keeps frame 0's; frame 3 (between dark and light)
    // is classified itself. Every frame has the label classifying it would give.
    expect(turned.map((f) => f?.label)).toEqual(['dark', 'dark', 'dark', 'light', 'light']);
    expect(turned.map((f) => f?.reused === true)).toEqual([false, true, false, false, false]);
    expect(calls).toBe(4);

    // Through a chunk: each processed frame tells the observer how many of its faces were reused.
    await handMadeVideo(pipeline, 'reusing', 4);
    const job = await putChunk(pipeline, 'reusing', 0, 4);
    const reusedPerFrame: number[] = [];
    const observer: PipelineObserver = { frameProcessed: (e) => reusedPerFrame.push(e.reusedFaces ?? -1) };
    expect(
      await processFrameChunk(pipeline, job, { finalAttempt: false, enqueuedAt: Date.now() }, { analyzer, observer }),
    ).toEqual({ complete: true, failedFrames: 0 });
    expect(reusedPerFrame).toEqual([0, 1, 1, 0]);
  });

  it('a chunk that expired unread: its frames are recorded as failed, the video completes, the budget is given back', async () => {
    await handMadeVideo(pipeline, 'expired', 3);
    const job = await putChunk(pipeline, 'expired', 0, 3);
    await pipeline.redis.del(job.chunkKey); // as if its TTL ran out
    const failures: string[] = [];
    const observer: PipelineObserver = { frameFailed: (e) => failures.push(e.reason) };
    const outcome = await processFrameChunk(
      pipeline,
      job,
      { finalAttempt: false, enqueuedAt: Date.now() },
      { analyzer: new CostFreeAnalyzer(), observer },
    );
    expect(outcome).toEqual({ complete: true, failedFrames: 3 });
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatch(/no longer in Redis .*FER_CHUNK_TTL_SECONDS/);
    expect((await getVideoStatus(pipeline, 'expired'))!.progress).toMatchObject({ framesDone: 3, framesFailed: 3 });
    expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
  });

  it('the budget is atomic, and reconciliation frees chunks that expired without any worker', async () => {
    const a = await putChunk(pipeline, 'budget', 0, 100, 4); // 4,800 bytes
    await putChunk(pipeline, 'budget', 1, 100, 4); // 9,600 held
    expect((await reserveChunk(pipeline, pipeline.keys.chunk('budget', 2), 4800, 100)).reserved).toBe(false);
    // Reserving the same chunk again (a producer retrying the video) does not count it twice.
    expect(await reserveChunk(pipeline, a.chunkKey, 4800, 100)).toMatchObject({
      reserved: true,
      held: { bytes: 9600, frames: 200 },
    });
    await pipeline.redis.del(a.chunkKey);
    // Young reservations are left alone (they may be written any moment)…
    expect(await reconcileHeld(pipeline)).toBe(0);
    // …old ones whose value is gone are released.
    await pipeline.redis.hset(pipeline.keys.chunkShards[0]!.heldChunks, a.chunkKey, `4800:100:${Date.now() - 60_000}`);
    expect(await reconcileHeld(pipeline)).toBe(1);
    expect(await heldFrames(pipeline)).toEqual({ bytes: 4800, frames: 100 });
  });

  it('graceful close: jobs in flight finish and their results are stored before close() resolves', async () => {
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = new CostFreeAnalyzer();
    let closed = false;
    const slow: FrameAnalyzer = {
      info: inner.info,
      async analyze(frame: RgbImage): Promise<FrameAnalysis> {
        started += 1;
        await gate;
        return inner.analyze(frame);
      },
      async close() {
        closed = true;
        await inner.close();
      },
    };
    await pipeline.redis.del(
      pipeline.keys.chunkShards[0]!.heldChunks,
      pipeline.keys.chunkShards[0]!.heldBytes,
      pipeline.keys.chunkShards[0]!.heldFrames,
    );
    await handMadeVideo(pipeline, 'graceful', 2);
    const job = await putChunk(pipeline, 'graceful', 0, 2);
    const worker = startWorker(pipeline, { analyzer: slow, concurrency: 2, finalize: false });
    await pipeline.queues.frames.add('chunk', job, { jobId: 'graceful-0' });
    while (started < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = worker.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false); // still waiting for the job in flight
    release();
    await closing;
    expect(closed).toBe(true);
    expect((await getVideoStatus(pipeline, 'graceful'))!.progress.framesDone).toBe(2);
    expect(await pipeline.redis.exists(job.chunkKey)).toBe(0);
    await updateVideo(pipeline, 'graceful', { state: 'completed' });
  });
});
