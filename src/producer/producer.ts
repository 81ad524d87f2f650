// The producer: takes videos off the `videos` queue, probes and validates each one, streams its
// sampled frames, packs them into chunks (one Redis value each, under the frame budget) and
// enqueues one frame job per chunk. Bad input fails only that video, with a specific message.

import { Worker, type Job } from 'bullmq';
import { FerError } from '../core/types.ts';
import { hwaccelFor, resolveHwaccel } from './hwaccel.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import {
  awaitAcceptance,
  describeJobFailure,
  doneFrameIndexes,
  enqueueFinalize,
  failVideo,
  getVideoStatus,
  loadVideoRecord,
  markVideoProduced,
  PENDING_JOB_STATES,
  QUEUE_NAMES,
  reportQueueError,
  reserveChunkWhenRoom,
  shardFrameBudget,
  startRecovery,
  updateVideo,
  writeChunk,
  type FrameJobData,
  type Pipeline,
  type VideoJobData,
} from '../pipeline/index.ts';
import { expectedFrameCount, extractFrameChunks, workingSize, type FrameChunk } from './frames.ts';
import { probeVideo } from './probe.ts';

export interface ProducerOptions {
  readonly observer?: PipelineObserver;
  readonly logger?: Logger;
  /** Run the recovery sweep in this process (default true; one process sweeps at a time). */
  readonly recovery?: boolean;
}

/** BullMQ's largest job priority. */
const MAX_PRIORITY = 2_097_152;

export interface ProduceOutcome {
  readonly state: 'processing' | 'failed' | 'skipped';
  readonly framesTotal: number;
}

/** Splits one submitted video into frame chunks. Safe to run again for the same video (chunks and results are keyed by index). */
export async function produceVideo(pipeline: Pipeline, videoId: string, options: ProducerOptions = {}): Promise<ProduceOutcome> {
  const log = options.logger?.child({ videoId });
  // Submitted with a deadline (the API) and never confirmed in time: it was refused, never run it.
  if (!(await awaitAcceptance(pipeline, videoId, await loadVideoRecord(pipeline, videoId)))) return { state: 'skipped', framesTotal: 0 };
  const status = await getVideoStatus(pipeline, videoId);
  if (status === null || status.state === 'completed' || status.state === 'failed') return { state: 'skipped', framesTotal: 0 };
  // Run again after its producer died (or lost Redis): chunks whose frames are all done are not sent again.
  const resumed = status.state !== 'queued';
  const done = resumed ? await doneFrameIndexes(pipeline, videoId) : new Set<number>();
  const fail = async (error: { code: string; message: string }) => {
    if (await failVideo(pipeline, videoId, error)) {
      options.observer?.videoFailed?.({ reason: error.code });
      log?.warn({ code: error.code }, `video failed: ${error.message}`);
    }
    return { state: 'failed' as const, framesTotal: 0 };
  };

  // Every state change is conditional: another run of this job (after a lost lock) or a worker
  // may have finished the video meanwhile, and then this run stops.
  const skipped = { state: 'skipped' as const, framesTotal: 0 };
  if (!(await updateVideo(pipeline, videoId, { state: 'probing', ...(status.startedAt ? {} : { startedAt: new Date().toISOString() }) }))) return skipped;
  const config = pipeline.config;
  let probe;
  try {
    probe = await probeVideo(status.path, config, status.name);
  } catch (error) {
    if (error instanceof FerError) return fail(error);
    throw error;
  }
  const sampling = {
    fps: status.options.fps,
    maxSide: status.options.maxSide,
    startSeconds: status.options.startSeconds,
    ...(status.options.endSeconds !== null ? { endSeconds: status.options.endSeconds } : {}),
    ...(status.options.maxFrames ? { maxFrames: status.options.maxFrames } : {}),
  };
  if (probe.durationSeconds !== null && sampling.startSeconds >= probe.durationSeconds) {
    return fail({ code: 'invalid_option', message: `start time ${sampling.startSeconds} s is past the end of the video (${probe.durationSeconds} s)` });
  }
  const size = workingSize(probe, sampling.maxSide);
  const frameBytes = size.width * size.height * 3;
  // A chunk must fit its shard's budget on its own, or the producer would wait forever.
  const budget = shardFrameBudget(pipeline);
  const chunkFrames = Math.min(config.chunkFrames, Math.floor(budget / frameBytes));
  if (chunkFrames < 1) {
    const shards = pipeline.keys.chunkShards.length;
    return fail({
      code: 'frame_budget_too_small',
      message: `one ${size.width}x${size.height} frame is ${frameBytes} bytes, more than the Redis frame budget of ${budget} bytes (FER_REDIS_FRAME_BUDGET_BYTES${shards > 1 ? ` / ${shards} chunk shards` : ''}); lower the working resolution`,
    });
  }
  const opened = await updateVideo(pipeline, videoId, {
    state: 'producing',
    probe: JSON.stringify({ ...probe, frameWidth: size.width, frameHeight: size.height }),
    ...(probe.durationSeconds !== null ? { framesExpected: expectedFrameCount(probe.durationSeconds, sampling) } : {}),
  });
  if (!opened) return skipped;
  // The GPU's decoder where the machine has one and it decodes this codec (hwaccel.ts), else software.
  const hwaccel = await hwaccelFor(await resolveHwaccel(config.decodeHwaccel), status.path, probe.videoCodec, config.allowedContainers, options.logger);
  log?.info({ probe, frame: size, chunkFrames, hwaccel: hwaccel ?? 'none' }, 'producing frames');

  let total = 0;
  let sequence = 0;
  let chunksSkipped = 0;
  /** The video was finished (or failed) by someone else meanwhile: stop decoding. */
  let closed = false;
  const flush = async (chunk: FrameChunk) => {
    const chunkKey = pipeline.keys.chunk(videoId, sequence);
    // Resumed: a chunk whose frames are all done, or whose job is still queued or running (its
    // chunk was written before the job was added), is not sent again.
    if (resumed && (chunk.timestamps.every((_, i) => done.has(chunk.firstIndex + i)) || PENDING_JOB_STATES.has(await pipeline.queues.frames.getJobState(`${videoId}-${sequence}`)))) {
      chunk.release();
      chunksSkipped += 1;
      sequence += 1;
      return;
    }
    await reserveChunkWhenRoom(pipeline, chunkKey, chunk.data.length, chunk.frames, { onHeld: (held) => options.observer?.framesHeld?.(held) });
    await writeChunk(pipeline, chunkKey, chunk.data);
    // Redis has replied to the SET, so the socket no longer holds the buffer: the decoder may refill it.
    chunk.release();
    const data: FrameJobData = { videoId, chunkKey, firstIndex: chunk.firstIndex, width: size.width, height: size.height, timestamps: chunk.timestamps, producedAt: Date.now() };
    await pipeline.queues.frames.add('chunk', data, {
      jobId: `${videoId}-${sequence}`,
      // Fairness: the n-th chunk of every video comes before the (n+1)-th of any, so a short video
      // submitted beside a long one is not queued behind all of the long one's chunks.
      priority: Math.min(MAX_PRIORITY, sequence + 1),
      attempts: config.frameAttempts,
      backoff: { type: 'exponential', delay: config.retryBackoffMs },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
    // Also the video's progress for the recovery sweep (updateVideo records it).
    if (!(await updateVideo(pipeline, videoId, { framesProduced: chunk.firstIndex + chunk.frames }))) closed = true;
    sequence += 1;
  };

  // ffmpeg fills the next chunk while the previous one goes to Redis: one flush in flight, in
  // order (sequence numbers and framesProduced only grow), two chunk buffers in rotation.
  let inFlight: Promise<void> = Promise.resolve();
  let decodeErrors = 0;
  const decoding = {
    ...sampling,
    framesPerChunk: chunkFrames,
    firstChunkFrames: config.firstChunkFrames,
    buffers: 2,
    decodeThreads: config.decodeThreads,
    hwaccel,
    allowedContainers: config.allowedContainers,
    idleTimeoutMs: config.decodeIdleTimeoutMs,
    onDecodeError: () => {
      decodeErrors += 1;
    },
  };
  try {
    for await (const chunk of extractFrameChunks(status.path, probe, decoding)) {
      await inFlight;
      if (closed) {
        chunk.release();
        break;
      }
      total += chunk.frames;
      inFlight = flush(chunk).finally(() => chunk.release());
      // Rejections are awaited on the next turn or after the loop; keep them from counting as unhandled meanwhile.
      inFlight.catch(() => undefined);
    }
    await inFlight;
  } catch (error) {
    await inFlight.catch(() => undefined);
    if (error instanceof FerError) return fail(error);
    throw error;
  }
  if (closed) {
    log?.info('the video was finished elsewhere while this run produced it: stopped');
    return skipped;
  }
  if (total === 0) return fail({ code: 'no_frames', message: 'ffmpeg decoded no frames from this video at the requested sampling (empty or unreadable video stream)' });
  if (decodeErrors > 0) {
    await updateVideo(pipeline, videoId, { decodeErrors });
    log?.warn({ decodeErrors }, 'ffmpeg reported damage in the video stream (frames concealed or dropped)');
  }
  log?.info({ frames: total, chunks: sequence, ...(resumed ? { resumed: true, chunksAlreadyDone: chunksSkipped } : {}) }, 'all frames enqueued');
  if (await markVideoProduced(pipeline, videoId, total, sequence)) await enqueueFinalize(pipeline, videoId);
  return { state: 'processing', framesTotal: total };
}

export interface ProducerHandle {
  /** Stops taking videos; with `force` false, finishes the videos in progress first. */
  close(force?: boolean): Promise<void>;
}

/** Runs a producer: consumes the `videos` queue with FER_PRODUCER_CONCURRENCY videos at a time. */
export function startProducer(pipeline: Pipeline, options: ProducerOptions = {}): ProducerHandle {
  const worker = new Worker<VideoJobData>(
    QUEUE_NAMES.videos,
    async (job: Job<VideoJobData>) => {
      options.observer?.videoSubmitted?.();
      return produceVideo(pipeline, job.data.videoId, options);
    },
    { ...pipeline.workerOptions(), concurrency: pipeline.config.producerConcurrency },
  );
  worker.on('failed', (job, error) => {
    if (!job) return;
    // For good (retries used up, or its producers died too often) or to be retried: the job's state says.
    void job
      .getState()
      .then(async (state) => {
        options.logger?.warn({ videoId: job.data.videoId, jobId: job.id, final: state === 'failed', reason: error.message }, 'video job failed');
        if (state !== 'failed') return;
        const message = `splitting the video into frames failed: ${describeJobFailure(error.message, pipeline)}`;
        if (await failVideo(pipeline, job.data.videoId, { code: 'producer_failed', message })) options.observer?.videoFailed?.({ reason: 'producer_failed' });
      })
      .catch((err: unknown) => options.logger?.warn({ videoId: job.data.videoId, reason: (err as Error).message }, 'could not fail the video now; the recovery sweep will'));
  });
  worker.on('error', (error) => reportQueueError(options.logger, 'videos', error));
  const recovery = options.recovery === false ? undefined : startRecovery(pipeline, options.logger);
  return {
    async close(force = false) {
      await recovery?.stop();
      await worker.close(force);
    },
  };
}
