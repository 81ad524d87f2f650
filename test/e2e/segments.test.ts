import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  getVideoStatus,
  segmentPlanOf,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { CliProcesses, logLines, type CliChild } from '../helpers/cli-processes.ts';
import { describeWithRedisServer, OwnRedis } from '../helpers/redis-server.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Segment-parallel production with real producer processes, ffmpeg and Redis: a long video split at
// keyframes, its segments taken by two producers side by side, each producer kill -9ed in the
// middle of a segment once, and still every frame index once, nothing counted twice, the frame
// budget back to 0 — with a short video beside it that is not split.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-segments-e2e-'));
const prefix = 'fer-segments';
let redis: OwnRedis | undefined;
let pipeline: Pipeline | undefined;
let processes: CliProcesses;
const FRAME_BYTES = 96 * 72 * 3;

beforeAll(() => {
  // H.264 with B-frames and a keyframe every 2 s: 60 s at 4 frames/s = 240 frames, ≈ 6 segments of 10 s.
  generateTestVideo(path.join(dir, 'long.mp4'), {
    seconds: 60,
    width: 96,
    height: 72,
    extra: ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-g', '50', '-pix_fmt', 'yuv420p'],
  });
  generateTestVideo(path.join(dir, 'short.mp4'), { seconds: 5, width: 96, height: 72 });
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && processes)
    console.error(`[segments] process output of the failed test: ${processes.dump(context.task.name)}`);
  await processes?.stopAll();
  await pipeline?.close().catch(() => undefined);
  pipeline = undefined;
  await redis?.stop();
  redis = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The segment a producer is in the middle of (began, some frames enqueued, not finished), if any. */
async function segmentUnderWay(p: Pipeline, videoId: string, producer: CliChild): Promise<number | undefined> {
  const record = await p.redis.hgetall(p.keys.video(videoId));
  const begun = logLines(producer)
    .filter((line) => typeof line.segment === 'number' && line.msg?.startsWith('producing segment'))
    .map((line) => line.segment as number);
  const current = begun.at(-1);
  if (current === undefined || record[`segmentFrames:${current}`] !== undefined) return undefined;
  return Number(record[`segmentProduced:${current}`] ?? 0) >= 8 ? current : undefined;
}

describeWithRedisServer('segment-parallel production', () => {
  it('two producers share a long video by segments; each kill -9ed mid-segment once; every index once, the budget back to 0', async () => {
    redis = await OwnRedis.start();
    const p = (pipeline = createPipeline({
      redisUrl: redis.url,
      prefix,
      config: loadConfig({}, { pipeline: { chunkFrames: 4 } }).pipeline,
    }));
    processes = new CliProcesses(100);
    const env = {
      ...process.env,
      REDIS_URL: redis.url,
      FER_REDIS_PREFIX: prefix,
      FER_METRICS_ENABLED: '0',
      CI: 'true',
      LOG_LEVEL: 'info',
      FER_LOG_FORMAT: 'json',
      FER_SEGMENT_SECONDS: '10',
      FER_PRODUCER_CONCURRENCY: '1',
      FER_CHUNK_FRAMES: '4',
      // Three chunks in Redis at most: the producers wait on the (slowed) worker, so a kill lands mid-segment.
      FER_REDIS_FRAME_BUDGET_BYTES: String(FRAME_BYTES * 4 * 3),
      FER_LOCK_DURATION_MS: '2000',
      FER_STALLED_INTERVAL_MS: '1000',
      FER_FRAME_LEASE_SECONDS: '2',
      FER_RECOVERY_INTERVAL_MS: '1000',
    };
    processes.start('worker', ['worker', '--analyzer', 'cost-free', '--batch-delay-ms', '60'], env);
    const first = processes.start('producer-1', ['producer'], env);
    const second = processes.start('producer-2', ['producer'], env);
    const { videoId } = await submitVideo(p, { path: path.join(dir, 'long.mp4'), options: { fps: 4 } });
    const short = await submitVideo(p, { path: path.join(dir, 'short.mp4'), options: { fps: 4 } });
    // The same long video sampled every 5 s: decoded by seeking to each sample (FER_DECODE_SEEK_SECONDS).
    const sparse = await submitVideo(p, { path: path.join(dir, 'long.mp4'), options: { fps: 0.2 } });

    const killedSegments: number[] = [];
    for (const producer of [first, second]) {
      const segment = await processes.until(
        `${producer.name} to be mid-segment`,
        () => segmentUnderWay(p, videoId, producer),
        90_000,
      );
      await processes.kill(producer);
      // Its segment's job is taken again (by the other producer, or the one started now) once its lock lapses.
      processes.start(`${producer.name}-again`, ['producer'], env);
      killedSegments.push(segment);
    }

    await waitForVideos(p, [videoId, short.videoId, sparse.videoId], { timeoutMs: 120_000 });
    expect(
      await expectExactAccounting(p, [
        { videoId, frames: 240 },
        { videoId: short.videoId, frames: 20 },
        { videoId: sparse.videoId, frames: 12 },
      ]),
    ).toEqual({ analysed: 272, failed: 0 });
    // Every run for the sparse video (the whole video, then each of its segments) seeked; the dense one did not.
    const runs = processes.children
      .flatMap((child) => logLines(child))
      .filter((line) => line.msg === 'producing frames' || line.msg?.startsWith('producing segment'));
    const ways = (id: string) => new Set(runs.filter((line) => line.videoId === id).map((line) => line.decode));
    expect(ways(sparse.videoId)).toEqual(new Set(['seek']));
    expect(ways(videoId)).toEqual(new Set(['every frame']));
    const record = await p.redis.hgetall(p.keys.video(videoId));
    const plan = segmentPlanOf(record)!;
    expect(plan.length).toBeGreaterThanOrEqual(5);
    expect(segmentPlanOf(await p.redis.hgetall(p.keys.video(short.videoId)))).toBeNull();
    // Both producers took segments before they were killed.
    for (const producer of [first, second])
      expect(logLines(producer).some((line) => line.msg?.startsWith('producing segment'))).toBe(true);
    // Each killed segment was run again from where it stood (its done chunks not sent again).
    const resumed = processes.children
      .flatMap((child) => logLines(child))
      .filter((line) => line.resumed === true && line.msg?.startsWith('producing segment'));
    expect(new Set(resumed.map((line) => line.segment))).toEqual(new Set(killedSegments));
    expect((await getVideoStatus(p, videoId))!.progress).toMatchObject({
      framesProduced: 240,
      framesTotal: 240,
      framesDone: 240,
      framesFailed: 0,
    });
  });
});
