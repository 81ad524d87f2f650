// Recovery: every way a job can end for good ends its video's wait. A chunk job that failed for
// good (retries exhausted, stalled too often, an unexpected error) has its frames not yet recorded
// stored as failed with the reason, and its chunk and budget released; a producer or aggregation
// job that failed for good fails its video with the reason. A periodic sweep (one process at a
// time, under a Redis lock) backs up the workers' own failure handlers, which a crash can skip:
// it resolves failed jobs, gives back frame-budget leases whose chunk was never written, and
// finds videos without progress for FER_VIDEO_STALL_SECONDS (requeued, or their lost frames
// recorded as failed).

import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { FrameResult } from '../core/types.ts';
import type { FrameJobData, Pipeline } from './context.ts';
import { redisErrorReason } from './connection-watch.ts';
import { reconcileHeld } from './frame-store.ts';
import { addVideoJob, awaitAcceptance, storedVideoOptions } from './videos.ts';
import {
  doneFrameIndexes,
  enqueueFinalize,
  failVideo,
  recordFrameResults,
  touchVideo,
  type RecordFramesOutcome,
} from './video-progress.ts';
import { heldChunkJobIds, pruneVideoIndex } from './manage.ts';
import { PENDING_JOB_STATES } from './job-states.ts';
import { producerJobPending } from './segments.ts';
import { sampledFrameTime } from '../core/sampling-geometry.ts';

/** BullMQ's reason for a job found stalled more often than maxStalledCount allows. */
const STALL_LIMIT_REASON = 'job stalled more than allowable limit';

/** A failed job's reason in words a user of the result understands. */
export function describeJobFailure(reason: string | undefined, pipeline: Pipeline): string {
  if (reason === STALL_LIMIT_REASON) {
    return `the process working on it stopped (killed or unresponsive) more than FER_MAX_STALLED_COUNT=${pipeline.config.maxStalledCount} times in a row`;
  }
  return reason || 'no reason recorded';
}

/**
 * A chunk job ended for good: records its frames that have no result yet as failed with `reason`,
 * releases the chunk and its budget, and enqueues the video's aggregation when that was the last
 * frame. Idempotent (results already stored, successes included, are kept).
 */
export async function recordChunkFailed(
  pipeline: Pipeline,
  data: FrameJobData,
  reason: string,
): Promise<RecordFramesOutcome> {
  const results: FrameResult[] = data.timestamps.map((timestamp, i) => ({
    index: data.firstIndex + i,
    timestamp,
    faces: [],
    error: `frame job failed: ${reason}`,
  }));
  const outcome = await recordFrameResults(pipeline, data.videoId, results, {
    releaseChunk: data.chunkKey,
    onlyMissing: true,
  });
  if (outcome.complete) await enqueueFinalize(pipeline, data.videoId);
  return outcome;
}

export interface RecoveryReport {
  /** Chunk jobs that had failed for good and were resolved (frames recorded, chunk released). */
  readonly chunksResolved: number;
  /** Producer and aggregation jobs that had failed for good (their videos failed with the reason). */
  readonly videoJobsResolved: number;
  /** Frame-budget reservations given back (chunk never written or expired). */
  readonly leasesReleased: number;
  /** Videos without progress that were put back on the producers' queue. */
  readonly videosRequeued: number;
  /** Videos without progress whose lost frames were recorded as failed, or that were failed. */
  readonly videosResolved: number;
  /** Index entries of videos whose records expired (past the results' retention) removed. */
  readonly indexPruned: number;
}

export interface RecoveryLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** One sweep, when no other process is sweeping; null when another one holds the lock. */
export async function sweepOnce(pipeline: Pipeline, log?: RecoveryLog): Promise<RecoveryReport | null> {
  const { redis, keys, config, queues } = pipeline;
  const token = randomUUID();
  const lockMs = Math.max(1000, Math.round(config.recoveryIntervalMs * 0.9));
  if ((await redis.set(keys.recoveryLock, token, 'PX', lockMs, 'NX')) !== 'OK') return null;
  const report = {
    chunksResolved: 0,
    videoJobsResolved: 0,
    leasesReleased: 0,
    videosRequeued: 0,
    videosResolved: 0,
    indexPruned: 0,
  };

  for (const job of await failedJobs(queues.frames)) {
    const reason = describeJobFailure(job.failedReason, pipeline);
    await recordChunkFailed(pipeline, job.data, reason);
    await job.remove().catch(() => undefined);
    report.chunksResolved += 1;
    log?.warn(
      { videoId: job.data.videoId, jobId: job.id, reason },
      'frame job failed for good: its missing frames are recorded as failed',
    );
  }
  for (const job of await failedJobs(queues.videos)) {
    const reason = describeJobFailure(job.failedReason, pipeline);
    if (
      await failVideo(pipeline, job.data.videoId, {
        code: 'producer_failed',
        message: `splitting the video into frames failed: ${reason}`,
      })
    ) {
      log?.warn({ videoId: job.data.videoId, reason }, 'video failed: its producer job failed for good');
    }
    await job.remove().catch(() => undefined);
    report.videoJobsResolved += 1;
  }
  for (const job of await failedJobs(queues.finalize)) {
    const reason = describeJobFailure(job.failedReason, pipeline);
    if (
      await failVideo(pipeline, job.data.videoId, {
        code: 'aggregation_failed',
        message: `building the result failed: ${reason}`,
      })
    ) {
      log?.warn({ videoId: job.data.videoId, reason }, 'video failed: its aggregation failed for good');
    }
    await job.remove().catch(() => undefined);
    report.videoJobsResolved += 1;
  }
  report.leasesReleased = await reconcileHeld(pipeline);
  // Index entries of records past the results' retention.
  report.indexPruned = await pruneVideoIndex(pipeline);
  if (report.leasesReleased > 0)
    log?.info(
      { released: report.leasesReleased },
      'frame budget: gave back reservations whose chunk was never written or expired',
    );

  const stalledBefore = Date.now() - config.videoStallSeconds * 1000;
  const stuck = await redis.zrangebyscore(keys.activeVideos, '-inf', stalledBefore, 'LIMIT', 0, 100);
  for (const videoId of stuck) {
    const outcome = await resolveStuckVideo(pipeline, videoId, log);
    if (outcome === 'requeued') report.videosRequeued += 1;
    if (outcome === 'resolved') report.videosResolved += 1;
  }
  return report;
}

async function failedJobs<T>(queue: {
  getFailed(start: number, end: number): Promise<Array<Job<T> | undefined>>;
}): Promise<Array<Job<T>>> {
  return (await queue.getFailed(0, 99)).filter((job): job is Job<T> => job !== undefined && job !== null);
}

export { PENDING_JOB_STATES } from './job-states.ts';

/** A video with no progress for FER_VIDEO_STALL_SECONDS: still being worked on, or lost work to redo or record. */
async function resolveStuckVideo(
  pipeline: Pipeline,
  videoId: string,
  log?: RecoveryLog,
): Promise<'waiting' | 'requeued' | 'resolved' | 'gone'> {
  const record = await pipeline.redis.hgetall(pipeline.keys.video(videoId));
  // A submission its caller gave up on (never confirmed): deleted, never run.
  if (record.state && !(await awaitAcceptance(pipeline, videoId, record, false))) return 'gone';
  if (!record.state || record.state === 'completed' || record.state === 'failed') {
    await pipeline.redis.zrem(pipeline.keys.activeVideos, videoId);
    return 'gone';
  }
  if (record.state !== 'processing') {
    // Not split yet: a producer job (the video's or one of its segments') that is queued or running
    // (its lock alive) is just waiting its turn.
    if (await producerJobPending(pipeline, videoId, record)) {
      await touchVideo(pipeline, videoId);
      return 'waiting';
    }
    const requeues = await pipeline.redis.hincrby(pipeline.keys.video(videoId), 'requeues', 1);
    if (requeues > pipeline.config.videoRequeues) {
      await failVideo(pipeline, videoId, {
        code: 'video_stalled',
        message: `no producer finished splitting this video into frames (requeued ${requeues - 1} times, FER_VIDEO_REQUEUES)`,
      });
      log?.warn({ videoId }, 'video failed: it made no progress after being requeued');
      return 'resolved';
    }
    // Its own job again: for a video split into segments, it enqueues the unfinished segments again.
    await pipeline.queues.videos.remove(videoId).catch(() => undefined);
    await addVideoJob(pipeline, videoId);
    await touchVideo(pipeline, videoId);
    log?.warn({ videoId, state: record.state, requeues }, 'video made no progress and had no producer job: requeued');
    return 'requeued';
  }
  // Every frame enqueued: if no chunk job of the video is left to run, the frames still missing are
  // lost. A chunk job still to run has its chunk held (released only once its results are stored).
  const ids = await heldChunkJobIds(pipeline, videoId);
  for (let i = 0; i < ids.length; i += 100) {
    const states = await Promise.all(ids.slice(i, i + 100).map((id) => pipeline.queues.frames.getJobState(id)));
    if (states.some((s) => PENDING_JOB_STATES.has(s))) {
      await touchVideo(pipeline, videoId);
      return 'waiting';
    }
  }
  const total = Number(record.framesTotal ?? 0);
  const options = storedVideoOptions(record);
  const done = await doneFrameIndexes(pipeline, videoId);
  const lost: FrameResult[] = [];
  for (let index = 0; index < total; index++) {
    if (!done.has(index))
      lost.push({
        index,
        timestamp: sampledFrameTime(index, options),
        faces: [],
        error: 'frame lost: no job was left to analyse it (recovered by the sweep)',
      });
  }
  const outcome = await recordFrameResults(pipeline, videoId, lost, { onlyMissing: true });
  if (outcome.complete || lost.length === 0) await enqueueFinalize(pipeline, videoId);
  await touchVideo(pipeline, videoId);
  log?.warn(
    { videoId, lost: lost.length },
    'video made no progress with no frame job left: lost frames recorded as failed',
  );
  return 'resolved';
}

export interface RecoveryHandle {
  /** Runs a sweep now (tests, and after a reconnect); resolves when it has run or was skipped. */
  sweep(): Promise<RecoveryReport | null>;
  stop(): Promise<void>;
}

/** Runs the sweep every FER_RECOVERY_INTERVAL_MS in this process (workers and producers start it). */
export function startRecovery(pipeline: Pipeline, log?: RecoveryLog): RecoveryHandle {
  let running: Promise<RecoveryReport | null> | undefined;
  let lastError: string | undefined;
  const sweep = () => {
    running ??= sweepOnce(pipeline, log)
      .then((report) => {
        lastError = undefined;
        return report;
      })
      .catch((error: unknown) => {
        // Redis down: one line per outage, the connection watcher says the rest.
        const reason = redisErrorReason(error);
        if (reason !== lastError) log?.warn({ reason }, 'recovery sweep failed; retrying at the next interval');
        lastError = reason;
        return null;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), pipeline.config.recoveryIntervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
