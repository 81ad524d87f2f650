// Segment-parallel production: a long video is split at keyframes into segments that producers
// decode side by side, each its own job on the `videos` queue. Sampling stays the one grid of the
// whole video (frame n at start + n / fps): a segment owns the frame indexes [firstIndex,
// firstIndex + frames) and decodes from the keyframe just before its first frame, so no frame is
// missed or doubled at a boundary and at most one sampling interval is decoded twice.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_ALLOWED_CONTAINERS } from '../config/pipeline.ts';
import type { Segment } from '../pipeline/index.ts';
import { mediaBinaries } from './binaries.ts';
import { expectedFrameCount } from '../core/sampling-geometry.ts';
import { safeInput, safeInputOptions } from './media-safety.ts';

const run = promisify(execFile);

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

/**
 * Keyframe times of a video's first video stream, in seconds from the video's start (its
 * container start time subtracted). Read from packet flags: ffprobe demuxes only, no decoding
 * (an hour of 1080p H.264 in about a second here).
 */
export async function listKeyframes(
  file: string,
  options: { startTime: number; allowedContainers?: readonly string[]; timeoutMs?: number },
): Promise<number[]> {
  const args = [
    ...safeInputOptions(options.allowedContainers ?? DEFAULT_ALLOWED_CONTAINERS),
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,flags',
    '-of',
    'csv=p=0',
    safeInput(file),
  ];
  const { stdout } = await run(mediaBinaries().ffprobe, args, {
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs ?? 60_000,
  });
  const times: number[] = [];
  for (const line of stdout.split('\n')) {
    const [pts, flags] = line.split(',');
    if (!flags?.startsWith('K') || pts === undefined || pts === 'N/A') continue;
    const time = Number(pts) - options.startTime;
    if (Number.isFinite(time)) times.push(time);
  }
  return times.sort((a, b) => a - b);
}
