// Segment-parallel production: a long video is split at keyframes into segments that producers
// decode side by side, each its own job on the `videos` queue. Sampling stays the one grid of the
// whole video (frame n at start + n / fps): a segment owns the frame indexes [firstIndex,
// firstIndex + frames) and decodes from the keyframe just before its first frame, so no frame is
// missed or doubled at a boundary and at most one sampling interval is decoded twice.

import type { Segment } from '../pipeline/index.ts';
import { expectedFrameCount } from '../core/sampling-geometry.ts';

export interface SegmentPlanInput {
  /** Sampling span: from startSeconds to endSeconds (the video's end when absent). */
  readonly durationSeconds: number;
  readonly startSeconds: number;
  readonly endSeconds?: number;
  readonly fps: number;
  /** Most frames sampled (0 or absent: no limit). */
  readonly maxFrames?: number;
  /** Keyframe times in seconds from the start of the video, ascending. */
  readonly keyframes: readonly number[];
  /** Aimed-for length of a segment (s); 0 turns splitting off. */
  readonly segmentSeconds: number;
}

/**
 * Splits the sampling into segments of about `segmentSeconds`, each starting at a keyframe: a
 * boundary is put one sampling interval after the first sampled time at or past the keyframe,
 * because a segment decodes from one interval before its first frame (see extractFrameChunks'
 * `segment`) and that point must not fall before the keyframe, or ffmpeg would decode the whole
 * previous group of pictures again. One segment (the whole video) when it is not longer than
 * `segmentSeconds` or has no usable keyframe.
 */
export function planSegments(input: SegmentPlanInput): Segment[] {
  const { fps, startSeconds } = input;
  const total = expectedFrameCount(input.durationSeconds, input);
  const whole: Segment[] = [{ index: 0, firstIndex: 0, frames: null }];
  if (!(input.segmentSeconds > 0) || total / fps <= input.segmentSeconds) return whole;
  const boundaries: number[] = [];
  let last = 0;
  for (const keyframe of input.keyframes) {
    const relative = keyframe - startSeconds;
    if (relative <= 0) continue;
    const boundary = Math.ceil(relative * fps - 1e-9) + 1;
    // Each segment at least segmentSeconds long; the last one at least half that (else it joins the one before).
    if ((boundary - last) / fps < input.segmentSeconds || (total - boundary) / fps < input.segmentSeconds / 2) continue;
    boundaries.push(boundary);
    last = boundary;
  }
  if (boundaries.length === 0) return whole;
  const starts = [0, ...boundaries];
  return starts.map((firstIndex, index) => ({
    index,
    firstIndex,
    frames: index + 1 < starts.length ? starts[index + 1]! - firstIndex : null,
  }));
}
