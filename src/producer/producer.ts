// The producer: takes videos off the `videos` queue, probes and validates each one, streams its
// sampled frames, packs them into chunks (one Redis value each, under the frame budget) and
// enqueues one frame job per chunk. Bad input fails only that video, with a specific message.

import { Worker, type Job } from 'bullmq';
import { FerError } from '../core/types.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import {
  enqueueFinalize,
  failVideo,
  getVideoStatus,
  markVideoProduced,
  QUEUE_NAMES,
  reserveChunkWhenRoom,
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
}

export interface ProduceOutcome {
  readonly state: 'processing' | 'failed' | 'skipped';
  readonly framesTotal: number;
}

/** Splits one submitted video into frame chunks. Safe to run again for the same video (chunks and results are keyed by index). */
export async function produceVideo(pipeline: Pipeline, videoId: string, options: ProducerOptions = {}): Promise<ProduceOutcome> {
  const log = options.logger?.child({ videoId });
  const status = await getVideoStatus(pipeline, videoId);
  if (status === null || status.state === 'completed' || status.state === 'failed') return { state: 'skipped', framesTotal: 0 };
  const fail = async (error: { code: string; message: string }) => {
    if (await failVideo(pipeline, videoId, error)) {
      options.observer?.videoFailed?.({ reason: error.code });
      log?.warn({ code: error.code }, `video failed: ${error.message}`);
    }
    return { state: 'failed' as const, framesTotal: 0 };
  };

  await updateVideo(pipeline, videoId, { state: 'probing', startedAt: new Date().toISOString() });
  const config = pipeline.config;
  let probe;
  try {
    probe = await probeVideo(status.path, config);
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
  // A chunk must fit the budget on its own, or the producer would wait forever.
  const chunkFrames = Math.min(config.chunkFrames, Math.floor(config.redisFrameBudgetBytes / frameBytes));
  if (chunkFrames < 1) {
    return fail({
      code: 'frame_budget_too_small',
      message: `one ${size.width}x${size.height} frame is ${frameBytes} bytes, more than the Redis frame budget of ${config.redisFrameBudgetBytes} bytes (FER_REDIS_FRAME_BUDGET_BYTES); lower the working resolution`,
    });
  }
  await updateVideo(pipeline, videoId, {
    state: 'producing',
    probe: JSON.stringify({ ...probe, frameWidth: size.width, frameHeight: size.height }),
    ...(probe.durationSeconds !== null ? { framesExpected: expectedFrameCount(probe.durationSeconds, sampling) } : {}),
  });
  log?.info({ probe, frame: size, chunkFrames }, 'producing frames');

  let total = 0;
  let sequence = 0;
  const flush = async (chunk: FrameChunk) => {
    const chunkKey = pipeline.keys.chunk(videoId, sequence);
    await reserveChunkWhenRoom(pipeline, chunkKey, chunk.data.length, chunk.frames, { onHeld: (held) => options.observer?.framesHeld?.(held) });
    await writeChunk(pipeline, chunkKey, chunk.data);
    // Redis has replied to the SET, so the socket no longer holds the buffer: the decoder may refill it.
    chunk.release();
    const data: FrameJobData = { videoId, chunkKey, firstIndex: chunk.firstIndex, width: size.width, height: size.height, timestamps: chunk.timestamps, producedAt: Date.now() };
    await pipeline.queues.frames.add('chunk', data, {
      jobId: `${videoId}-${sequence}`,
      attempts: config.frameAttempts,
      backoff: { type: 'exponential', delay: config.retryBackoffMs },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
    await updateVideo(pipeline, videoId, { framesProduced: chunk.firstIndex + chunk.frames });
    sequence += 1;
  };

  // ffmpeg fills the next chunk while the previous one goes to Redis: one flush in flight, in
  // order (sequence numbers and framesProduced only grow), two chunk buffers in rotation.
  let inFlight: Promise<void> = Promise.resolve();
  try {
    for await (const chunk of extractFrameChunks(status.path, probe, { ...sampling, framesPerChunk: chunkFrames, buffers: 2, decodeThreads: config.decodeThreads })) {
      await inFlight;
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
  if (total === 0) return fail({ code: 'no_frames', message: 'ffmpeg decoded no frames from this video at the requested sampling (empty or unreadable video stream)' });
  log?.info({ frames: total, chunks: sequence }, 'all frames enqueued');
  if (await markVideoProduced(pipeline, videoId, total)) await enqueueFinalize(pipeline, videoId);
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
    { ...pipeline.workerOptions(), concurrency: pipeline.config.producerConcurrency, lockDuration: 60_000 },
  );
  worker.on('failed', (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      void failVideo(pipeline, job.data.videoId, { code: 'producer_failed', message: `splitting the video into frames failed: ${error.message}` }).then((failed) => {
        if (failed) options.observer?.videoFailed?.({ reason: 'producer_failed' });
      });
    }
    options.logger?.error({ videoId: job?.data.videoId, jobId: job?.id, err: error }, 'video job failed');
  });
  worker.on('error', (error) => options.logger?.error({ err: error }, 'producer queue error'));
  return {
    async close(force = false) {
      await worker.close(force);
    },
  };
}
