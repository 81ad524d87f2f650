// A video's record while it is worked on: progress and state updates, frame results recorded
// exactly once, failure, the end of production, the finalize job and the stored result. The
// producer, the worker and recovery write through these; videos.ts submits and reads.

import type { ErrorCode } from '../core/errors.ts';
import type { FrameResult, ModelInfo } from '../core/types.ts';
import type { Pipeline } from './context.ts';
import { releaseChunk, retryAcrossOutage } from './frame-store.ts';
import { enqueueWebhooks } from './webhooks.ts';

/** Records progress of an unfinished video now (the recovery sweep resolves videos without progress). */
export async function touchVideo(pipeline: Pipeline, videoId: string): Promise<void> {
  await pipeline.redis.touchVideo(pipeline.keys.activeVideos, pipeline.keys.video(videoId), videoId, Date.now());
}

/** Gives back every frame-budget reservation of a video and deletes its chunks, in every shard (it is finished). */
export async function releaseVideoChunks(pipeline: Pipeline, videoId: string): Promise<number> {
  const released = await Promise.all(
    pipeline.keys.chunkShards.map((s) =>
      pipeline.redis.releaseVideoChunks(s.heldChunks, s.heldBytes, s.heldFrames, s.chunkPrefix(videoId)),
    ),
  );
  return released.reduce<number>((sum, n) => sum + Number(n), 0);
}

/** Keys of the chunks of a video still counted as held, in every shard. */
export async function heldChunkKeys(pipeline: Pipeline, videoId: string): Promise<string[]> {
  const perShard = await Promise.all(
    pipeline.keys.chunkShards.map(async (shard) => {
      const prefix = shard.chunkPrefix(videoId);
      return (await pipeline.redis.hkeys(shard.heldChunks)).filter((key) => key.startsWith(prefix));
    }),
  );
  return perShard.flat();
}

/**
 * Updates fields of the video record (state transitions, probe, counts) while the video is open,
 * which also counts as progress for the recovery sweep.
 * Returns false, changing nothing, when it is already completed or failed (or gone): a producer
 * run again after losing its lock must stop, not move a finished video back.
 */
export async function updateVideo(
  pipeline: Pipeline,
  videoId: string,
  fields: Record<string, string | number>,
): Promise<boolean> {
  const k = pipeline.keys;
  // Waits through a full or unreachable Redis (the producer's writes must not fail the video): setting
  // the same fields again has the same effect, and a refused script changed nothing.
  const updated = await retryAcrossOutage(pipeline, 'updating the video record', () =>
    pipeline.redis.updateOpenVideo(
      k.video(videoId),
      k.activeVideos,
      videoId,
      Date.now(),
      ...Object.entries(fields).flat(),
    ),
  );
  return Number(updated) === 1;
}

/**
 * Marks a video failed with a specific reason and keeps the record for the retention TTL. Frame
 * results gathered so far are dropped. Returns false when the video was already finished.
 */
export async function failVideo(
  pipeline: Pipeline,
  videoId: string,
  error: { code: ErrorCode; message: string },
): Promise<boolean> {
  const key = pipeline.keys.video(videoId);
  const state = await pipeline.redis.hget(key, 'state');
  if (state === null || state === 'completed' || state === 'failed') return false;
  const ttl = pipeline.config.resultTtlSeconds;
  await pipeline.redis
    .multi()
    .hset(key, {
      state: 'failed',
      errorCode: error.code,
      errorMessage: error.message,
      completedAt: new Date().toISOString(),
    })
    .expire(key, ttl)
    .del(pipeline.keys.videoFrames(videoId))
    .zrem(pipeline.keys.activeVideos, videoId)
    .exec();
  // Its chunks still queued will find the video failed and only be released; give their bytes back now.
  await releaseVideoChunks(pipeline, videoId);
  await enqueueWebhooks(pipeline, videoId, 'video.failed');
  return true;
}

export interface RecordFramesOutcome {
  readonly framesDone: number;
  /** Every frame of the video is now stored: enqueue its aggregation. */
  readonly complete: boolean;
  /** False when the video's record is gone (expired or failed and dropped): results were discarded. */
  readonly videoExists: boolean;
}

/**
 * Stores frame results (HSET by frame index: storing a frame twice counts it once) and then, given
 * `releaseChunk`, deletes the chunk they came from and takes it out of the held budget — in that
 * order, so a chunk disappears only once its results are safe (a crash between the two leaves the
 * chunk held; the job's retry records the same frames again, counted once, and releases it).
 * `onlyMissing` keeps results already stored (recording failures after the fact must not
 * overwrite successes).
 */
export async function recordFrameResults(
  pipeline: Pipeline,
  videoId: string,
  results: readonly FrameResult[],
  options: { releaseChunk?: string; model?: ModelInfo; onlyMissing?: boolean },
): Promise<RecordFramesOutcome> {
  const k = pipeline.keys;
  const args: Array<string | number> = [
    options.model ? JSON.stringify(options.model) : '',
    options.onlyMissing ? '1' : '0',
    Date.now(),
    videoId,
  ];
  for (const r of results) args.push(r.index, JSON.stringify(r), r.error !== undefined ? '1' : '0');
  // Both idempotent, so a Redis that is full (or away) for a while is waited out rather than failing the job.
  const [done, complete, exists] = (await retryAcrossOutage(pipeline, 'storing frame results', () =>
    pipeline.redis.recordFrames(k.video(videoId), k.videoFrames(videoId), k.activeVideos, ...args),
  )) as [number, number, number];
  const chunk = options.releaseChunk;
  if (chunk !== undefined)
    await retryAcrossOutage(pipeline, 'releasing a frame chunk', () => releaseChunk(pipeline, chunk));
  return { framesDone: done, complete: complete === 1, videoExists: exists === 1 };
}

/**
 * The producer enqueued every frame (`framesTotal` of them, in `chunks` chunk jobs). Returns true when all are already
 * done.
 */
export async function markVideoProduced(
  pipeline: Pipeline,
  videoId: string,
  framesTotal: number,
  chunks: number,
): Promise<boolean> {
  return (
    (await retryAcrossOutage(pipeline, 'marking the video produced', () =>
      pipeline.redis.markProduced(
        pipeline.keys.video(videoId),
        pipeline.keys.videoFrames(videoId),
        framesTotal,
        chunks,
      ),
    )) === 1
  );
}

/** Indexes of the frames of a video whose results are stored. */
export async function doneFrameIndexes(pipeline: Pipeline, videoId: string): Promise<Set<number>> {
  return new Set((await pipeline.redis.hkeys(pipeline.keys.videoFrames(videoId))).map(Number));
}

/** Enqueues the aggregation of a video; the job id is the video id, so asking twice runs it once. */
export async function enqueueFinalize(pipeline: Pipeline, videoId: string): Promise<void> {
  // Adding a job whose id exists changes nothing, so a retry after a refused write is safe.
  await retryAcrossOutage(pipeline, 'queueing the aggregation', () =>
    pipeline.queues.finalize.add(
      'finalize',
      { videoId },
      {
        jobId: videoId,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    ),
  );
}

/** Every stored frame result of a video, by index. */
export async function loadFrameResults(pipeline: Pipeline, videoId: string): Promise<FrameResult[]> {
  const all = await pipeline.redis.hvals(pipeline.keys.videoFrames(videoId));
  return all.map((json) => JSON.parse(json) as FrameResult).sort((a, b) => a.index - b.index);
}

/** Raw fields of the video record (for the aggregator). */
export async function loadVideoRecord(pipeline: Pipeline, videoId: string): Promise<Record<string, string>> {
  return pipeline.redis.hgetall(pipeline.keys.video(videoId));
}

/**
 * Stores the per-video result for the retention TTL, marks the video completed, and drops the
 * per-frame hash (the result carries every frame). Returns false when it was already finished.
 */
export async function storeVideoResult(
  pipeline: Pipeline,
  videoId: string,
  result: unknown,
  completedAt: Date,
): Promise<boolean> {
  const key = pipeline.keys.video(videoId);
  const state = await pipeline.redis.hget(key, 'state');
  if (state !== 'processing') return false;
  const ttl = pipeline.config.resultTtlSeconds;
  await pipeline.redis
    .multi()
    .set(pipeline.keys.videoResult(videoId), JSON.stringify(result), 'EX', ttl)
    .hset(key, { state: 'completed', completedAt: completedAt.toISOString() })
    .expire(key, ttl)
    .del(pipeline.keys.videoFrames(videoId))
    .zrem(pipeline.keys.activeVideos, videoId)
    .exec();
  await releaseVideoChunks(pipeline, videoId);
  await enqueueWebhooks(pipeline, videoId, 'video.completed');
  return true;
}
