// Sends the sampled frames of a video (or of one of its segments) to the workers: each chunk is
// reserved under the frame budget, written to Redis and enqueued as one frame job. Shared by the
// producer of a whole video and of a segment; safe to run again (chunks and jobs are keyed by the
// index of their first frame's segment and position, results by frame index).

import type { PipelineObserver } from '../core/observer.ts';
import {
  doneFrameIndexes,
  PENDING_JOB_STATES,
  releaseChunk,
  reserveChunkWhenRoom,
  retryAcrossOutage,
  updateVideo,
  writeChunk,
  type FrameJobData,
  type Pipeline,
  type Segment,
} from '../pipeline/index.ts';
import { extractFrameChunks, type FrameChunk, type SamplingOptions } from './frames.ts';
import type { VideoProbe } from './probe.ts';

/** BullMQ's largest job priority. */
const MAX_PRIORITY = 2_097_152;

export interface SendFramesInput {
  readonly videoId: string;
  readonly path: string;
  readonly probe: VideoProbe;
  readonly size: { readonly width: number; readonly height: number };
  readonly sampling: SamplingOptions;
  /** Frames per chunk (fits the shard's budget). */
  readonly chunkFrames: number;
  /** The segment to send (absent: the whole video). */
  readonly segment?: Segment;
  /** Run again after a producer died: chunks whose frames are done or whose job is pending are not sent again. */
  readonly resumed: boolean;
  /** ffmpeg -hwaccel method, or null for software decoding. */
  readonly hwaccel: string | null;
  readonly observer?: PipelineObserver;
}

export interface SendFramesOutcome {
  /** Frames decoded and sent (or already sent by an earlier run). */
  readonly frames: number;
  readonly chunks: number;
  readonly chunksSkipped: number;
  /** Damage lines ffmpeg reported. */
  readonly decodeErrors: number;
  /** The video was finished (or failed) elsewhere meanwhile: decoding stopped early. */
  readonly closed: boolean;
}

/** Decodes and sends the frames; FerErrors of decoding (bad input) are thrown for the caller to fail the video with. */
export async function sendFrames(pipeline: Pipeline, input: SendFramesInput): Promise<SendFramesOutcome> {
  const { videoId, size, segment } = input;
  const config = pipeline.config;
  const firstIndex = segment?.firstIndex ?? 0;
  const done = input.resumed ? await doneFrameIndexes(pipeline, videoId) : new Set<number>();
  // Chunk numbers are the segment's first frame index plus the chunk's position in it: unique
  // across segments (a segment has at least as many frames as chunks), 0, 1, 2… for a whole video.
  let position = 0;
  let total = 0;
  let chunksSkipped = 0;
  let closed = false;
  const progressField = segment ? `segmentProduced:${segment.index}` : 'framesProduced';
  const flush = async (chunk: FrameChunk) => {
    const sequence = firstIndex + position;
    const jobId = `${videoId}-${sequence}`;
    const chunkKey = pipeline.keys.chunk(videoId, sequence);
    // Resumed: a chunk whose frames are all done, or whose job is still queued or running (its
    // chunk was written before the job was added), is not sent again.
    if (
      input.resumed &&
      (chunk.timestamps.every((_, i) => done.has(chunk.firstIndex + i)) ||
        PENDING_JOB_STATES.has(await pipeline.queues.frames.getJobState(jobId)))
    ) {
      chunk.release();
      chunksSkipped += 1;
      position += 1;
      return;
    }
    await reserveChunkWhenRoom(pipeline, chunkKey, chunk.data.length, chunk.frames, {
      onHeld: (held) => input.observer?.framesHeld?.(held),
    });
    await writeChunk(pipeline, chunkKey, chunk.data);
    // Redis has replied to the SET, so the socket no longer holds the buffer: the decoder may refill it.
    chunk.release();
    const data: FrameJobData = {
      videoId,
      chunkKey,
      firstIndex: chunk.firstIndex,
      width: size.width,
      height: size.height,
      timestamps: chunk.timestamps,
      producedAt: Date.now(),
    };
    // A job id added twice is one job: safe to repeat after a refused write.
    await retryAcrossOutage(pipeline, 'queueing a frame chunk', () =>
      pipeline.queues.frames.add('chunk', data, {
        jobId,
        // Fairness: the n-th chunk of every video comes before the (n+1)-th of any, so a short video
        // submitted beside a long one is not queued behind all of the long one's chunks (a segment's
        // chunks rank by where they lie in the whole video).
        priority: Math.min(MAX_PRIORITY, Math.floor(firstIndex / input.chunkFrames) + position + 1),
        attempts: config.frameAttempts,
        backoff: { type: 'exponential', delay: config.retryBackoffMs },
        removeOnComplete: true,
        removeOnFail: 1000,
      }),
    );
    // Also the video's progress for the recovery sweep (updateVideo records it).
    if (!(await updateVideo(pipeline, videoId, { [progressField]: chunk.firstIndex + chunk.frames - firstIndex }))) {
      closed = true;
      // The video ended (cancelled or deleted) while this chunk was on its way: take the chunk back,
      // or its job and bytes would outlive the video. A job a worker already took is the worker's
      // to finish and release.
      if ((await pipeline.queues.frames.remove(jobId).catch(() => 0)) === 1) await releaseChunk(pipeline, chunkKey);
    }
    position += 1;
  };

  // ffmpeg fills the next chunk while the previous one goes to Redis: one flush in flight, in
  // order (chunk numbers and progress only grow), two chunk buffers in rotation.
  let inFlight: Promise<void> = Promise.resolve();
  let decodeErrors = 0;
  const decoding = {
    ...input.sampling,
    ...(segment ? { segment: { firstIndex: segment.firstIndex, frames: segment.frames } } : {}),
    framesPerChunk: input.chunkFrames,
    // A small first chunk reaches a worker sooner; only the video's start needs it.
    firstChunkFrames: firstIndex === 0 ? config.firstChunkFrames : input.chunkFrames,
    buffers: 2,
    decodeThreads: config.decodeThreads,
    seekIntervalSeconds: config.decodeSeekSeconds,
    hwaccel: input.hwaccel,
    allowedContainers: config.allowedContainers,
    idleTimeoutMs: config.decodeIdleTimeoutMs,
    onDecodeError: () => {
      decodeErrors += 1;
    },
  };
  try {
    for await (const chunk of extractFrameChunks(input.path, input.probe, decoding)) {
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
    throw error;
  }
  return { frames: total, chunks: position, chunksSkipped, decodeErrors, closed };
}
