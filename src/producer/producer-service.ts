// The producer as a service: consumes the `videos` queue (whole videos and their segments), fails
// a video whose job failed for good, and runs the recovery sweep and the heartbeat beside it.

import { Worker, type Job } from 'bullmq';
import {
  describeJobFailure,
  failVideo,
  QUEUE_NAMES,
  reportQueueError,
  startHeartbeat,
  startRecovery,
  type Pipeline,
  type VideoJobData,
} from '../pipeline/index.ts';
import { produceSegment, produceVideo, type ProducerOptions } from './producer.ts';

export interface ProducerHandle {
  /** Stops taking videos; with `force` false, finishes the videos in progress first. */
  close(force?: boolean): Promise<void>;
}

/** Runs a producer: consumes the `videos` queue with FER_PRODUCER_CONCURRENCY videos at a time. */
export function startProducer(pipeline: Pipeline, options: ProducerOptions = {}): ProducerHandle {
  const worker = new Worker<VideoJobData>(
    QUEUE_NAMES.videos,
    async (job: Job<VideoJobData>) => {
      if (job.data.segment !== undefined) return produceSegment(pipeline, job.data.videoId, job.data.segment, options);
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
        options.logger?.warn(
          { videoId: job.data.videoId, jobId: job.id, final: state === 'failed', reason: error.message },
          'video job failed',
        );
        if (state !== 'failed') return;
        const message = `splitting the video into frames failed: ${describeJobFailure(error.message, pipeline)}`;
        if (await failVideo(pipeline, job.data.videoId, { code: 'producer_failed', message }))
          options.observer?.videoFailed?.({ reason: 'producer_failed' });
      })
      .catch((err: unknown) =>
        options.logger?.warn(
          { videoId: job.data.videoId, reason: (err as Error).message },
          'could not fail the video now; the recovery sweep will',
        ),
      );
  });
  worker.on('error', (error) => reportQueueError(options.logger, 'videos', error));
  const recovery = options.recovery === false ? undefined : startRecovery(pipeline, options.logger);
  // Seen by the API, `status` and the metrics (src/pipeline/heartbeats.ts).
  const heartbeat = startHeartbeat(pipeline, 'producer');
  return {
    async close(force = false) {
      await recovery?.stop();
      await heartbeat.stop();
      await worker.close(force);
    },
  };
}
