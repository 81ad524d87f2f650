// Videos split into segments that producers decode side by side (the plan is made by the
// producer, src/producer/segments.ts): the plan on the video record, one `videos` queue job per
// segment, and the count that moves the video to processing once every segment is enqueued.

import type { Pipeline } from './context.ts';
import { retryAcrossOutage } from './frame-store.ts';
import { PENDING_JOB_STATES, PRODUCER_JOB_OPTIONS } from './job-states.ts';

/** One segment of a video's sampled frames. */
export interface Segment {
  /** 0-based position among the video's segments. */
  readonly index: number;
  /** Index (among the video's sampled frames) of the segment's first frame. */
  readonly firstIndex: number;
  /** Frames the segment owns; null for the last one, which runs to the end of the sampling. */
  readonly frames: number | null;
}

/** Job id of one segment's producer job (the video's own job has the video id). */
export function segmentJobId(videoId: string, segment: number): string {
  return `${videoId}-segment-${segment}`;
}

/** The segment plan stored on a video record, or null for a video produced in one piece. */
export function segmentPlanOf(record: Record<string, string>): Segment[] | null {
  return record.segmentPlan ? (JSON.parse(record.segmentPlan) as Segment[]) : null;
}

/** Segments of the plan whose frames are not all enqueued yet. */
export function unfinishedSegments(record: Record<string, string>, plan: readonly Segment[]): Segment[] {
  return plan.filter((segment) => record[`segmentFrames:${segment.index}`] === undefined);
}

/** Enqueues the producer job of each given segment (a job already there is kept: asking twice runs it once). */
export async function addSegmentJobs(pipeline: Pipeline, videoId: string, segments: readonly Segment[]): Promise<void> {
  const jobs = segments.map((segment) => ({
    name: 'segment',
    data: { videoId, segment: segment.index },
    opts: { jobId: segmentJobId(videoId, segment.index), ...PRODUCER_JOB_OPTIONS },
  }));
  await retryAcrossOutage(pipeline, 'queueing the segments', () => pipeline.queues.videos.addBulk(jobs));
}

/** Notes that a segment's production begins; true when it had begun before (a rerun after its producer died). */
export async function beginSegment(pipeline: Pipeline, videoId: string, segment: number): Promise<boolean> {
  // Repeated after a lost reply it says "begun before": the segment is then resumed, which is safe.
  return (
    (await retryAcrossOutage(pipeline, 'starting a segment', () =>
      pipeline.redis.hsetnx(pipeline.keys.video(videoId), `segmentStarted:${segment}`, Date.now()),
    )) === 0
  );
}

/**
 * A segment has enqueued its `frames` frames. Returns true when that was the last segment and
 * every frame of the video is already done (ready to aggregate).
 */
export async function markSegmentProduced(
  pipeline: Pipeline,
  videoId: string,
  segment: number,
  segments: number,
  frames: number,
): Promise<boolean> {
  const k = pipeline.keys;
  return (
    Number(
      await retryAcrossOutage(pipeline, 'marking a segment produced', () =>
        pipeline.redis.markSegmentProduced(k.video(videoId), k.videoFrames(videoId), segment, segments, frames),
      ),
    ) === 1
  );
}

/** Frames enqueued so far over every segment (each segment records its own progress). */
export function segmentsProduced(record: Record<string, string>): number {
  let produced = 0;
  for (const [field, value] of Object.entries(record))
    if (field.startsWith('segmentProduced:')) produced += Number(value);
  return produced;
}

/** Whether a producer job of the video (its own, or one of its unfinished segments') is queued or running. */
export async function producerJobPending(
  pipeline: Pipeline,
  videoId: string,
  record: Record<string, string>,
): Promise<boolean> {
  const plan = segmentPlanOf(record);
  const ids = [videoId, ...(plan ? unfinishedSegments(record, plan).map((s) => segmentJobId(videoId, s.index)) : [])];
  const states = await Promise.all(ids.map((id) => pipeline.queues.videos.getJobState(id)));
  return states.some((state) => PENDING_JOB_STATES.has(state));
}
