// The frame worker: consumes chunk jobs from the `frames` queue, runs the injected FrameAnalyzer
// on every frame of the chunk (all at once, so frames of concurrent jobs — and of different
// videos — fill the same inference batches), stores the frame results and releases the chunk in
// one atomic step, and aggregates videos whose frames are all done (the `finalize` queue).
// Inference runs in worker threads behind the analyzer, so the event loop stays free to renew
// BullMQ's job locks.

import { Worker, type Job } from 'bullmq';
import { frameSignature } from '../core/colour-signature.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { FrameAnalyzer, FrameResult, RgbImage } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import {
  describeJobFailure,
  enqueueFinalize,
  QUEUE_NAMES,
  readChunk,
  recordChunkFailed,
  recordFrameResults,
  releaseChunkBuffer,
  startRecovery,
  type FinalizeJobData,
  type FrameJobData,
  type Pipeline,
} from '../pipeline/index.ts';
import { reportQueueError, startHeartbeat } from '../pipeline/index.ts';
import { INFERENCE_ABANDONED } from '../inference/backend/index.ts';
import { finalizeVideo, type FinalizeOptions } from './aggregator.ts';
import { tagFrame } from './frame-origin.ts';
import { startWebhookDelivery } from './webhooks.ts';

export interface WorkerOptions {
  readonly analyzer: FrameAnalyzer;
  readonly observer?: PipelineObserver;
  readonly logger?: Logger;
  /** Chunk jobs worked on at once; default FER_WORKER_CONCURRENCY. */
  readonly concurrency?: number;
  /** Also run aggregation jobs (default true). */
  readonly finalize?: boolean;
  readonly finalizeOptions?: Omit<FinalizeOptions, 'observer' | 'logger'>;
  /** Run the recovery sweep in this process (default true; one process sweeps at a time). */
  readonly recovery?: boolean;
}

export interface WorkerHandle {
  /** Chunk jobs finished by this worker (completed or recorded as failed). */
  readonly chunksDone: number;
  /**
   * Graceful stop: takes no new jobs, lets the jobs in flight finish (or, with `force`, returns
   * them to the queue through BullMQ's stalled-job check), then closes the analyzer.
   */
  close(force?: boolean): Promise<void>;
}

/** Processes one chunk job; exported for tests that drive it without a queue. */
export async function processFrameChunk(
  pipeline: Pipeline,
  data: FrameJobData,
  attempt: { finalAttempt: boolean; enqueuedAt: number },
  options: WorkerOptions,
): Promise<{ complete: boolean; failedFrames: number }> {
  const started = Date.now();
  const state = await pipeline.redis.hget(pipeline.keys.video(data.videoId), 'state');
  if (state === null || state === 'completed' || state === 'failed') {
    // Finished (failed, or complete through a retry elsewhere) or gone: nothing to analyse, only the chunk to release.
    await recordFrameResults(pipeline, data.videoId, [], { releaseChunk: data.chunkKey });
    return { complete: false, failedFrames: 0 };
  }
  const chunk = await readChunk(pipeline, data.chunkKey);
  try {
    return await analyzeAndRecord(pipeline, data, chunk, attempt, options, started);
  } finally {
    // The analyzer is done with every frame of the chunk (FrameAnalyzer implementations must not
    // keep a frame after analyze() settles): its buffer serves the next chunk.
    if (chunk !== null) releaseChunkBuffer(pipeline, chunk);
  }
}

async function analyzeAndRecord(
  pipeline: Pipeline,
  data: FrameJobData,
  chunk: Buffer | null,
  attempt: { finalAttempt: boolean; enqueuedAt: number },
  options: WorkerOptions,
  started: number,
): Promise<{ complete: boolean; failedFrames: number }> {
  const { analyzer, observer } = options;
  const count = data.timestamps.length;
  let results: FrameResult[];
  let retryError: Error | undefined;
  if (chunk === null) {
    // Gone: expired before any worker took it (FER_CHUNK_TTL_SECONDS). Record the frames as
    // failed rather than leave the video waiting for them.
    const error = `frame data was no longer in Redis (chunk expired after FER_CHUNK_TTL_SECONDS=${pipeline.config.chunkTtlSeconds} s or was removed)`;
    results = data.timestamps.map((timestamp, i) => ({ index: data.firstIndex + i, timestamp, faces: [], error }));
  } else {
    const frameBytes = data.width * data.height * 3;
    if (chunk.length !== frameBytes * count)
      throw new Error(`chunk ${data.chunkKey} holds ${chunk.length} bytes, expected ${count} frames × ${frameBytes}`);
    const images = data.timestamps.map((_, i) => {
      const image: RgbImage = {
        data: chunk.subarray(i * frameBytes, (i + 1) * frameBytes),
        width: data.width,
        height: data.height,
      };
      tagFrame(image, { videoId: data.videoId, index: data.firstIndex + i });
      return image;
    });
    // The chunk's frames are consecutive frames of one video: an analyser may carry work over between them.
    const settled = analyzer.analyzeSequence
      ? await analyzer.analyzeSequence(images)
      : await Promise.allSettled(images.map((image) => analyzer.analyze(image)));
    results = [];
    settled.forEach((outcome, i) => {
      const index = data.firstIndex + i;
      const timestamp = data.timestamps[i]!;
      // The frame's colour signature travels with its result: aggregation finds scene cuts from consecutive ones.
      const signature = frameSignature({
        data: chunk.subarray(i * frameBytes, (i + 1) * frameBytes),
        width: data.width,
        height: data.height,
      });
      if (outcome.status === 'fulfilled') results.push({ index, timestamp, faces: outcome.value.faces, signature });
      else {
        const reason = outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
        retryError ??= reason;
        // Before the last attempt a failed frame is retried (its chunk stays); after it, recorded.
        if (attempt.finalAttempt) results.push({ index, timestamp, faces: [], error: reason.message });
      }
    });
  }
  const release = retryError === undefined || attempt.finalAttempt;
  // A missing chunk may also mean another attempt analysed and released it already: its results stand.
  const outcome = await recordFrameResults(pipeline, data.videoId, results, {
    ...(release ? { releaseChunk: data.chunkKey } : {}),
    model: analyzer.info,
    onlyMissing: chunk === null,
  });
  const now = Date.now();
  let failedFrames = 0;
  for (const r of results) {
    if (r.error !== undefined) {
      failedFrames += 1;
      observer?.frameFailed?.({ reason: r.error });
    } else {
      observer?.frameProcessed?.({
        faces: r.faces.length,
        reusedFaces: r.faces.filter((f) => f.reused).length,
        queueWaitMs: Math.max(0, started - attempt.enqueuedAt),
        endToEndMs: Math.max(0, now - data.producedAt),
      });
    }
  }
  if (outcome.complete) await enqueueFinalize(pipeline, data.videoId);
  if (!release)
    throw new Error(`${count - results.length} of ${count} frames failed, will retry: ${retryError!.message}`, {
      cause: retryError,
    });
  return { complete: outcome.complete, failedFrames };
}

/** Starts consuming frame (and aggregation) jobs. */
export function startWorker(pipeline: Pipeline, options: WorkerOptions): WorkerHandle {
  const log = options.logger;
  let chunksDone = 0;
  const frames = new Worker<FrameJobData>(
    QUEUE_NAMES.frames,
    async (job: Job<FrameJobData>) => {
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log?.debug({ videoId: job.data.videoId, jobId: job.id, attempt: job.attemptsMade + 1 }, 'chunk started');
      const result = await processFrameChunk(pipeline, job.data, { finalAttempt, enqueuedAt: job.timestamp }, options);
      chunksDone += 1;
      return result;
    },
    { ...pipeline.workerOptions(), concurrency: options.concurrency ?? pipeline.config.workerConcurrency },
  );
  frames.on('failed', (job, error) => {
    if (!job) return;
    // Failed for good — retries used up, or stalled too often (BullMQ then fails it with attempts
    // left) — or to be retried? The job's state says, whatever the cause. For good: its frames
    // not yet recorded are recorded as failed, so the video completes instead of waiting forever
    // (the recovery sweep does the same should this process die first).
    void job
      .getState()
      .then(async (state) => {
        const final = state === 'failed';
        // A process being interrupted or stopped (abandonQueuedInference) fails its chunks on purpose: not a warning.
        const abandoned = error.cause instanceof FerError && error.cause.code === INFERENCE_ABANDONED;
        log?.[abandoned ? 'debug' : 'warn'](
          { videoId: job.data.videoId, jobId: job.id, attempt: job.attemptsMade, final, reason: error.message },
          final ? 'frame job failed for good' : 'frame job failed, will retry',
        );
        if (final) await recordChunkFailed(pipeline, job.data, describeJobFailure(error.message, pipeline));
      })
      .catch((err: unknown) =>
        log?.warn(
          { videoId: job.data.videoId, reason: (err as Error).message },
          'could not record failed frames now; the recovery sweep will',
        ),
      );
  });
  frames.on('error', (error) => reportQueueError(log, 'frames', error));

  const finalizer =
    options.finalize === false
      ? undefined
      : new Worker<FinalizeJobData>(
          QUEUE_NAMES.finalize,
          async (job: Job<FinalizeJobData>) => {
            const result = await finalizeVideo(pipeline, job.data.videoId, {
              ...options.finalizeOptions,
              ...(options.observer ? { observer: options.observer } : {}),
              ...(log ? { logger: log } : {}),
            });
            return { stored: result !== null };
          },
          { ...pipeline.workerOptions(), concurrency: pipeline.config.finalizeConcurrency },
        );
  finalizer?.on('error', (error) => reportQueueError(log, 'finalize', error));
  finalizer?.on('failed', (job, error) => log?.error({ videoId: job?.data.videoId, err: error }, 'aggregation failed'));

  // Webhooks go out from the processes that finish videos.
  const webhooks = options.finalize === false ? undefined : startWebhookDelivery(pipeline, log, options.observer);
  const recovery = options.recovery === false ? undefined : startRecovery(pipeline, log);
  // Seen by the API, `status` and the metrics (src/pipeline/heartbeats.ts).
  const heartbeat = startHeartbeat(pipeline, 'worker');
  let closing: Promise<void> | undefined;
  return {
    get chunksDone() {
      return chunksDone;
    },
    close(force = false) {
      closing ??= (async () => {
        await recovery?.stop();
        await heartbeat.stop();
        await Promise.all([frames.close(force), finalizer?.close(force), webhooks?.close(force)]);
        await options.analyzer.close();
      })();
      return closing;
    },
  };
}
