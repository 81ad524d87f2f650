// Aggregation of a finished video: loads its frame results and record, builds the per-video
// result with src/results, stores it for the retention TTL and marks the video completed.

import type { PipelineObserver } from '../core/observer.ts';
import type { ModelInfo } from '../core/types.ts';
import type { Logger } from '../core/logger.ts';
import {
  decodeErrorsOf,
  loadFrameResults,
  loadVideoRecord,
  storeVideoResult,
  type Pipeline,
  storedVideoOptions,
} from '../pipeline/index.ts';
import { boxesInVideoPixels, buildVideoResult, type VideoResult } from '../results/index.ts';
import { decodeStoredProbe } from '../core/sampling-geometry.ts';

export interface FinalizeOptions {
  readonly observer?: PipelineObserver;
  readonly logger?: Logger;
  /** Links faces across frames (the faces tracker); whole-frame mode needs none. */
  readonly assignTracks?: Parameters<typeof buildVideoResult>[0]['assignTracks'];
  readonly smoothingWindow?: number;
  /** Scene-cut threshold (FER_CUT_THRESHOLD); absent: no cut detection. */
  readonly cutThreshold?: number;
}

/** Builds and stores a video's result. Idempotent: a video already completed is left as is (returns null). */
export async function finalizeVideo(
  pipeline: Pipeline,
  videoId: string,
  options: FinalizeOptions = {},
): Promise<VideoResult | null> {
  const record = await loadVideoRecord(pipeline, videoId);
  if (record.state !== 'processing') return null;
  const processingOptions = storedVideoOptions(record);
  const probe = record.probe ? decodeStoredProbe(record.probe) : {};
  // Boxes were found on working-resolution frames; results give them in the video's displayed pixels.
  const frames = boxesInVideoPixels(await loadFrameResults(pipeline, videoId), probe, processingOptions.maxSide);
  const model: ModelInfo = record.model
    ? (JSON.parse(record.model) as ModelInfo)
    : // Every frame failed before any analyzer reported itself: no model to name.
      { name: 'unknown', labels: ['unknown'], preprocessing: {} };
  const completedAt = new Date();
  const startedAt = record.startedAt ? new Date(record.startedAt) : null;
  const result = buildVideoResult({
    videoId,
    frames,
    video: { name: record.name, ...probe },
    model,
    processing: { ...processingOptions },
    timings: {
      submittedAt: record.submittedAt,
      ...(record.startedAt ? { startedAt: record.startedAt } : {}),
      completedAt: completedAt.toISOString(),
      processingMs: startedAt ? completedAt.getTime() - startedAt.getTime() : null,
    },
    aggregation: {
      frameInterval: 1 / processingOptions.fps,
      ...(options.smoothingWindow ? { smoothingWindow: options.smoothingWindow } : {}),
    },
    ...(options.assignTracks ? { assignTracks: options.assignTracks } : {}),
    decodeErrors: decodeErrorsOf(record),
    ...(options.cutThreshold !== undefined ? { cutThreshold: options.cutThreshold } : {}),
  });
  if (!(await storeVideoResult(pipeline, videoId, result, completedAt))) return null;
  const submittedAt = record.submittedAt ? new Date(record.submittedAt).getTime() : completedAt.getTime();
  options.observer?.videoCompleted?.({ durationMs: completedAt.getTime() - submittedAt, frames: frames.length });
  options.logger?.info({ videoId, frames: frames.length, failed: result.counts.failed }, 'video completed');
  return result;
}
